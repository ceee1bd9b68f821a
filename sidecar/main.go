package sidecar

import (
	"fmt"
	"io"
	"os"
)

// Version is set at build time with -ldflags "-X".
var Version = "0.0.0-dev"

// Main runs the command with args (without the program name) and returns the exit code.
func Main(args []string) int {
	return run(args, os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	switch args[0] {
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "mcp-jupyter %s\n", Version)
		return 0
	case "help", "--help", "-h":
		fmt.Fprintln(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "mcp-jupyter: unknown command %q\n\n%s\n", args[0], usage)
		return 2
	}
}

const usage = `usage: mcp-jupyter <command> [flags]

commands:
  serve      JSON-RPC sidecar for the VS Code extension (stdio)
  mcp        MCP server over stdio (attaches to the workspace's sidecar when one runs)
  version    print the version`
