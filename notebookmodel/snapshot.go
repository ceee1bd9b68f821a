package notebookmodel

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
)

// Snapshot is an editor's live notebook buffer as the extension captures it.
// It travels with every request that concerns an open notebook, because the
// buffer, not the file on disk, is what the human sees.
type Snapshot struct {
	// URI is the notebook document's URI as VS Code names it.
	URI string `json:"uri"`
	// Path is the absolute file system path of the notebook.
	Path string `json:"path"`
	// Version is the notebook document version; edits name it as their expected version.
	Version int `json:"version"`
	// Metadata is the notebook-level nbformat metadata (kernelspec, language_info), when known.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	// Cells are the buffer's cells in order.
	Cells []SnapshotCell `json:"cells"`
}

// SnapshotCell is one cell of a Snapshot.
type SnapshotCell struct {
	// ID is the nbformat cell id (stable across edits and moves).
	ID string `json:"id"`
	// Kind is "code", "markdown" or "raw".
	Kind string `json:"kind"`
	// Language is the cell's language id (python, markdown, …).
	Language string `json:"language"`
	// Source is the cell's text.
	Source string `json:"source"`
	// Metadata is the nbformat cell metadata.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	// ExecutionCount is the code cell's execution count; null when never run.
	ExecutionCount *int `json:"executionCount"`
	// Outputs are nbformat outputs with MIME bundles untouched (optional).
	Outputs []json.RawMessage `json:"outputs,omitempty"`
}

// Digest is a content hash of the snapshot's cells (ids, kinds, languages,
// sources, metadata, execution counts and outputs), independent of URI and
// version, so two captures of an unchanged buffer have the same digest.
func (s Snapshot) Digest() string {
	h := sha256.New()
	field := func(b []byte) {
		h.Write([]byte(strconv.Itoa(len(b))))
		h.Write([]byte{':'})
		h.Write(b)
	}
	field(s.Metadata)
	for _, c := range s.Cells {
		field([]byte(c.ID))
		field([]byte(c.Kind))
		field([]byte(c.Language))
		field([]byte(c.Source))
		field(c.Metadata)
		if c.ExecutionCount != nil {
			field([]byte(strconv.Itoa(*c.ExecutionCount)))
		} else {
			field(nil)
		}
		field([]byte(strconv.Itoa(len(c.Outputs))))
		for _, o := range c.Outputs {
			field(o)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
