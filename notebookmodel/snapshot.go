package notebookmodel

import (
	"strings"

	"encoding/hex"
	"encoding/json"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"hash/fnv"
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
	Kind CellKind `json:"kind"`
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

// Digest is a 128-bit content hash of the snapshot's cells (ids, kinds, languages,
// sources, metadata, execution counts and outputs), independent of URI and
// version, so two captures of an unchanged buffer have the same digest.
func (s Snapshot) Digest() string {
	// FNV-128a: a change detector, not a security check (and no crypto in the WASM build).
	h := fnv.New128a()
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
	return hex.EncodeToString(h.Sum(nil))
}

// FromSnapshot builds a notebook from an editor buffer, so every query (and
// edit) works on the live buffer as on a file. Cells without an id get the
// same derived ids a file without ids would.
func FromSnapshot(s Snapshot) *Notebook {
	f := formatter{indent: " "}
	var b strings.Builder
	b.WriteString("{\n \"cells\": [")
	for i, c := range s.Cells {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n  ")
		kind := c.Kind
		if !validType(kind) {
			kind = KindCode
		}
		meta := "{}"
		if len(c.Metadata) > 0 && gjson.ValidBytes(c.Metadata) && gjson.ParseBytes(c.Metadata).IsObject() {
			meta = string(c.Metadata)
		}
		if c.Language != "" && kind == KindCode && !strings.EqualFold(c.Language, snapshotLanguage(s)) {
			// Keep a per-cell language the way VS Code stores it in ipynb files.
			if m, err := sjson.SetRaw(meta, "vscode.languageId", quote(c.Language)); err == nil {
				meta = m
			}
		}
		fields := []field{{"cell_type", quote(kind)}, {"metadata", meta}, {"source", sourceJSON(c.Source, true)}}
		if c.ID != "" && validID(c.ID) {
			fields = append(fields, field{"id", quote(c.ID)})
		}
		if kind == KindCode {
			ec := "null"
			if c.ExecutionCount != nil {
				ec = strconv.Itoa(*c.ExecutionCount)
			}
			outs := "[]"
			if len(c.Outputs) > 0 {
				var ob strings.Builder
				ob.WriteByte('[')
				n := 0
				for _, o := range c.Outputs {
					if !gjson.ValidBytes(o) {
						continue
					}
					if n > 0 {
						ob.WriteByte(',')
					}
					ob.Write(o)
					n++
				}
				ob.WriteByte(']')
				outs = ob.String()
			}
			fields = append(fields, field{"execution_count", ec}, field{"outputs", outs})
		}
		f.object(&b, fields, 2)
	}
	if len(s.Cells) > 0 {
		b.WriteString("\n ")
	}
	b.WriteString("],\n \"metadata\": ")
	meta := "{}"
	if len(s.Metadata) > 0 && gjson.ValidBytes(s.Metadata) && gjson.ParseBytes(s.Metadata).IsObject() {
		meta = string(s.Metadata)
	}
	f.value(&b, gjson.Parse(meta), 1)
	b.WriteString(",\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}\n")
	nb, err := parse(b.String())
	if err != nil {
		// Unreachable: every part above is valid JSON by construction.
		panic("notebookmodel: snapshot did not build a notebook: " + err.Error())
	}
	if !nb.hasIDs {
		// Write the derived ids: a 4.5 notebook without cell ids is invalid.
		w := nb.work()
		w.materializeIDs()
		if withIDs, err := parse(w.text()); err == nil {
			nb = withIDs
		}
	}
	nb.version = s.Version
	return nb
}

func snapshotLanguage(s Snapshot) string {
	return notebookLanguage(gjson.ParseBytes(orEmptyObject(s.Metadata)))
}
