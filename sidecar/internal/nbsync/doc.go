// Package nbsync tells whether a kernel's state still matches its notebook and
// rebuilds it when it does not.
//
// The record is what the kernel ran (cell id, code, status, order) in its
// current lifetime, plus the `mcp-jupyter` stamps executed cells carry in
// their metadata (source hash, origin, kernel id), so the record survives a
// sidecar restart that re-attaches to a running kernel. Detect compares it
// with the notebook (live buffer or disk); Plan picks the cells to re-run for
// a strategy (incremental, full, smart: dirty cells and their dependents by a
// def/use analysis done with Python's ast in the kernel); Rebuild runs them in
// order and stops at the first error, naming the cell.
package nbsync
