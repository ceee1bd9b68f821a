package notebookmodel

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
)

func corpus(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "testfixtures/notebooks/*.ipynb"))
	if err != nil || len(paths) < 10 {
		t.Fatalf("notebook corpus missing (%d files, %v)", len(paths), err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func mustParse(t testing.TB, s string) *Notebook {
	t.Helper()
	nb, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return nb
}

func TestRoundTripIsByteIdentical(t *testing.T) {
	for name, b := range corpus(t) {
		nb, err := Parse(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if string(nb.Bytes()) != string(b) {
			t.Errorf("%s: load+save changed the bytes", name)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in   string
		is         error
		line, col  int
		msgContain string
	}{
		{"empty", "  \n", ErrNotNotebook, 0, 0, "empty"},
		{"syntax", "{\n \"cells\": [\n  {\"a\": 1,}\n ]\n}", nil, 3, 11, "line 3, column 11"},
		{"syntax non-ascii column", "{\"é\": [1 2]}", nil, 1, 10, "line 1, column 10"},
		{"truncated", "{\"cells\": [", nil, 1, 11, "line 1"},
		{"array", "[1, 2]", ErrNotNotebook, 0, 0, "array"},
		{"no nbformat", `{"cells": []}`, ErrNotNotebook, 0, 0, "nbformat"},
		{"v3", `{"nbformat": 3, "nbformat_minor": 0, "worksheets": []}`, ErrUnsupportedVersion, 0, 0, "nbformat 3.0"},
		{"v5", `{"nbformat": 5, "nbformat_minor": 0, "cells": []}`, ErrUnsupportedVersion, 0, 0, "nbformat 5.0"},
		{"no cells", `{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}`, ErrNotNotebook, 0, 0, "cells"},
		{"cell not object", `{"nbformat": 4, "nbformat_minor": 5, "cells": [1]}`, ErrNotNotebook, 0, 0, "cell 0 is a JSON number"},
		{"bad cell type", `{"nbformat": 4, "nbformat_minor": 5, "cells": [{"cell_type": "heading"}]}`, ErrNotNotebook, 0, 0, `unknown cell_type "heading"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.msgContain) {
				t.Errorf("error %q does not mention %q", err, tt.msgContain)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if tt.line > 0 {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("error %v is not a *SyntaxError", err)
				}
				if diff := cmp.Diff([2]int{tt.line, tt.col}, [2]int{se.Line, se.Column}); diff != "" {
					t.Errorf("line, column (-want +got):\n%s", diff)
				}
			}
		})
	}
}

const small = `{
 "cells": [
  {
   "cell_type": "markdown",
   "id": "m1",
   "metadata": {},
   "source": ["Intro text\n", "## Second-level *heading* ##\n"]
  },
  {
   "cell_type": "code",
   "execution_count": 7,
   "id": "c1",
   "metadata": {"tags": ["a"]},
   "outputs": [
    {"name": "stdout", "output_type": "stream", "text": ["Hello World\n", "second line\n"]},
    {"data": {"image/png": "AAAA", "text/plain": ["<Figure>"]}, "metadata": {}, "output_type": "display_data"},
    {"ename": "ValueError", "evalue": "bad", "output_type": "error", "traceback": ["\u001b[31mValueError\u001b[0m: bad"]}
   ],
   "source": "\n\n  x = 1  \nhello = 'world'"
  },
  {
   "cell_type": "raw",
   "id": "r1",
   "metadata": {"vscode": {"languageId": "latex"}},
   "source": ""
  }
 ],
 "metadata": {"language_info": {"name": "Python"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
`

func TestOutline(t *testing.T) {
	nb := mustParse(t, small)
	seven := 7
	want := []OutlineEntry{
		{Index: 0, ID: "m1", Type: "markdown", Language: "markdown", Title: "Second-level *heading*", HeadingLevel: 2, Lines: 2,
			SourceHash: sourceHash("Intro text\n## Second-level *heading* ##\n")},
		{Index: 1, ID: "c1", Type: "code", Language: "python", Title: "x = 1", Lines: 4, ExecutionCount: &seven,
			Outputs:    OutputSummary{Count: 3, MimeTypes: []string{"stream:stdout", "image/png", "text/plain", "error"}, ErrorName: "ValueError"},
			SourceHash: sourceHash("\n\n  x = 1  \nhello = 'world'")},
		{Index: 2, ID: "r1", Type: "raw", Language: "latex", Title: "", Lines: 0, SourceHash: sourceHash("")},
	}
	got := nb.Outline()
	for i := range got {
		if got[i].Outputs.Bytes <= 0 && got[i].Outputs.Count > 0 {
			t.Errorf("cell %d: output bytes %d", i, got[i].Outputs.Bytes)
		}
		got[i].Outputs.Bytes = 0
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outline (-want +got):\n%s", diff)
	}
}

func TestSearch(t *testing.T) {
	nb := mustParse(t, small)
	tests := []struct {
		name string
		q    SearchQuery
		want []SearchHit
		err  string
	}{
		{"literal ignores case", SearchQuery{Pattern: "HELLO"}, []SearchHit{{Index: 1, CellID: "c1", Where: "source", Line: 4, Snippet: "hello = 'world'"}}, ""},
		{"case sensitive", SearchQuery{Pattern: "HELLO", CaseSensitive: true}, []SearchHit{}, ""},
		{"outputs too", SearchQuery{Pattern: "hello", Sources: true, Outputs: true}, []SearchHit{
			{Index: 1, CellID: "c1", Where: "source", Line: 4, Snippet: "hello = 'world'"},
			{Index: 1, CellID: "c1", Where: "output", OutputIndex: 0, Line: 1, Snippet: "Hello World"}}, ""},
		{"outputs only, error text without ANSI", SearchQuery{Pattern: "valueerror: bad", Outputs: true}, []SearchHit{
			{Index: 1, CellID: "c1", Where: "output", OutputIndex: 2, Line: 1, Snippet: "ValueError: bad"},
			{Index: 1, CellID: "c1", Where: "output", OutputIndex: 2, Line: 2, Snippet: "ValueError: bad"}}, ""},
		{"regex", SearchQuery{Pattern: `^#+ .*heading`, Regex: true}, []SearchHit{{Index: 0, CellID: "m1", Where: "source", Line: 2, Snippet: "## Second-level *heading* ##"}}, ""},
		{"text/plain output", SearchQuery{Pattern: "<figure>", Outputs: true}, []SearchHit{{Index: 1, CellID: "c1", Where: "output", OutputIndex: 1, Line: 1, Snippet: "<Figure>"}}, ""},
		{"max hits", SearchQuery{Pattern: "e", MaxHits: 2}, []SearchHit{
			{Index: 0, CellID: "m1", Where: "source", Line: 1, Snippet: "Intro text"},
			{Index: 0, CellID: "m1", Where: "source", Line: 2, Snippet: "## Second-level *heading* ##"}}, ""},
		{"bad regex", SearchQuery{Pattern: "(", Regex: true}, nil, "invalid regular expression"},
		{"empty", SearchQuery{}, nil, "empty pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := nb.Search(tt.q)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSearchSnippetIsBounded(t *testing.T) {
	long := strings.Repeat("a", 500) + "NEEDLE" + strings.Repeat("é", 500)
	nb := FromSnapshot(Snapshot{Cells: []SnapshotCell{{ID: "x", Kind: "code", Source: long}}})
	hits, err := nb.Search(SearchQuery{Pattern: "needle"})
	if err != nil || len(hits) != 1 {
		t.Fatalf("hits %v, err %v", hits, err)
	}
	s := hits[0].Snippet
	if !strings.Contains(s, "NEEDLE") || len([]rune(s)) > snippetMax+2 || !strings.HasPrefix(s, "…") || !strings.HasSuffix(s, "…") {
		t.Errorf("snippet %q", s)
	}
}

func intp(i int) *int { return &i }

func TestResolve(t *testing.T) {
	nb := mustParse(t, small)
	tests := []struct {
		name   string
		ref    CellRef
		wantID string
		stale  string
	}{
		{"index", CellRef{Index: intp(1)}, "c1", ""},
		{"id", CellRef{CellID: "r1"}, "r1", ""},
		{"both agree", CellRef{Index: intp(2), CellID: "r1"}, "r1", ""},
		{"moved", CellRef{Index: intp(0), CellID: "r1"}, "", `cell "r1" is now at index 2`},
		{"gone", CellRef{Index: intp(0), CellID: "zz"}, "", `cell "zz" no longer exists`},
		{"unknown id", CellRef{CellID: "zz"}, "", `no cell has id "zz"`},
		{"out of range", CellRef{Index: intp(3)}, "", "out of range"},
		{"negative", CellRef{Index: intp(-1)}, "", "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := nb.Resolve(tt.ref)
			if tt.stale == "" {
				if err != nil || c.ID != tt.wantID {
					t.Fatalf("got %q, %v; want %q", c.ID, err, tt.wantID)
				}
				return
			}
			var sv *StaleViewError
			if !errors.Is(err, ErrStaleView) || !errors.As(err, &sv) {
				t.Fatalf("error %v is not a stale view", err)
			}
			if !strings.Contains(err.Error(), tt.stale) {
				t.Errorf("error %q does not say %q", err, tt.stale)
			}
			if len(sv.Outline) != 3 || sv.Outline[2].ID != "r1" {
				t.Errorf("stale view carries outline %+v", sv.Outline)
			}
		})
	}
	if _, err := nb.Resolve(CellRef{}); err == nil || errors.Is(err, ErrStaleView) {
		t.Errorf("empty ref: %v", err)
	}
}

func TestReadCellBoundsOutputs(t *testing.T) {
	text := strings.Repeat("0123456789\n", 1000)
	b, _ := json.Marshal(text)
	nb := mustParse(t, `{"cells":[{"cell_type":"code","id":"a","metadata":{},"execution_count":1,"source":"x",
		"outputs":[{"output_type":"stream","name":"stdout","text":`+string(b)+`}]}],"metadata":{},"nbformat":4,"nbformat_minor":5}`)
	v, err := nb.ReadCell(CellRef{CellID: "a"}, ReadOptions{MaxOutputChars: 100})
	if err != nil {
		t.Fatal(err)
	}
	o := v.Outputs[0]
	if !o.Truncated || o.TotalChars != len(text) || len([]rune(o.Text)) > 160 || !strings.Contains(o.Text, "characters elided") ||
		!strings.HasPrefix(o.Text, "0123456789") || !strings.HasSuffix(o.Text, "0123456789\n") {
		t.Errorf("output view %+v", o)
	}
}

func cellIDs(nb *Notebook) []string {
	var ids []string
	for _, c := range nb.Cells() {
		ids = append(ids, c.ID)
	}
	return ids
}

// cellBytes returns each cell's JSON text, to check edits leave other cells alone.
func cellBytes(nb *Notebook) map[string]string {
	m := map[string]string{}
	for _, c := range nb.cells {
		m[c.id] = nb.doc[c.start:c.end]
	}
	return m
}

func TestApply(t *testing.T) {
	nb := mustParse(t, small)
	tests := []struct {
		name    string
		edit    Edit
		ids     []string
		ops     []EditOp
		touched []string // cells whose bytes may change
		check   func(t *testing.T, out *Notebook)
		err     error
	}{
		{name: "insert", edit: Edit{Op: EditInsert, At: 1, Cells: []NewCell{{ID: "n1", Type: "code", Source: "a\nb"}}},
			ids: []string{"m1", "n1", "c1", "r1"},
			ops: []EditOp{{Op: OpInsert, Index: 1, Count: 1, Cells: []EditCell{{ID: "n1", Kind: "code", Language: "python", Source: "a\nb", Metadata: json.RawMessage("{}")}}}},
			check: func(t *testing.T, out *Notebook) {
				want := "  {\n   \"cell_type\": \"code\",\n   \"execution_count\": null,\n   \"id\": \"n1\",\n   \"metadata\": {},\n   \"outputs\": [],\n   \"source\": [\n    \"a\\n\",\n    \"b\"\n   ]\n  },\n"
				if !strings.Contains(string(out.Bytes()), want) {
					t.Errorf("inserted cell not in Jupyter format:\n%s", out.Bytes())
				}
			}},
		{name: "append with fresh id", edit: Edit{Op: EditAppend, Cells: []NewCell{{Type: "markdown", Source: "# End"}}},
			check: func(t *testing.T, out *Notebook) {
				c := out.Cells()[3]
				if c.Type != "markdown" || c.Source != "# End" || !validID(c.ID) || len(c.ID) != 8 {
					t.Errorf("appended %+v", c)
				}
			}},
		{name: "delete two", edit: Edit{Op: EditDelete, Ref: CellRef{CellID: "m1"}, Count: 2}, ids: []string{"r1"},
			ops: []EditOp{{Op: OpDelete, Index: 0, Count: 2}}},
		{name: "delete last", edit: Edit{Op: EditDelete, Ref: CellRef{Index: intp(2)}}, ids: []string{"m1", "c1"},
			ops: []EditOp{{Op: OpDelete, Index: 2, Count: 1}}},
		{name: "move to end", edit: Edit{Op: EditMove, Ref: CellRef{CellID: "m1"}, ToIndex: 2}, ids: []string{"c1", "r1", "m1"},
			ops: []EditOp{{Op: OpMove, Index: 0, Count: 1, ToIndex: 2}}},
		{name: "move to front", edit: Edit{Op: EditMove, Ref: CellRef{CellID: "r1"}, ToIndex: 0}, ids: []string{"r1", "m1", "c1"},
			ops: []EditOp{{Op: OpMove, Index: 2, Count: 1, ToIndex: 0}}},
		{name: "replace source keeps list form", edit: Edit{Op: EditReplaceSource, Ref: CellRef{CellID: "m1"}, Source: "x\ny"},
			ids: []string{"m1", "c1", "r1"}, touched: []string{"m1"},
			ops: []EditOp{{Op: OpReplaceSource, Index: 0, Count: 1, Source: "x\ny"}},
			check: func(t *testing.T, out *Notebook) {
				if !strings.Contains(string(out.Bytes()), "\"source\": [\n    \"x\\n\",\n    \"y\"\n   ]\n  },") {
					t.Errorf("source not written as a list:\n%s", out.Bytes())
				}
			}},
		{name: "replace source keeps string form", edit: Edit{Op: EditReplaceSource, Ref: CellRef{CellID: "c1"}, Source: "y = 2\n"},
			touched: []string{"c1"}, ops: []EditOp{{Op: OpReplaceSource, Index: 1, Count: 1, Source: "y = 2\n"}},
			check: func(t *testing.T, out *Notebook) {
				if !strings.Contains(string(out.Bytes()), `"source": "y = 2\n"`) || len(out.Cells()[1].Outputs) != 3 {
					t.Errorf("source not a string or outputs lost:\n%s", out.Bytes())
				}
			}},
		{name: "change code to markdown drops outputs", edit: Edit{Op: EditChangeType, Ref: CellRef{CellID: "c1"}, Type: "markdown"}, touched: []string{"c1"},
			check: func(t *testing.T, out *Notebook) {
				c := out.Cells()[1]
				if c.Type != "markdown" || c.Outputs != nil || c.ExecutionCount != nil || strings.Contains(string(out.Bytes()), "execution_count") {
					t.Errorf("changed cell %+v", c)
				}
			}},
		{name: "change raw to code adds outputs", edit: Edit{Op: EditChangeType, Ref: CellRef{CellID: "r1"}, Type: "code"}, touched: []string{"r1"},
			ops: []EditOp{{Op: OpChangeType, Index: 2, Count: 1, Cells: []EditCell{{ID: "r1", Kind: "code", Language: "python", Source: "", Metadata: json.RawMessage(`{"vscode":{"languageId":"latex"}}`)}}}},
			check: func(t *testing.T, out *Notebook) {
				if c := out.Cells()[2]; c.Type != "code" || c.Outputs == nil {
					t.Errorf("changed cell %+v", c)
				}
			}},
		{name: "set metadata", edit: Edit{Op: EditSetMetadata, Ref: CellRef{CellID: "c1"}, Metadata: json.RawMessage(`{"b": 1, "a": {"z": [], "y": null}}`)},
			touched: []string{"c1"}, ops: []EditOp{{Op: OpSetMetadata, Index: 1, Count: 1, Metadata: json.RawMessage(`{"a":{"y":null,"z":[]},"b":1}`)}},
			check: func(t *testing.T, out *Notebook) {
				if !strings.Contains(string(out.Bytes()), "\"metadata\": {\n    \"a\": {\n     \"y\": null,\n     \"z\": []\n    },\n    \"b\": 1\n   },") {
					t.Errorf("metadata not written sorted with 1-space indent:\n%s", out.Bytes())
				}
			}},
		{name: "clear outputs", edit: Edit{Op: EditClearOutputs}, touched: []string{"c1"}, ops: []EditOp{{Op: OpClearOutputs, Index: 0, Count: 3}},
			check: func(t *testing.T, out *Notebook) {
				if c := out.Cells()[1]; len(c.Outputs) != 0 || c.ExecutionCount != nil {
					t.Errorf("cleared cell %+v", c)
				}
			}},
		{name: "stale ref", edit: Edit{Op: EditDelete, Ref: CellRef{Index: intp(0), CellID: "c1"}}, err: ErrStaleView},
		{name: "bad type", edit: Edit{Op: EditChangeType, Ref: CellRef{CellID: "c1"}, Type: "heading"}, err: ErrBadEdit},
		{name: "duplicate id", edit: Edit{Op: EditAppend, Cells: []NewCell{{ID: "c1", Type: "code"}}}, err: ErrBadEdit},
		{name: "bad id", edit: Edit{Op: EditAppend, Cells: []NewCell{{ID: "a b", Type: "code"}}}, err: ErrBadEdit},
		{name: "insert out of range", edit: Edit{Op: EditInsert, At: 4, Cells: []NewCell{{Type: "code"}}}, err: ErrBadEdit},
		{name: "move out of range", edit: Edit{Op: EditMove, Ref: CellRef{Index: intp(0)}, ToIndex: 3}, err: ErrBadEdit},
		{name: "delete past end", edit: Edit{Op: EditDelete, Ref: CellRef{Index: intp(2)}, Count: 2}, err: ErrBadEdit},
		{name: "metadata not object", edit: Edit{Op: EditSetMetadata, Ref: CellRef{Index: intp(0)}, Metadata: json.RawMessage(`[1]`)}, err: ErrBadEdit},
		{name: "unknown op", edit: Edit{Op: "rename"}, err: ErrBadEdit},
	}
	before := cellBytes(nb)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, applied, err := nb.Apply(tt.edit)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.ids != nil {
				if diff := cmp.Diff(tt.ids, cellIDs(out)); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			}
			if tt.ops != nil {
				if diff := cmp.Diff(tt.ops, applied.Ops); diff != "" {
					t.Errorf("ops (-want +got):\n%s", diff)
				}
			}
			after := cellBytes(out)
			for id, b := range before {
				if a, ok := after[id]; ok && a != b && !contains(tt.touched, id) {
					t.Errorf("cell %s changed though the edit did not touch it", id)
				}
			}
			if tt.check != nil {
				tt.check(t, out)
			}
			if string(nb.Bytes()) != small {
				t.Fatal("Apply modified its receiver")
			}
		})
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func TestNoOpEditKeepsBytes(t *testing.T) {
	nb := mustParse(t, small)
	for _, e := range []Edit{
		{Op: EditReplaceSource, Ref: CellRef{CellID: "c1"}, Source: "\n\n  x = 1  \nhello = 'world'"},
		{Op: EditSetMetadata, Ref: CellRef{CellID: "c1"}, Metadata: json.RawMessage(`{"tags":["a"]}`)},
		{Op: EditChangeType, Ref: CellRef{CellID: "m1"}, Type: "markdown"},
		{Op: EditMove, Ref: CellRef{CellID: "m1"}, ToIndex: 0},
	} {
		out, applied, err := nb.Apply(e)
		if err != nil || string(out.Bytes()) != small || len(applied.Ops) != 0 {
			t.Errorf("%+v: err %v, ops %+v, bytes changed %v", e, err, applied.Ops, string(out.Bytes()) != small)
		}
	}
}

func TestIDsAssignedOnlyWhenWritten(t *testing.T) {
	b := corpus(t)["v4_2.ipynb"]
	nb := mustParse(t, string(b))
	shown := cellIDs(nb)
	again := cellIDs(mustParse(t, string(b)))
	if diff := cmp.Diff(shown, again); diff != "" {
		t.Fatalf("ids differ between two reads of the same file (-first +second):\n%s", diff)
	}
	if strings.Contains(string(nb.Bytes()), `"id"`) {
		t.Fatal("reading wrote ids")
	}
	out, _, err := nb.Apply(Edit{Op: EditReplaceSource, Ref: CellRef{Index: intp(1), CellID: shown[1]}, Source: "print(2)"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(shown, cellIDs(out)); diff != "" {
		t.Errorf("written ids differ from the ids the agent saw (-shown +written):\n%s", diff)
	}
	if got := strings.Count(string(out.Bytes()), `"id": "`); got != 3 {
		t.Errorf("%d ids written, want 3", got)
	}
	if !strings.Contains(string(out.Bytes()), `"nbformat_minor": 5`) {
		t.Error("nbformat_minor not raised to 5")
	}
	// The id goes where Jupyter's sorted keys put it.
	if !strings.Contains(string(out.Bytes()), "\"execution_count\": 1,\n   \"id\": \""+shown[1]+"\",\n   \"metadata\"") {
		t.Errorf("id not at its sorted position:\n%s", out.Bytes())
	}
}

func TestDuplicateIDsAreRepaired(t *testing.T) {
	nb := mustParse(t, `{"cells":[{"cell_type":"code","id":"a","metadata":{},"outputs":[],"execution_count":null,"source":"1"},
		{"cell_type":"code","id":"a","metadata":{},"outputs":[],"execution_count":null,"source":"2"}],"metadata":{},"nbformat":4,"nbformat_minor":5}`)
	ids := cellIDs(nb)
	if ids[0] != "a" || ids[1] == "a" {
		t.Fatalf("ids %v", ids)
	}
	out, _, err := nb.Apply(Edit{Op: EditReplaceSource, Ref: CellRef{CellID: ids[1]}, Source: "3"})
	if err != nil {
		t.Fatal(err)
	}
	if out2 := mustParse(t, string(out.Bytes())); cmp.Diff(ids, cellIDs(out2)) != "" || strings.Count(string(out.Bytes()), `"id":"a"`) != 1 {
		t.Errorf("repaired ids not written: %s", out.Bytes())
	}
}

func TestDiff(t *testing.T) {
	a := mustParse(t, small)
	b, _, err := a.Apply(Edit{Op: EditMove, Ref: CellRef{CellID: "r1"}, ToIndex: 0})
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ = b.Apply(Edit{Op: EditReplaceSource, Ref: CellRef{CellID: "m1"}, Source: "new"})
	b, _, _ = b.Apply(Edit{Op: EditClearOutputs, Ref: CellRef{CellID: "c1"}})
	b, _, _ = b.Apply(Edit{Op: EditInsert, At: 1, Cells: []NewCell{{ID: "n", Type: "raw"}}})
	b, _, _ = b.Apply(Edit{Op: EditSetMetadata, Ref: CellRef{CellID: "r1"}, Metadata: json.RawMessage(`{}`)})
	want := []Change{
		{Kind: ChangeMoved, CellID: "r1", OldIndex: intp(2), NewIndex: intp(0), Fields: []string{"metadata"}},
		{Kind: ChangeAdded, CellID: "n", NewIndex: intp(1)},
		{Kind: ChangeChanged, CellID: "m1", OldIndex: intp(0), NewIndex: intp(2), Fields: []string{"source"}},
		{Kind: ChangeChanged, CellID: "c1", OldIndex: intp(1), NewIndex: intp(3), Fields: []string{"outputs", "executionCount"}},
	}
	if diff := cmp.Diff(want, Diff(a, b)); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
	c, _, _ := a.Apply(Edit{Op: EditDelete, Ref: CellRef{CellID: "c1"}})
	if diff := cmp.Diff([]Change{{Kind: ChangeRemoved, CellID: "c1", OldIndex: intp(1)}}, Diff(a, c)); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
	if d := Diff(a, a); len(d) != 0 {
		t.Errorf("self diff %+v", d)
	}
}

func TestSnapshot(t *testing.T) {
	two := 2
	s := Snapshot{URI: "file:///w/a.ipynb", Path: "/w/a.ipynb", Version: 9,
		Metadata: json.RawMessage(`{"language_info":{"name":"python"}}`),
		Cells: []SnapshotCell{
			{ID: "a", Kind: "markdown", Language: "markdown", Source: "# T"},
			{ID: "b", Kind: "code", Language: "python", Source: "x = 1\n", ExecutionCount: &two, Outputs: []json.RawMessage{json.RawMessage(`{"output_type":"stream","name":"stdout","text":"1\n"}`)}},
			{Kind: "code", Language: "sql", Source: "select 1", Metadata: json.RawMessage(`{"tags":["q"]}`)},
		}}
	nb := FromSnapshot(s)
	if nb.Version() != 9 {
		t.Errorf("version %d", nb.Version())
	}
	cells := nb.Cells()
	if len(cells) != 3 || cells[0].ID != "a" || cells[1].Source != "x = 1\n" || *cells[1].ExecutionCount != 2 ||
		len(cells[1].Outputs) != 1 || cells[2].Language != "sql" || cells[2].ID == "" {
		t.Errorf("cells %+v", cells)
	}
	// An id-less buffer cell gets the id the same notebook read from disk would show.
	if disk := mustParse(t, string(nb.Bytes())); disk.Cells()[2].ID != cells[2].ID {
		t.Errorf("snapshot id %q, disk id %q", cells[2].ID, disk.Cells()[2].ID)
	}
	d := s.Digest()
	s2 := s
	s2.Version, s2.URI = 10, "other"
	if s2.Digest() != d {
		t.Error("digest depends on version/uri")
	}
	s2.Cells = append([]SnapshotCell(nil), s.Cells...)
	s2.Cells[0].Source = "# U"
	if s2.Digest() == d {
		t.Error("digest ignores a source change")
	}
	// Bad input does not break the notebook.
	bad := FromSnapshot(Snapshot{Cells: []SnapshotCell{{ID: "bad id!", Kind: "weird", Metadata: json.RawMessage(`[`), Outputs: []json.RawMessage{json.RawMessage(`{`)}}}})
	if c := bad.Cells(); len(c) != 1 || c[0].Type != "code" || !validID(c[0].ID) {
		t.Errorf("bad snapshot cells %+v", c)
	}
}

func TestWindowsLineBreaksSurviveEdits(t *testing.T) {
	doc := strings.ReplaceAll(small, "\n", "\r\n")
	nb := mustParse(t, doc)
	if string(nb.Bytes()) != doc {
		t.Fatal("CRLF document not read back byte for byte")
	}
	out, _, err := nb.Apply(Edit{Op: EditInsert, At: 3, Cells: []NewCell{{ID: "n", Type: "code", Source: "a\nb"}}})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err = out.Apply(Edit{Op: EditSetMetadata, Ref: CellRef{CellID: "m1"}, Metadata: json.RawMessage(`{"x":{"y":1}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if lf := strings.Count(string(out.Bytes()), "\n"); lf != strings.Count(string(out.Bytes()), "\r\n") {
		t.Errorf("edits mixed bare \\n into a CRLF document:\n%q", out.Bytes())
	}
}

func TestByteOrderMarkIsExplained(t *testing.T) {
	_, err := Parse([]byte("\xef\xbb\xbf" + small))
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "byte order mark") {
		t.Errorf("error %v", err)
	}
}
