package tools_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/workspace"
)

const viewNotebook = `{
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

// agentSetup is a headless workspace with viewNotebook and a call from one agent session.
func agentSetup(t *testing.T) (*tools.Registry, *tools.Call, string) {
	t.Helper()
	ws, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(ws, "nb.ipynb")
	if err := os.WriteFile(path, []byte(viewNotebook), 0o644); err != nil {
		t.Fatal(err)
	}
	roots, err := workspace.New(ws)
	if err != nil {
		t.Fatal(err)
	}
	mgr := session.NewManager(session.Options{})
	t.Cleanup(func() { mgr.Close(context.Background()) })
	return tools.NewRegistry(), &tools.Call{Core: tools.NewCore(roots, mgr, nil), Agent: "agent-1"}, path
}

// human edits the file as another program would: f gets the parsed notebook
// and returns the edit to apply.
func human(t *testing.T, path string, e notebookmodel.Edit) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
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

func sources(t *testing.T, path string) map[string]string {
	t.Helper()
	data, _ := os.ReadFile(path)
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

func ids(t *testing.T, path string) string {
	t.Helper()
	data, _ := os.ReadFile(path)
	nb, err := notebookmodel.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, c := range nb.Cells() {
		s = append(s, c.ID)
	}
	return strings.Join(s, ",")
}

func try(reg *tools.Registry, c *tools.Call, name string, args map[string]any) (any, error) {
	b, _ := json.Marshal(args)
	return reg.Invoke(context.Background(), c, name, b)
}

var insertTop = notebookmodel.Edit{Op: notebookmodel.EditInsert, At: 0, Cells: []notebookmodel.NewCell{{ID: "h-top", Type: "code", Source: "import os"}}}

// TestIndexBlindnessScenario is issue 9's scenario: the agent reads the
// outline, a human inserts a cell at the top, and the agent addresses the
// cell it saw at index 2 (c-data) — with its id, or by index alone as the seed
// documents. Both must edit c-data (saying where it is now), never c-print.
func TestIndexBlindnessScenario(t *testing.T) {
	for _, withID := range []bool{true, false} {
		t.Run(map[bool]string{true: "index and cell_id", false: "index only"}[withID], func(t *testing.T) {
			reg, c, path := agentSetup(t)
			invoke[tools.OutlineOut](t, reg, c, "get_notebook_outline", map[string]any{"notebook_path": "nb.ipynb"})
			human(t, path, insertTop)
			args := map[string]any{"notebook_path": "nb.ipynb", "index": 2, "new_content": "data = [4, 5, 6]"}
			if withID {
				args["cell_id"] = "c-data"
			}
			out := invoke[tools.EditOut](t, reg, c, "propose_edit", args)
			src := sources(t, path)
			if src["c-data"] != "data = [4, 5, 6]" || src["c-print"] != "print('hello')" || src["h-top"] != "import os" {
				t.Fatalf("the edit landed wrong: %v", src)
			}
			if out.CellID != "c-data" || out.Index != 3 || !strings.Contains(out.Note, "now at index 3") {
				t.Errorf("the answer does not say where c-data is now: %+v", out)
			}
		})
	}
}

// TestIndexRefusedWhenCellGone: the cell the agent saw at an index was deleted;
// the index is refused with the fresh outline, which then is the agent's view.
func TestIndexRefusedWhenCellGone(t *testing.T) {
	for _, name := range []string{"propose_edit", "read_cell_smart", "delete_cell", "move_cell"} {
		reg, c, path := agentSetup(t)
		invoke[tools.OutlineOut](t, reg, c, "get_notebook_outline", map[string]any{"notebook_path": "nb.ipynb"})
		human(t, path, notebookmodel.Edit{Op: notebookmodel.EditDelete, Ref: notebookmodel.CellRef{CellID: "c-data"}})
		args := map[string]any{"notebook_path": "nb.ipynb", "index": 2}
		switch name {
		case "propose_edit":
			args["new_content"] = "x"
		case "move_cell":
			args["to_index"] = 0
		}
		before := ids(t, path)
		_, err := try(reg, c, name, args)
		if err == nil || !strings.Contains(err.Error(), `"c-data"`) || !strings.Contains(err.Error(), "id=c-plot") {
			t.Errorf("%s(index=2) after c-data was deleted: %v", name, err)
		}
		if got := ids(t, path); got != before {
			t.Errorf("%s: the refused call changed the notebook: %s", name, got)
		}
		// The refusal showed the outline: index 2 now means c-plot.
		if name == "read_cell_smart" {
			if out := invoke[tools.CellOut](t, reg, c, name, args); out.CellID != "c-plot" || out.Note != "" {
				t.Errorf("after the refusal index 2 = %+v, want c-plot", out)
			}
		}
		if src := sources(t, path); src["c-print"] != "print('hello')" {
			t.Errorf("c-print changed: %v", src)
		}
	}
}

// TestCellLevelMerge: a human changed one cell on disk since the agent read
// the notebook. Edits of other cells apply and keep the human's change; an
// edit of that cell is refused with its current text, which then counts as
// read.
func TestCellLevelMerge(t *testing.T) {
	reg, c, path := agentSetup(t)
	invoke[tools.OutlineOut](t, reg, c, "get_notebook_outline", map[string]any{"notebook_path": "nb.ipynb"})
	human(t, path, notebookmodel.Edit{Op: notebookmodel.EditReplaceSource, Ref: notebookmodel.CellRef{CellID: "intro"}, Source: "# Changed by a human"})
	human(t, path, notebookmodel.Edit{Op: notebookmodel.EditMove, Ref: notebookmodel.CellRef{CellID: "c-data"}, ToIndex: 0})

	invoke[tools.EditOut](t, reg, c, "append_cell", map[string]any{"notebook_path": "nb.ipynb", "content": "y = 2"})
	invoke[tools.EditOut](t, reg, c, "propose_edit", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "c-data", "new_content": "data = []"})
	src := sources(t, path)
	if src["intro"] != "# Changed by a human" || src["c-data"] != "data = []" {
		t.Fatalf("merge lost something: %v", src)
	}
	// The agent's view was refreshed by the edit results; a new human change to intro:
	human(t, path, notebookmodel.Edit{Op: notebookmodel.EditReplaceSource, Ref: notebookmodel.CellRef{CellID: "intro"}, Source: "# Typed again"})
	_, err := try(reg, c, "propose_edit", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "intro", "new_content": "# Agent"})
	if err == nil || !strings.Contains(err.Error(), "# Typed again") || !strings.Contains(err.Error(), "changed by someone else") {
		t.Fatalf("an edit over a human's change was not refused with the current text: %v", err)
	}
	if src := sources(t, path); src["intro"] != "# Typed again" {
		t.Fatalf("the refused edit wrote: %v", src)
	}
	_, err = try(reg, c, "delete_cell", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "intro"})
	if err != nil {
		t.Fatalf("after the refusal showed the text, delete_cell: %v", err)
	}
}

// TestInsertAndMoveThroughView: positions an agent gives are positions in
// the outline it saw.
func TestInsertAndMoveThroughView(t *testing.T) {
	reg, c, path := agentSetup(t)
	invoke[tools.OutlineOut](t, reg, c, "get_notebook_outline", map[string]any{"notebook_path": "nb.ipynb"})
	human(t, path, insertTop)
	// "Insert at 2" = in front of c-data, which the agent saw at 2.
	ins := invoke[tools.EditOut](t, reg, c, "insert_cell", map[string]any{"notebook_path": "nb.ipynb", "index": 2, "content": "# before data"})
	if got := ids(t, path); got != "h-top,intro,c-print,"+ins.CellID+",c-data,c-plot" {
		t.Fatalf("insert through the view: %s", got)
	}
	invoke[tools.OutlineOut](t, reg, c, "get_notebook_outline", map[string]any{"notebook_path": "nb.ipynb"})
	human(t, path, notebookmodel.Edit{Op: notebookmodel.EditDelete, Ref: notebookmodel.CellRef{CellID: "h-top"}})
	// Move c-plot (index 5 in the agent's view) to index 1 (right after h-top as seen).
	mv := invoke[tools.EditOut](t, reg, c, "move_cell", map[string]any{"notebook_path": "nb.ipynb", "index": 5, "to_index": 2})
	if got := ids(t, path); got != "intro,c-plot,c-print,"+ins.CellID+",c-data" || mv.CellID != "c-plot" {
		t.Fatalf("move through the view: %s (%+v)", got, mv)
	}
}

// TestViewsArePerAgent: one agent's outline is not another's view.
func TestViewsArePerAgent(t *testing.T) {
	reg, c, path := agentSetup(t)
	other := &tools.Call{Core: c.Core, Agent: "agent-2"}
	invoke[tools.OutlineOut](t, reg, c, "get_notebook_outline", map[string]any{"notebook_path": "nb.ipynb"})
	human(t, path, insertTop)
	invoke[tools.OutlineOut](t, reg, other, "get_notebook_outline", map[string]any{"notebook_path": "nb.ipynb"})
	a := invoke[tools.CellOut](t, reg, c, "read_cell_smart", map[string]any{"notebook_path": "nb.ipynb", "index": 2})
	b := invoke[tools.CellOut](t, reg, other, "read_cell_smart", map[string]any{"notebook_path": "nb.ipynb", "index": 2})
	if a.CellID != "c-data" || b.CellID != "c-print" {
		t.Errorf("index 2: agent-1 got %s (want c-data), agent-2 got %s (want c-print)", a.CellID, b.CellID)
	}
}
