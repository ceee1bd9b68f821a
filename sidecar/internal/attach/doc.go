// Package attach lets `mcp-jupyter mcp` share the kernels and live buffers of
// the extension's running sidecar: `serve` listens on a Unix socket in a
// private directory (0700) and registers it per workspace folder with a token
// file (0600); `mcp` finds the registration for its workspace, connects, sends
// the token, and from then on the socket carries plain MCP (newline-delimited
// JSON-RPC) that the sidecar serves with the same tool core.
package attach
