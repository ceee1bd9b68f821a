package sidecar_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
)

// mcpSession is the real binary's stdio MCP server on a fresh workspace.
type mcpSession struct {
	t  *testing.T
	cs *mcp.ClientSession
	ws string
}

func newMCPSession(t *testing.T, files map[string]string) *mcpSession {
	t.Helper()
	bin := testenv.Binary(t)
	ws := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(ws, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "mcp", "--standalone", "--workspace", ws)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "authoring-test", Version: "1"}, nil).Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return &mcpSession{t: t, cs: cs, ws: ws}
}

// call returns the tool's text and whether it was an error result.
func (m *mcpSession) call(name string, args map[string]any) (string, bool) {
	m.t.Helper()
	res, err := m.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		m.t.Fatalf("%s: %v", name, err)
	}
	var text string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text += tc.Text
		}
	}
	return text, res.IsError
}

func (m *mcpSession) ok(name string, args map[string]any) string {
	m.t.Helper()
	text, isErr := m.call(name, args)
	if isErr {
		m.t.Fatalf("%s refused: %s", name, text)
	}
	return text
}

func (m *mcpSession) refused(name string, args map[string]any, want string) {
	m.t.Helper()
	text, isErr := m.call(name, args)
	if !isErr || !strings.Contains(text, want) {
		m.t.Fatalf("%s: want a refusal containing %q, got (error=%v) %s", name, want, isErr, text)
	}
}

func cellSources(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb struct {
		Cells []struct {
			ID     string          `json:"id"`
			Source json.RawMessage `json:"source"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range nb.Cells {
		var s string
		if json.Unmarshal(c.Source, &s) != nil {
			var lines []string
			_ = json.Unmarshal(c.Source, &lines)
			s = strings.Join(lines, "")
		}
		out[c.ID] = s
	}
	return out
}

const authoringNotebook = `{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
 {"cell_type": "code", "id": "a", "metadata": {}, "execution_count": null, "outputs": [], "source": "x = 1\ny = 2\nz = x + y\nprint(z)\nw = 1\n"},
 {"cell_type": "markdown", "id": "m", "metadata": {}, "source": "# notes"},
 {"cell_type": "code", "id": "b", "metadata": {}, "execution_count": null, "outputs": [], "source": "print('b ran')"},
 {"cell_type": "code", "id": "bad", "metadata": {}, "execution_count": null, "outputs": [], "source": "raise ValueError('boom')"},
 {"cell_type": "code", "id": "c", "metadata": {}, "execution_count": null, "outputs": [], "source": "print('c ran')"}
]}`

func TestEditCellSourceReplacesExactlyWhatWasMeant(t *testing.T) {
	m := newMCPSession(t, map[string]string{"nb.ipynb": authoringNotebook})
	nb := filepath.Join(m.ws, "nb.ipynb")
	out := m.ok("edit_cell_source", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "a", "old_string": "z = x + y", "new_string": "z = x * y"})
	if got := cellSources(t, nb)["a"]; got != "x = 1\ny = 2\nz = x * y\nprint(z)\nw = 1\n" {
		t.Fatalf("cell a after the edit: %q", got)
	}
	if !strings.Contains(out, `2  y = 2\n   3  z = x * y\n   4  print(z)`) || !strings.Contains(out, `"replaced":1`) {
		t.Fatalf("the answer does not show the changed line with context: %s", out)
	}
	// Absent: refused with the cell's current source; nothing written.
	before, _ := os.ReadFile(nb)
	m.refused("edit_cell_source", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "a", "old_string": "z = x + y", "new_string": "q"}, "does not occur in cell 0 (a)")
	// Ambiguous: refused with the count, unless replace_all.
	m.refused("edit_cell_source", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "a", "old_string": " = 1", "new_string": " = 7"}, "occurs 2 times")
	m.refused("edit_cell_source", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "a", "old_string": "", "new_string": "q"}, "old_string is empty")
	if after, _ := os.ReadFile(nb); string(after) != string(before) {
		t.Fatal("a refused edit changed the file")
	}
	out = m.ok("edit_cell_source", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "a", "old_string": " = 1", "new_string": " = 7", "replace_all": true})
	if got := cellSources(t, nb)["a"]; got != "x = 7\ny = 2\nz = x * y\nprint(z)\nw = 7\n" || !strings.Contains(out, `"replaced":2`) {
		t.Fatalf("replace_all: %q %s", got, out)
	}
	// Other cells are untouched.
	if got := cellSources(t, nb)["b"]; got != "print('b ran')" {
		t.Fatalf("cell b changed: %q", got)
	}
}

func TestCreateNotebookNeverOverwrites(t *testing.T) {
	m := newMCPSession(t, map[string]string{"nb.ipynb": authoringNotebook})
	out := m.ok("create_notebook", map[string]any{"notebook_path": "analysis/new.ipynb", "cells": []any{
		map[string]any{"type": "markdown", "content": "# Analysis"}, map[string]any{"content": "import math\nprint(math.pi)"},
	}})
	path := filepath.Join(m.ws, "analysis", "new.ipynb")
	if !strings.Contains(out, `"kernelspec":"python3"`) {
		t.Fatalf("create_notebook: %s", out)
	}
	// nbformat itself validates it (ids, 4.5 schema).
	py := testenv.Python(t)
	check := exec.Command(py, "-c", "import nbformat,sys; nb=nbformat.read(sys.argv[1], as_version=4); nbformat.validate(nb); assert nb.nbformat_minor==5, nb.nbformat_minor; assert all(c.id for c in nb.cells); print(len(nb.cells), nb.metadata.kernelspec.name)", path)
	if b, err := check.CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "2 python3" {
		t.Fatalf("nbformat validation: %v %s", err, b)
	}
	before, _ := os.ReadFile(filepath.Join(m.ws, "nb.ipynb"))
	m.refused("create_notebook", map[string]any{"notebook_path": "nb.ipynb"}, "already exists")
	m.refused("create_notebook", map[string]any{"notebook_path": "analysis/new.ipynb", "cells": []any{}}, "already exists")
	m.refused("create_notebook", map[string]any{"notebook_path": "notes.txt"}, "must end in .ipynb")
	m.refused("create_notebook", map[string]any{"notebook_path": "../outside.ipynb"}, "outside")
	if after, _ := os.ReadFile(filepath.Join(m.ws, "nb.ipynb")); string(after) != string(before) {
		t.Fatal("create_notebook overwrote an existing notebook")
	}
	// The new notebook is at once usable by the other tools.
	m.ok("append_cell", map[string]any{"notebook_path": "analysis/new.ipynb", "content": "x = 1"})
}

func TestRunCellsRunsARangeAndStopsAtTheFirstError(t *testing.T) {
	py := testenv.Python(t)
	m := newMCPSession(t, map[string]string{"nb.ipynb": authoringNotebook})
	m.ok("start_kernel", map[string]any{"notebook_path": "nb.ipynb", "venv_path": filepath.Dir(filepath.Dir(py))})
	defer m.ok("stop_kernel", map[string]any{"notebook_path": "nb.ipynb"})
	var out struct {
		Status string `json:"status"`
		Ran    int    `json:"ran"`
		Cells  []struct {
			CellID     string `json:"cell_id"`
			Status     string `json:"status"`
			Error      string `json:"error"`
			LLMSummary string `json:"llm_summary"`
		} `json:"cells"`
	}
	decode := func(s string) {
		out.Cells = nil
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			t.Fatalf("%v: %s", err, s)
		}
	}
	// Everything: a, b run; bad fails; c is not run (stop_on_error defaults to true); markdown skipped.
	decode(m.ok("run_cells", map[string]any{"notebook_path": "nb.ipynb"}))
	got := []string{}
	for _, c := range out.Cells {
		got = append(got, c.CellID+"="+c.Status)
	}
	if strings.Join(got, " ") != "a=ok b=ok bad=error c=not_run" || out.Status != "error" || out.Ran != 3 {
		t.Fatalf("run all: %s %d %v", out.Status, out.Ran, got)
	}
	if !strings.Contains(out.Cells[1].LLMSummary, "b ran") || !strings.Contains(out.Cells[2].Error, "ValueError: boom") {
		t.Fatalf("per-cell summaries: %+v", out.Cells)
	}
	// A range, going on after the error.
	decode(m.ok("run_cells", map[string]any{"notebook_path": "nb.ipynb", "start": 3, "end": 4, "stop_on_error": false}))
	if len(out.Cells) != 2 || out.Cells[1].CellID != "c" || out.Cells[1].Status != "ok" || out.Status != "error" {
		t.Fatalf("range 3…4 without stop: %+v", out)
	}
	// By id, in the order given; the kernel's state carries across.
	decode(m.ok("run_cells", map[string]any{"notebook_path": "nb.ipynb", "cell_ids": []string{"c", "a"}}))
	if out.Status != "ok" || out.Cells[0].CellID != "c" || !strings.Contains(out.Cells[1].LLMSummary, "3") {
		t.Fatalf("by id: %+v", out)
	}
	m.refused("run_cells", map[string]any{"notebook_path": "nb.ipynb", "start": 2, "end": 9}, "out of range")
	m.refused("run_cells", map[string]any{"notebook_path": "nb.ipynb", "cell_ids": []string{"m"}}, "not code")
	m.refused("run_cells", map[string]any{"notebook_path": "nb.ipynb", "cell_ids": []string{"nope"}}, "nope")
}

func TestEditorStateHeadlessSaysNoEditor(t *testing.T) {
	m := newMCPSession(t, map[string]string{"nb.ipynb": authoringNotebook})
	out := m.ok("get_editor_state", map[string]any{"notebook_path": "nb.ipynb"})
	if !strings.Contains(out, `"attached":false`) || !strings.Contains(out, "no editor is attached") {
		t.Fatalf("headless get_editor_state: %s", out)
	}
	m.refused("get_editor_state", map[string]any{"notebook_path": "../x.ipynb"}, "outside")
}

// A cell a person locked is refused by every tool that would change, delete or
// move it, saying who locked it; the other cells stay editable.
func TestLockedCellRefusedByEveryEditingTool(t *testing.T) {
	locked := strings.Replace(authoringNotebook, `"id": "b", "metadata": {}`, `"id": "b", "metadata": {"mcp-jupyter-lock": {"by": "alice", "at": "2026-12-06T10:00:00Z"}}`, 1)
	m := newMCPSession(t, map[string]string{"nb.ipynb": locked})
	nb := filepath.Join(m.ws, "nb.ipynb")
	before, _ := os.ReadFile(nb)
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"propose_edit", map[string]any{"cell_id": "b", "new_content": "print('changed')"}},
		{"propose_edit", map[string]any{"index": 2, "new_content": "print('changed')"}},
		{"edit_cell_source", map[string]any{"cell_id": "b", "old_string": "b ran", "new_string": "x"}},
		{"delete_cell", map[string]any{"cell_id": "b"}},
		{"move_cell", map[string]any{"cell_id": "b", "to_index": 0}},
	} {
		c.args["notebook_path"] = "nb.ipynb"
		m.refused(c.tool, c.args, "locked by alice")
	}
	if after, _ := os.ReadFile(nb); string(after) != string(before) {
		t.Fatal("a locked cell's notebook changed")
	}
	m.ok("propose_edit", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "c", "new_content": "print('c edited')"})
	m.ok("insert_cell", map[string]any{"notebook_path": "nb.ipynb", "index": 0, "content": "# new"})
	if got := cellSources(t, nb)["b"]; got != "print('b ran')" {
		t.Fatalf("locked cell changed: %q", got)
	}
}

// A progress bar redrawn 20,001 times with \r reaches the model as its final
// state (one line), as a terminal shows it; the training log's last line stays.
func TestProgressBarSummarisedAsItsLastState(t *testing.T) {
	py := testenv.Python(t)
	bar := `import sys
for i in range(20001):
    sys.stdout.write("\r%5.1f%% |%-20s| %d/20000" % (i / 200, "#" * (i // 1000), i))
sys.stdout.write("\n")
print("epoch 3: loss 0.125")`
	nbJSON, _ := json.Marshal(map[string]any{"nbformat": 4, "nbformat_minor": 5, "metadata": map[string]any{}, "cells": []any{
		map[string]any{"cell_type": "code", "id": "bar", "metadata": map[string]any{}, "execution_count": nil, "outputs": []any{}, "source": bar},
	}})
	m := newMCPSession(t, map[string]string{"nb.ipynb": string(nbJSON)})
	m.ok("start_kernel", map[string]any{"notebook_path": "nb.ipynb", "venv_path": filepath.Dir(filepath.Dir(py))})
	defer m.ok("stop_kernel", map[string]any{"notebook_path": "nb.ipynb"})
	var out struct {
		LLMSummary string `json:"llm_summary"`
	}
	text := m.ok("run_cell", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "bar", "timeout_s": 120})
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("%v: %s", err, text)
	}
	if !strings.Contains(out.LLMSummary, "100.0% |####################| 20000/20000") || !strings.Contains(out.LLMSummary, "epoch 3: loss 0.125") {
		t.Fatalf("summary lacks the bar's final state or the last log line: %q", out.LLMSummary)
	}
	if n := strings.Count(out.LLMSummary, "/20000"); n != 1 {
		t.Fatalf("the bar appears %d times in the summary (want its last state once): %q", n, out.LLMSummary)
	}
}
