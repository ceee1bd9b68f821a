// Command gen writes extension/src/protocol.gen.ts and protocol/hash.gen.go
// from the protocol package. Run it with `go generate ./protocol/...`.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mcp-jupyter/mcp-jupyter/protocol/internal/tsgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "protocol gen:", err)
		os.Exit(1)
	}
}

func run() error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := tsgen.RepoRoot(wd)
	if err != nil {
		return err
	}
	out, err := tsgen.Generate(root)
	if err != nil {
		return err
	}
	for path, data := range map[string][]byte{tsgen.TSPath: out.TS, tsgen.GoHashPath: out.Go} {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}
