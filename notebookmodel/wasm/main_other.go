//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// Natively there is nothing to run; this keeps `go build ./...` working.
func main() {
	fmt.Fprintln(os.Stderr, "notebookmodel/wasm: build with GOOS=js GOARCH=wasm (make wasm)")
	os.Exit(2)
}
