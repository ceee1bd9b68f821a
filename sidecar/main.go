package sidecar

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X".
var Version = "0.0.0-dev"

// Main runs the command with args (without the program name) and returns the exit code.
// stdout belongs to the protocol (JSON-RPC or MCP frames): Main keeps the real
// stdout for them and points os.Stdout at stderr, so a stray print cannot
// corrupt the stream.
func Main(args []string) int {
	softMemoryLimit()
	stdout := os.Stdout
	os.Stdout = os.Stderr
	return run(args, os.Stdin, stdout, os.Stderr)
}

func run(args []string, stdin io.ReadCloser, stdout io.WriteCloser, stderr io.Writer) int {
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
	case "serve":
		return runServe(args[1:], stdin, stdout, stderr)
	case "mcp":
		return runMCP(args[1:], stdin, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "mcp-jupyter: unknown command %q\n\n%s\n", args[0], usage)
		return 2
	}
}

const usage = `usage: mcp-jupyter <command> [flags]

commands:
  serve      JSON-RPC sidecar for the VS Code extension (stdio); opens the attach
             socket for mcp and re-attaches kernels a crashed sidecar left
             flags: --no-attach, --runtime-dir DIR|none
  mcp        MCP server over stdio (attaches to the workspace's sidecar when one runs)
             flags: --standalone (headless, never attach), --http 127.0.0.1:PORT
             (streamable HTTP; token from $MCP_JUPYTER_TOKEN or generated), --workspace DIR
  version    print the version`

// softMemoryLimit makes the GC collect harder once the heap nears 192 MiB
// (unless GOMEMLIMIT says otherwise): a kernel flooding output sends large
// messages that are garbage as soon as they are counted, and by default the
// heap may grow to twice what is live before they are collected (bench L1).
// It is a target, never a failure: the heap may exceed it when that much is live.
func softMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(192 << 20)
	}
}
