// Package checkpoint saves and restores a kernel's variables: signed,
// incremental, atomic checkpoints stored next to the notebook.
//
// Layout, under <notebook dir>/.mcp/checkpoints/:
//
//	blobs/<sha256>        one file per variable value, content-addressed and
//	                      immutable, shared by every checkpoint of the folder
//	blobs/tmp/            blobs being written (renamed into place once fsynced)
//	<name>/manifest.json  {"manifest": {...}, "hmac": "..."}
//
// The kernel writes the blobs itself (py/checkpoint.py, pickle protocol 5 with
// out-of-band buffers written from the arrays' own memory; dill only for what
// pickle cannot store), so no data crosses ZeroMQ. The sidecar writes the
// manifest: variables with type, size, serializer and blob digest, what could
// not be saved and why, the kernel's execution record, and signs it with
// HMAC-SHA256 under a per-user key kept outside the workspace (see KeyPath).
//
// Loading checks, in the sidecar, the signature and key id of the manifest and
// the presence and size of every blob; then the kernel reads each blob into
// memory while hashing it and compares the digest with the one from the
// verified manifest (passed in the call, never re-read from disk). Only when
// every blob matches is anything unpickled. Hashing in the kernel rather than
// in Go reads each byte once (the load is disk-bound) and closes the window in
// which a blob could be swapped between a Go-side check and the kernel's read.
// Large buffers sit page-aligned in the blob, so a blob that is not in the
// page cache is read with O_DIRECT straight into the arrays' final memory
// (no page-cache copy, no readahead: 64 MiB reads), each chunk hashed by a
// helper thread while the next one is read. A blob already in the page cache
// (probed with RWF_NOWAIT) is read through it.
//
// A save is atomic: blobs are renamed into the store only once complete and
// fsynced, and the manifest is replaced by a rename, so a kernel killed
// mid-save leaves the previous checkpoint of that name intact.
//
// A save is incremental: a variable keeps its previous blob, without being
// serialized again, unless a cell run since the last save or load (seen by a
// post_run_cell hook and an ast scan of the cell) named it, named another
// variable bound to the same object, named a container holding it or holding
// a member of it, named a numpy view of it, or called a notebook function
// whose code names it; after a cell using globals(), exec, eval, setattr or
// a magic that runs code (%run, %time stmt, ...) nothing counts as unchanged. A blob whose content already exists is never
// rewritten. Changes made only through memory shared in other ways (a
// DataFrame built on an array without a copy, objects nested deeper, code
// run by exec or a library keeping its own reference) are not seen: save with
// Full to serialize everything. Two names for one object are saved once and
// restored as one object; objects shared deeper between variables are
// restored as copies.
package checkpoint
