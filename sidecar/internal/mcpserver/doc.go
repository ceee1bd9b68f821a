// Package mcpserver is the MCP door of the sidecar: it serves every tool of the
// tool core (sidecar/internal/tools) with the official go-sdk, over stdio, over
// streamable HTTP on loopback (bearer token, Host and Origin checked), or over
// any reader/writer pair (the attach socket). Failed tool calls are results
// with isError and actionable text, never protocol errors.
package mcpserver
