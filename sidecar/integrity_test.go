package sidecar_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/protocol"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/nbsync"
)

const scenarioNotebook = `{
 "cells": [
  {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": ["# Intro"]},
  {"cell_type": "code", "execution_count": null, "id": "c-print", "metadata": {}, "outputs": [], "source": ["print('hello')"]},
  {"cell_type": "code", "execution_count": null, "id": "c-data", "metadata": {}, "outputs": [], "source": ["data = [1, 2, 3]"]},
  {"cell_type": "code", "execution_count": null, "id": "c-plot", "metadata": {}, "outputs": [], "source": ["plot(data)"]}
 ],
 "metadata": {"language_info": {"name": "python"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
`

func fileSources(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := notebookmodel.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range nb.Cells() {
		out[c.ID] = c.Source
	}
	return out
}

func humanEditsFile(t *testing.T, path string, e notebookmodel.Edit) {
	t.Helper()
	data, _ := os.ReadFile(path)
	nb, err := notebookmodel.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	next, _, err := nb.Apply(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, next.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

var humanInsertsTop = notebookmodel.Edit{Op: notebookmodel.EditInsert, At: 0, Cells: []notebookmodel.NewCell{{ID: "h-top", Type: "code", Source: "import os"}}}

// TestIndexBlindnessStandalone is issue 9's scenario against the real binary
// (`mcp --standalone`, the go-sdk client over stdio): outline, a human inserts
// a cell at the top by writing the file, then propose_edit(index=2,
// cell_id=c-data) and propose_edit(index=2) as the seed documents it. Both
// edit c-data; c-print is never touched.
func TestIndexBlindnessStandalone(t *testing.T) {
	cs, ws := mcpStandalone(t, scenarioNotebook)
	path := filepath.Join(ws, "nb.ipynb")
	seedCall(t, cs, "get_notebook_outline", map[string]any{"notebook_path": "nb.ipynb"})
	humanEditsFile(t, path, humanInsertsTop)
	out := seedCall(t, cs, "propose_edit", map[string]any{"notebook_path": "nb.ipynb", "index": 2, "cell_id": "c-data", "new_content": "data = [4]"})
	if out["cell_id"] != "c-data" || !strings.Contains(out["note"].(string), "now at index 3") {
		t.Errorf("propose_edit(index=2, cell_id=c-data): %v", out)
	}
	// After a fresh outline and another human insert, index 3 (c-data in that outline) still means c-data.
	seedCall(t, cs, "get_notebook_outline", map[string]any{"notebook_path": "nb.ipynb"})
	humanEditsFile(t, path, notebookmodel.Edit{Op: notebookmodel.EditInsert, At: 0, Cells: []notebookmodel.NewCell{{ID: "h-top2", Type: "markdown", Source: "# Notes"}}})
	out = seedCall(t, cs, "propose_edit", map[string]any{"notebook_path": "nb.ipynb", "index": 3, "new_content": "data = [5]"})
	if out["cell_id"] != "c-data" || !strings.Contains(out["note"].(string), "index 3 is cell c-data") {
		t.Errorf("propose_edit(index=3) (c-data in the agent's last view): %v", out)
	}
	src := fileSources(t, path)
	if src["c-data"] != "data = [5]" || src["c-print"] != "print('hello')" || src["h-top"] != "import os" || src["h-top2"] != "# Notes" {
		t.Errorf("after the scenario: %v", src)
	}
	// Index only, cell gone: refused with the outline.
	humanEditsFile(t, path, notebookmodel.Edit{Op: notebookmodel.EditDelete, Ref: notebookmodel.CellRef{CellID: "c-plot"}})
	res := seedRefused(t, cs, "propose_edit", map[string]any{"notebook_path": "nb.ipynb", "index": 5, "new_content": "x"})
	if !strings.Contains(res, `"c-plot"`) || !strings.Contains(res, "id=c-print") {
		t.Errorf("an index whose cell is gone: %s", res)
	}
}

// TestIndexBlindnessServe is the same scenario through the serve door (the
// extension's tool/invoke with the live buffer): the human inserts a cell at
// the top of the open buffer; the agent's index 2 still means c-data.
func TestIndexBlindnessServe(t *testing.T) {
	e := startServe(t)
	e.initialize()
	e.mu.Lock()
	e.buffer = &notebookmodel.Snapshot{URI: "file://" + e.nb, Path: e.nb, Version: 3, Cells: []notebookmodel.SnapshotCell{
		{ID: "intro", Kind: "markdown", Language: "markdown", Source: "# Intro"},
		{ID: "c-print", Kind: "code", Language: "python", Source: "print('hello')"},
		{ID: "c-data", Kind: "code", Language: "python", Source: "data = [1, 2, 3]"},
	}}
	e.mu.Unlock()
	invoke := func(name string, args map[string]any) protocol.ToolInvokeResult {
		b, _ := json.Marshal(args)
		var res protocol.ToolInvokeResult
		e.mustCall(protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: name, Arguments: b}, &res)
		return res
	}
	if res := invoke("get_notebook_outline", map[string]any{"notebook_path": e.nb}); res.IsError {
		t.Fatal(res.Content)
	}
	// The human inserts a cell at the top of the buffer (a new VS Code cell has no id yet).
	e.mu.Lock()
	e.buffer.Cells = append([]notebookmodel.SnapshotCell{{Kind: "code", Language: "python", Source: "import os"}}, e.buffer.Cells...)
	e.buffer.Version++
	e.mu.Unlock()
	res := invoke("propose_edit", map[string]any{"notebook_path": e.nb, "index": 2, "new_content": "data = [4]"})
	if res.IsError || !strings.Contains(res.Content, `"cell_id":"c-data"`) || !strings.Contains(res.Content, "now at index 3") {
		t.Fatalf("propose_edit(index=2) through serve: %+v", res)
	}
	e.mu.Lock()
	last := e.edits[len(e.edits)-1]
	e.mu.Unlock()
	if len(last.Edits) != 1 || last.Edits[0].Op != notebookmodel.OpReplaceSource || last.Edits[0].Index != 3 {
		t.Errorf("the editor was asked for %+v, want replaceSource at index 3 (c-data)", last.Edits)
	}
}

// TestHumanRunLeavesUndoStackAlone: a person's run must not put an edit on
// VS Code's undo stack (Undo after a run undoes the person's last edit). The
// sidecar sends no editor/applyEdit for a human run; the sync stamp travels
// with the run's final execution/state, for the extension to write into the
// cell's metadata when the notebook is saved.
func TestHumanRunLeavesUndoStackAlone(t *testing.T) {
	py := testenv.Python(t)
	e := startServe(t)
	e.initialize()
	e.openBuffer("Undo")
	var k protocol.KernelInfo
	e.mustCall(protocol.MethodKernelStart, protocol.KernelStartParams{NotebookPath: e.nb, Environment: &protocol.EnvironmentRef{Kind: "venv", Path: filepath.Dir(filepath.Dir(py))}}, &k)
	st := e.runHuman("calc", "x = 1")
	if st.Status != protocol.StatusOK {
		t.Fatalf("run: %+v", st)
	}
	stamp, ok := nbsync.ReadStamp(json.RawMessage(`{"mcp-jupyter":` + string(st.Stamp) + `}`))
	if len(st.Stamp) == 0 || !ok || stamp.SourceHash != nbsync.SourceHash("x = 1") || stamp.Origin != protocol.OriginHuman || stamp.Status != "ok" {
		t.Errorf("final execution/state carries no usable stamp: %s", st.Stamp)
	}
	// Give a late stamp edit time to show up (the old code sent it right after the run).
	time.Sleep(1500 * time.Millisecond)
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.edits) != 0 {
		t.Errorf("a human run sent %d editor/applyEdit (undo steps): %+v", len(e.edits), e.edits)
	}
}
