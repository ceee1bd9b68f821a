// Package notebookmodel reads, queries and edits Jupyter notebooks (nbformat
// 4.0–4.5) without losing a byte: a notebook loaded and written back with no
// edit is identical to the input, and an edit rewrites only the JSON it must
// (gjson/sjson work on the original bytes instead of a decoded tree).
//
// The same code answers queries on an editor's live buffer through Snapshot and
// FromSnapshot, and builds for js/wasm so the VS Code extension can run it
// without the sidecar. It therefore imports only the standard library and
// gjson/sjson.
package notebookmodel
