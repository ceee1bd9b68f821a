package jsapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// GoldenCall is one recorded call. Args name notebook files as "@file:<path
// from the repo root>"; the WASM test (extension/test/wasm) replays the same
// calls against the .wasm and compares the results.
type GoldenCall struct {
	Method string          `json:"method"`
	Args   []string        `json:"args"`
	Result json.RawMessage `json:"result"`
}

// Golden is the file testdata/golden/<notebook>.json.
type Golden struct {
	Notebook string       `json:"notebook"`
	Calls    []GoldenCall `json:"calls"`
}

const fixtureDir = "testfixtures/notebooks"

func fixtures(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, pat := range []string{"*.ipynb", "*.ipynb.bad"} {
		m, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), fixtureDir, pat))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			names = append(names, filepath.Base(p))
		}
	}
	sort.Strings(names)
	if len(names) < 10 {
		t.Fatalf("fixture corpus has %d notebooks; run testfixtures/notebooks/make_corpus.py", len(names))
	}
	return names
}

// resolveArgs replaces "@file:" references with the file contents.
func resolveArgs(t *testing.T, args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if p, ok := strings.CutPrefix(a, "@file:"); ok {
			b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), p))
			if err != nil {
				t.Fatal(err)
			}
			a = string(b)
		}
		out[i] = a
	}
	return out
}

// Normalize replaces notebook texts in results by their SHA-256 so the
// golden files stay small; the WASM test applies the same transformation.
func normalize(t *testing.T, envelope string) json.RawMessage {
	var v map[string]any
	if err := json.Unmarshal([]byte(envelope), &v); err != nil {
		t.Fatalf("result is not JSON: %v: %s", err, envelope)
	}
	if ok, isMap := v["ok"].(map[string]any); isMap {
		if nbText, has := ok["notebook"].(string); has {
			sum := sha256.Sum256([]byte(nbText))
			delete(ok, "notebook")
			ok["notebookSha256"] = hex.EncodeToString(sum[:])
		}
	}
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// plannedCalls lists the calls recorded for one fixture.
func plannedCalls(t *testing.T, name string) []GoldenCall {
	file := "@file:" + fixtureDir + "/" + name
	calls := []GoldenCall{{Method: "outline", Args: []string{file}}}
	nb, err := notebookmodel.Parse([]byte(resolveArgs(t, []string{file})[0]))
	if err != nil {
		return calls // the error envelope is the answer
	}
	for _, q := range []notebookmodel.SearchQuery{
		{Pattern: "print", Sources: true, Outputs: true},
		{Pattern: `^line 1[0-9]+:`, Regex: true, Outputs: true, MaxHits: 5},
		{Pattern: "ÜBERBLICK"},
		{Pattern: "Café", CaseSensitive: true, Sources: true, Outputs: true},
		{Pattern: "(unclosed", Regex: true},
	} {
		calls = append(calls, GoldenCall{Method: "search", Args: []string{file, mustJSON(q)}})
	}
	cells := nb.Cells()
	for i := range cells {
		calls = append(calls, GoldenCall{Method: "readCell", Args: []string{file, mustJSON(notebookmodel.CellRef{Index: &i}), `{"maxOutputChars":200}`}})
	}
	zero := 0
	calls = append(calls,
		GoldenCall{Method: "readCell", Args: []string{file, mustJSON(notebookmodel.CellRef{Index: &zero, CellID: "no-such-cell"}), ""}},
		GoldenCall{Method: "applyEdit", Args: []string{file, mustJSON(notebookmodel.Edit{Op: "insert", At: 1, Cells: []notebookmodel.NewCell{
			{ID: "new-code", Type: "code", Source: "y = 2\nprint(y)\n"}, {ID: "new-md", Type: "markdown", Source: "## New", Metadata: json.RawMessage(`{"tags":["t"]}`)}}})}},
		GoldenCall{Method: "applyEdit", Args: []string{file, mustJSON(notebookmodel.Edit{Op: "append", Cells: []notebookmodel.NewCell{{ID: "tail", Type: "raw", Source: "raw text"}}})}},
		GoldenCall{Method: "applyEdit", Args: []string{file, `{"op":"bogus"}`}},
	)
	if len(cells) > 0 {
		last := len(cells) - 1
		calls = append(calls,
			GoldenCall{Method: "applyEdit", Args: []string{file, mustJSON(notebookmodel.Edit{Op: "replaceSource", Ref: notebookmodel.CellRef{Index: &zero}, Source: "# replaced ✓\nvalue = 1"})}},
			GoldenCall{Method: "applyEdit", Args: []string{file, mustJSON(notebookmodel.Edit{Op: "move", Ref: notebookmodel.CellRef{Index: &zero}, ToIndex: last})}},
			GoldenCall{Method: "applyEdit", Args: []string{file, mustJSON(notebookmodel.Edit{Op: "delete", Ref: notebookmodel.CellRef{CellID: cells[last].ID}})}},
			GoldenCall{Method: "applyEdit", Args: []string{file, mustJSON(notebookmodel.Edit{Op: "changeType", Ref: notebookmodel.CellRef{Index: &zero}, Type: "code"})}},
			GoldenCall{Method: "applyEdit", Args: []string{file, mustJSON(notebookmodel.Edit{Op: "changeType", Ref: notebookmodel.CellRef{Index: &last}, Type: "markdown"})}},
			GoldenCall{Method: "applyEdit", Args: []string{file, mustJSON(notebookmodel.Edit{Op: "setMetadata", Ref: notebookmodel.CellRef{Index: &zero}, Metadata: json.RawMessage(`{"tags":["hide"],"z":{"b":1,"a":[]}}`)})}},
			GoldenCall{Method: "applyEdit", Args: []string{file, mustJSON(notebookmodel.Edit{Op: "clearOutputs"})}},
			GoldenCall{Method: "diff", Args: []string{file, "@file:notebookmodel/testdata/edited/" + strings.TrimSuffix(name, ".ipynb") + ".ipynb"}},
		)
	}
	if len(nb.Bytes()) < 100_000 {
		snap := notebookmodel.Snapshot{URI: "file:///x/" + name, Path: "/x/" + name, Version: 3}
		for _, c := range cells {
			snap.Cells = append(snap.Cells, notebookmodel.SnapshotCell{ID: c.ID, Kind: c.Type, Language: c.Language, Source: c.Source, Metadata: c.Metadata, ExecutionCount: c.ExecutionCount, Outputs: c.Outputs})
		}
		calls = append(calls, GoldenCall{Method: "fromSnapshot", Args: []string{mustJSON(snap)}})
	}
	return calls
}

// editSequence is applied in order to make testdata/edited/<name>.ipynb, the "after" side of the diff call.
func editSequence(nb *notebookmodel.Notebook) []notebookmodel.Edit {
	n := nb.Len()
	zero, one := 0, 1 // after the insert the first original cell is at 1
	return []notebookmodel.Edit{
		{Op: "insert", At: 0, Cells: []notebookmodel.NewCell{{ID: "added-first", Type: "markdown", Source: "# Added"}}},
		{Op: "replaceSource", Ref: notebookmodel.CellRef{Index: &one, CellID: nb.Cells()[0].ID}, Source: "changed()"},
		{Op: "move", Ref: notebookmodel.CellRef{CellID: nb.Cells()[n-1].ID}, ToIndex: 0},
		{Op: "setMetadata", Ref: notebookmodel.CellRef{Index: &zero}, Metadata: json.RawMessage(`{"collapsed":true}`)},
		{Op: "clearOutputs"},
	}
}

func writeEdited(t *testing.T, name string) {
	t.Helper()
	b := resolveArgs(t, []string{"@file:" + fixtureDir + "/" + name})[0]
	nb, err := notebookmodel.Parse([]byte(b))
	if err != nil || nb.Len() == 0 {
		return
	}
	if nb.Len() > 1 {
		// Remove the second cell so the diff also shows a removal.
		one := 1
		nb, _, err = nb.Apply(notebookmodel.Edit{Op: "delete", Ref: notebookmodel.CellRef{Index: &one}})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range editSequence(nb) {
		if nb, _, err = nb.Apply(e); err != nil {
			t.Fatalf("%s: %+v: %v", name, e, err)
		}
	}
	path := filepath.Join(testenv.RepoRoot(), "notebookmodel/testdata/edited", strings.TrimSuffix(name, ".ipynb")+".ipynb")
	checkGolden(t, path, nb.Bytes())
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./notebookmodel/jsapi -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); if intended, run with -update:\n%s", path, diff)
	}
}

func TestGolden(t *testing.T) {
	for _, name := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			writeEdited(t, name)
			g := Golden{Notebook: fixtureDir + "/" + name}
			for _, c := range plannedCalls(t, name) {
				c.Result = normalize(t, Call(c.Method, resolveArgs(t, c.Args)...))
				g.Calls = append(g.Calls, c)
			}
			b, err := json.MarshalIndent(g, "", " ")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join(testenv.RepoRoot(), "notebookmodel/testdata/golden", name+".json"), append(b, '\n'))
		})
	}
}

func TestCallErrors(t *testing.T) {
	tests := []struct {
		method string
		args   []string
		want   string
	}{
		{"outline", nil, `"code":"badArgument"`},
		{"nope", []string{`{"cells":[],"nbformat":4,"nbformat_minor":5,"metadata":{}}`}, `"code":"badArgument"`},
		{"outline", []string{"{\n \"cells\": [}"}, `"code":"syntax","message":"notebook is not valid JSON: line 2, column 12`},
		{"outline", []string{`{"nbformat":3,"cells":[]}`}, `"code":"unsupportedVersion"`},
		{"outline", []string{`[1]`}, `"code":"notNotebook"`},
		{"search", []string{`{"cells":[],"nbformat":4,"nbformat_minor":5,"metadata":{}}`, `{"pattern":"a"`}, `"code":"badArgument"`},
	}
	for _, tt := range tests {
		got := Call(tt.method, tt.args...)
		if !strings.Contains(got, tt.want) {
			t.Errorf("Call(%s, %q) = %s, want it to contain %s", tt.method, tt.args, got, tt.want)
		}
	}
}
