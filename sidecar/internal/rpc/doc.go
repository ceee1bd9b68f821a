// Package rpc is the extension's door: `mcp-jupyter serve` speaks JSON-RPC 2.0
// with Content-Length framing (sourcegraph/jsonrpc2 + VSCodeObjectCodec) over
// stdio. Requests run concurrently so a long one never blocks the connection;
// $/cancelRequest cancels the handler's context; execution outputs and states
// are pushed as notifications with a gap-free per-execution seq; and the tool
// core reaches the live editor through the editor/snapshot and
// editor/applyEdit reverse calls.
package rpc
