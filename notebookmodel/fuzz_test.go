package notebookmodel

import (
	"encoding/json"
	"testing"
)

func addCorpusSeeds(f *testing.F) {
	for name, b := range corpus(f) {
		if len(b) < 64<<10 && name != "" {
			f.Add(b)
		}
	}
	f.Add([]byte(small))
	f.Add([]byte(`{"cells":[],"metadata":{},"nbformat":4,"nbformat_minor":5}`))
	f.Add([]byte("{\n \"cells\": [\n  {\"cell_type\": \"code\",}\n ]\n}\n"))
}

// FuzzParse: parsing never panics; whatever parses reads back byte for byte
// and answers every query.
func FuzzParse(f *testing.F) {
	addCorpusSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		nb, err := Parse(data)
		if err != nil {
			return
		}
		if string(nb.Bytes()) != string(data) {
			t.Fatal("load+save changed the bytes")
		}
		outline := nb.Outline()
		if len(outline) != nb.Len() {
			t.Fatalf("outline has %d entries for %d cells", len(outline), nb.Len())
		}
		seen := map[string]bool{}
		for _, e := range outline {
			if !validID(e.ID) || seen[e.ID] {
				t.Fatalf("cell %d has invalid or duplicate id %q", e.Index, e.ID)
			}
			seen[e.ID] = true
		}
		if _, err := nb.Search(SearchQuery{Pattern: "a", Sources: true, Outputs: true}); err != nil {
			t.Fatal(err)
		}
		for i := range nb.Len() {
			if _, err := nb.ReadCell(CellRef{Index: &i}, ReadOptions{MaxOutputChars: 10}); err != nil {
				t.Fatal(err)
			}
		}
		_ = Diff(nb, nb)
	})
}

// FuzzEdit: any edit either fails cleanly or yields a notebook that parses,
// has the expected number of cells with unique ids, and keeps the receiver
// untouched; a no-op edit keeps the bytes.
func FuzzEdit(f *testing.F) {
	for name, b := range corpus(f) {
		if len(b) < 64<<10 && name != "" {
			for op := range uint8(8) {
				f.Add(b, op, uint8(0), uint8(1), "new source\nline", "code")
			}
		}
	}
	f.Add([]byte(small), uint8(2), uint8(1), uint8(0), "", "raw")
	ops := []string{EditInsert, EditAppend, EditDelete, EditMove, EditReplaceSource, EditChangeType, EditSetMetadata, EditClearOutputs}
	f.Fuzz(func(t *testing.T, data []byte, op, a, b uint8, src, typ string) {
		nb, err := Parse(data)
		if err != nil || nb.Len() > 200 {
			return
		}
		before := string(nb.Bytes())
		ai, bi := int(a), int(b)
		meta, _ := json.Marshal(map[string]string{"k": src})
		e := Edit{Op: ops[int(op)%len(ops)], Ref: CellRef{Index: &ai}, At: ai, ToIndex: bi, Count: bi % 3,
			Cells: []NewCell{{Type: typ, Source: src}}, Source: src, Type: typ, Metadata: meta}
		out, applied, err := nb.Apply(e)
		if string(nb.Bytes()) != before {
			t.Fatal("Apply changed its receiver")
		}
		if err != nil {
			return
		}
		re, err := Parse(out.Bytes())
		if err != nil {
			t.Fatalf("edited notebook does not parse: %v", err)
		}
		want := nb.Len()
		switch e.Op {
		case EditInsert, EditAppend:
			want++
		case EditDelete:
			want -= max(e.Count, 1)
		}
		if re.Len() != want {
			t.Fatalf("%s: %d cells, want %d", e.Op, re.Len(), want)
		}
		seen := map[string]bool{}
		for _, c := range re.Cells() {
			if seen[c.ID] {
				t.Fatalf("duplicate id %q after %s", c.ID, e.Op)
			}
			seen[c.ID] = true
		}
		if len(applied.Ops) == 0 && string(out.Bytes()) != before {
			t.Fatalf("%s reported no change but changed the bytes", e.Op)
		}
		// JSON cannot hold invalid UTF-8: each bad byte becomes U+FFFD, as in encoding/json.
		if e.Op == EditReplaceSource && re.Cells()[ai].Source != string([]rune(src)) {
			t.Fatalf("source %q, want %q", re.Cells()[ai].Source, src)
		}
		// Setting the same source again is a no-op with identical bytes.
		if e.Op == EditReplaceSource {
			again, _, err := out.Apply(e)
			if err != nil || string(again.Bytes()) != string(out.Bytes()) {
				t.Fatalf("repeating replaceSource changed the bytes (err %v)", err)
			}
		}
	})
}

// FuzzSnapshot: any buffer snapshot builds a notebook that parses back.
func FuzzSnapshot(f *testing.F) {
	f.Add("a", "code", "python", "x = 1\n", `{"tags":[]}`, `{"output_type":"stream","name":"stdout","text":"1"}`)
	f.Add("", "markdown", "markdown", "# T", `[`, `{`)
	f.Fuzz(func(t *testing.T, id, kind, lang, src, meta, output string) {
		s := Snapshot{Metadata: json.RawMessage(meta), Cells: []SnapshotCell{
			{ID: id, Kind: kind, Language: lang, Source: src, Metadata: json.RawMessage(meta), Outputs: []json.RawMessage{json.RawMessage(output)}},
			{ID: id, Kind: kind, Source: src}}}
		nb := FromSnapshot(s)
		re, err := Parse(nb.Bytes())
		if err != nil || re.Len() != 2 || re.Cells()[0].Source != string([]rune(src)) {
			t.Fatalf("snapshot notebook does not read back: %v", err)
		}
		_ = s.Digest()
	})
}
