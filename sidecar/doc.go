// Package sidecar holds the mcp-jupyter command line: it parses the subcommand
// (serve, mcp, version) and wires the feature packages under internal/ together.
package sidecar
