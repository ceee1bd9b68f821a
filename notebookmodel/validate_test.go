package notebookmodel

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
)

// validatePy checks each notebook with nbformat.validate and prints one line
// per file. Paths prefixed "J:" must also be byte-identical to what Jupyter
// itself writes for that notebook (nbformat.writes + newline).
const validatePy = `
import sys, warnings, nbformat
warnings.simplefilter("error")  # a MissingIDFieldWarning is a failure
bad = 0
for arg in sys.argv[1:]:
    same = arg.startswith("J:")
    path = arg[2:] if same else arg
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
        nbformat.validate(nb)
        if same and nbformat.writes(nb) + "\n" != text:
            raise ValueError("differs from Jupyter's own formatting of the same notebook")
        print("ok", path)
    except Exception as e:
        bad += 1
        print("INVALID", path, str(e).splitlines()[0])
sys.exit(1 if bad else 0)
`

// TestWrittenNotebooksAreValid writes every kind of edit of every
// schema-valid corpus notebook and has Python's nbformat validate them; edits
// of notebooks Jupyter wrote must come out exactly as Jupyter would write them.
func TestWrittenNotebooksAreValid(t *testing.T) {
	py := testenv.Python(t)
	dir := t.TempDir()
	var files []string
	jupyterFormatted := false
	write := func(name string, nb *Notebook) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nb.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if jupyterFormatted {
			p = "J:" + p
		}
		files = append(files, p)
	}
	for name, b := range corpus(t) {
		if strings.Contains(string(b), "x-top-unknown") {
			continue // deliberately carries fields the schema forbids
		}
		nb := mustParse(t, string(b))
		jupyterFormatted = strings.HasPrefix(string(b), "{\n \"cells\": [") // written by nbformat (make_corpus.py)
		last := nb.Len() - 1
		edits := []Edit{
			{Op: EditInsert, At: 0, Cells: []NewCell{{Type: "code", Source: "a = 1\n"}, {Type: "markdown", Source: "# H", Metadata: json.RawMessage(`{"tags":["x"]}`)}, {Type: "raw", Source: "r"}}},
			{Op: EditAppend, Cells: []NewCell{{Type: "code"}}},
			{Op: EditDelete, Ref: CellRef{Index: intp(0)}},
			{Op: EditMove, Ref: CellRef{Index: intp(0)}, ToIndex: last},
			{Op: EditReplaceSource, Ref: CellRef{Index: intp(last)}, Source: "print('ü')\n\nx"},
			{Op: EditChangeType, Ref: CellRef{Index: intp(0)}, Type: KindCode},
			{Op: EditChangeType, Ref: CellRef{Index: intp(0)}, Type: KindMarkdown},
			{Op: EditChangeType, Ref: CellRef{Index: intp(last)}, Type: KindRaw},
			{Op: EditSetMetadata, Ref: CellRef{Index: intp(0)}, Metadata: json.RawMessage(`{"tags":["t"],"collapsed":true}`)},
			{Op: EditClearOutputs},
			{Op: EditDelete, Ref: CellRef{Index: intp(0)}, Count: nb.Len()},
			{Op: EditSetMetadata, Ref: CellRef{Index: intp(0)}, Metadata: json.RawMessage(`{"z":{"b":[1,{}],"a":"\u2028<>&\u0001"},"tags":[]}`)},
		}
		cur := nb
		for i, e := range edits {
			one, _, err := nb.Apply(e)
			if err != nil {
				t.Fatalf("%s: edit %d %s: %v", name, i, e.Op, err)
			}
			write(strings.TrimSuffix(name, ".ipynb")+"-"+e.Op+"-"+string(rune('a'+i))+".ipynb", one)
			// Also chain the edits (refs re-resolved on the current notebook).
			if e.Ref.Index != nil && *e.Ref.Index >= cur.Len() {
				continue
			}
			if next, _, err := cur.Apply(e); err == nil {
				cur = next
			}
		}
		write(strings.TrimSuffix(name, ".ipynb")+"-chained.ipynb", cur)
	}
	jupyterFormatted = true
	write("from-snapshot.ipynb", FromSnapshot(Snapshot{Cells: []SnapshotCell{{Kind: "code", Source: "1"}, {ID: "m", Kind: "markdown", Source: "# x"}}}))
	cmd := exec.Command(py, append([]string{"-c", validatePy}, files...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nbformat.validate rejected written notebooks: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "ok "); n != len(files) {
		t.Fatalf("validated %d of %d files:\n%s", n, len(files), out)
	}
}
