// Package protocol is the wire contract between the VS Code extension and the
// sidecar (`mcp-jupyter serve`): JSON-RPC 2.0 with Content-Length framing,
// camelCase fields, notebooks named by their absolute notebookPath.
//
// Go is the single source of the contract. Methods lists every method with
// its direction and parameter/result types; `go generate ./protocol/...`
// writes extension/src/protocol.gen.ts (interfaces, vscode-jsonrpc method
// objects, error codes, the protocol hash) and hash.gen.go, and a test fails
// when either is stale. The package holds no transport code.
package protocol

//go:generate go run ./internal/gen
