// Package rpc is the extension's door: `mcp-jupyter serve` speaks JSON-RPC 2.0
// with Content-Length framing (sourcegraph/jsonrpc2 + VSCodeObjectCodec) over
// stdio. Requests run concurrently so a long one never blocks the connection;
// $/cancelRequest cancels the handler's context; execution outputs and states
// are pushed as notifications with a gap-free per-execution seq; and the tool
// core reaches the live editor through the editor/snapshot and
// editor/applyEdit reverse calls.
//
// sync/status is pushed, never polled: finished runs, kernel (re)starts and
// re-attaches, tool calls that change a notebook or its kernel (from any
// door, e.g. load_checkpoint) and every live buffer that comes by (a
// request's snapshot or an editor/snapshot answer; the extension sends no
// change events) mark a notebook as due. One goroutine checks due notebooks
// after a quiet delay against the open buffer (detect_sync_needed), waits while
// the notebook's kernel has runs queued or running, and sends only a status that
// differs from the last one sent. Runs a person starts (execution/run, origin
// human) are stamped in the open buffer like agent runs.
package rpc
