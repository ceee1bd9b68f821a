// Command mcp-jupyter is the sidecar binary: see package sidecar.
package main

import (
	"os"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar"
)

func main() {
	os.Exit(sidecar.Main(os.Args[1:]))
}
