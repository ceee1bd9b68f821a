package tools_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/workspace"
)

// notebook is a small nbformat 4.5 notebook with cell ids, written the way
// Jupyter writes it (1-space indent, trailing newline).
const notebook = `{
 "cells": [
  {
   "cell_type": "markdown",
   "id": "intro",
   "metadata": {},
   "source": [
    "# Title"
   ]
  },
  {
   "cell_type": "code",
   "execution_count": null,
   "id": "calc",
   "metadata": {},
   "outputs": [],
   "source": [
    "x = 1 + 1\n",
    "x"
   ]
  }
 ],
 "metadata": {
  "kernelspec": {
   "display_name": "Python 3",
   "language": "python",
   "name": "python3"
  },
  "language_info": {
   "name": "python"
  }
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
`

func setup(t *testing.T) (*tools.Registry, *tools.Call, string) {
	t.Helper()
	ws, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "nb.ipynb"), []byte(notebook), 0o644); err != nil {
		t.Fatal(err)
	}
	roots, err := workspace.New(ws)
	if err != nil {
		t.Fatal(err)
	}
	mgr := session.NewManager(session.Options{})
	t.Cleanup(func() { mgr.Close(context.Background()) })
	core := tools.NewCore(roots, mgr, nil)
	return tools.NewRegistry(), &tools.Call{Core: core}, ws
}

func invoke[T any](t *testing.T, reg *tools.Registry, c *tools.Call, name string, args any) T {
	t.Helper()
	b, _ := json.Marshal(args)
	out, err := reg.Invoke(context.Background(), c, name, b)
	if err != nil {
		t.Fatalf("%s(%s): %v", name, b, err)
	}
	v, ok := out.(T)
	if !ok {
		t.Fatalf("%s returned %T", name, out)
	}
	return v
}

func TestRegistryDescribesEveryTool(t *testing.T) {
	reg := tools.NewRegistry()
	if n := len(reg.List()); n < 19 {
		t.Fatalf("%d tools registered, want ≥ 19", n)
	}
	for _, tool := range reg.List() {
		if tool.Title == "" || len(tool.Description) < 20 {
			t.Errorf("%s: title/description missing", tool.Name)
		}
		if tool.InputSchema.Type != "object" || tool.InputSchema.AdditionalProperties == nil {
			t.Errorf("%s: input schema must be a closed object", tool.Name)
		}
		for name, p := range tool.InputSchema.Properties {
			if p.Description == "" {
				t.Errorf("%s.%s: no description", tool.Name, name)
			}
		}
		for what, schema := range map[string]*jsonschema.Schema{"input": tool.InputSchema, "output": tool.OutputSchema} {
			if bad := bareTrue(schema, ""); len(bad) > 0 {
				t.Errorf("%s %s schema: %v marshal as `true` (the TypeScript SDK refuses them)", tool.Name, what, bad)
			}
		}
		if tool.ReadOnly && tool.Destructive {
			t.Errorf("%s: read-only and destructive", tool.Name)
		}
	}
	var destructive []string
	for _, tool := range reg.List() {
		if tool.Destructive {
			destructive = append(destructive, tool.Name)
		}
	}
	if diff := cmp.Diff([]string{"delete_cell", "delete_checkpoint", "edit_cell_source", "load_checkpoint", "propose_edit", "restart_kernel", "run_cell", "run_cell_async", "run_cells", "save_checkpoint", "stop_kernel", "sync_state_from_disk"}, destructive); diff != "" {
		t.Errorf("destructive tools (-want +got):\n%s", diff)
	}
}

// bareTrue lists the sub-schemas of s that marshal as the boolean schema `true`.
func bareTrue(s *jsonschema.Schema, at string) []string {
	if s == nil {
		return nil
	}
	var bad []string
	check := func(sub *jsonschema.Schema, where string) {
		if b, _ := json.Marshal(sub); string(b) == "true" {
			bad = append(bad, where)
		}
		bad = append(bad, bareTrue(sub, where)...)
	}
	for name, p := range s.Properties {
		check(p, at+"/"+name)
	}
	if s.Items != nil {
		check(s.Items, at+"/items")
	}
	return bad
}

func TestHeadlessInsertDeleteIsByteIdentical(t *testing.T) {
	reg, c, ws := setup(t)
	path := filepath.Join(ws, "nb.ipynb")
	ins := invoke[tools.EditOut](t, reg, c, "insert_cell", map[string]any{"notebook_path": "nb.ipynb", "index": 1, "content": "print('hi')"})
	if ins.AppliedVia != "disk" || ins.Index != 1 || len(ins.Cells) != 3 || ins.Cells[1].ID != ins.CellID {
		t.Fatalf("insert: %+v", ins)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "print('hi')") {
		t.Fatalf("inserted cell not on disk:\n%s", data)
	}
	invoke[tools.EditOut](t, reg, c, "delete_cell", map[string]any{"notebook_path": "nb.ipynb", "cell_id": ins.CellID})
	data, _ = os.ReadFile(path)
	if diff := cmp.Diff(notebook, string(data)); diff != "" {
		t.Errorf("insert + delete changed the file (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(ws)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
}

func TestEditsAndQueries(t *testing.T) {
	reg, c, _ := setup(t)
	out := invoke[tools.OutlineOut](t, reg, c, "get_notebook_outline", map[string]any{"notebook_path": "nb.ipynb"})
	var ids []string
	for _, e := range out.Cells {
		ids = append(ids, e.ID)
	}
	if diff := cmp.Diff([]string{"intro", "calc"}, ids); diff != "" {
		t.Fatalf("outline ids (-want +got):\n%s", diff)
	}
	if out.Source != "disk" || out.Kernel != "none" {
		t.Errorf("outline source/kernel: %q %q", out.Source, out.Kernel)
	}
	edited := invoke[tools.EditOut](t, reg, c, "propose_edit", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "calc", "new_content": "y = 40 + 2"})
	if edited.CellID != "calc" || edited.Index != 1 {
		t.Errorf("propose_edit: %+v", edited)
	}
	cell := invoke[tools.CellOut](t, reg, c, "read_cell_smart", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "calc"})
	if cell.Source != "y = 40 + 2" {
		t.Errorf("read_cell_smart source %q", cell.Source)
	}
	moved := invoke[tools.EditOut](t, reg, c, "move_cell", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "calc", "to_index": 0})
	if moved.Index != 0 || moved.Cells[1].ID != "intro" {
		t.Errorf("move_cell: %+v", moved)
	}
	hits := invoke[tools.SearchOut](t, reg, c, "search_notebook", map[string]any{"notebook_path": "nb.ipynb", "query": "title"})
	if len(hits.Hits) != 1 || hits.Hits[0].CellID != "intro" {
		t.Errorf("search: %+v", hits)
	}
	over := invoke[tools.OutlineOut](t, reg, c, "get_notebook_outline", map[string]any{"notebook_path": "nb.ipynb",
		"structure_override": []map[string]any{{"cell_type": "markdown", "source": "# A"}, {"cell_type": "code", "source": "1"}}})
	if over.Source != "override" || over.CellCount != 2 || over.Cells[0].Title != "A" {
		t.Errorf("structure_override: %+v", over)
	}
	// A stale index (calc is now at 0) is refused with the fresh outline.
	args, _ := json.Marshal(map[string]any{"notebook_path": "nb.ipynb", "index": 1, "cell_id": "calc", "new_content": "z"})
	_, err := reg.Invoke(context.Background(), c, "propose_edit", args)
	if err == nil || !strings.Contains(err.Error(), "stale") || !strings.Contains(err.Error(), "id=intro") {
		t.Errorf("stale index: got %v", err)
	}
}

func TestReadCellLargeOutputsBecomeResource(t *testing.T) {
	reg, c, ws := setup(t)
	big := strings.Repeat("z", 700_000)
	nb := strings.Replace(notebook, `"outputs": [],`, `"outputs": [{"name": "stdout", "output_type": "stream", "text": ["`+big+`"]}],`, 1)
	if err := os.WriteFile(filepath.Join(ws, "big.ipynb"), []byte(nb), 0o644); err != nil {
		t.Fatal(err)
	}
	cell := invoke[tools.CellOut](t, reg, c, "read_cell_smart", map[string]any{"notebook_path": "big.ipynb", "cell_id": "calc", "include_raw_outputs": true})
	if cell.RawResource == "" || len(cell.RawOutputs) != 0 || len(cell.LLMSummary) > 5000 {
		t.Fatalf("large outputs inlined: resource %q, %d raw, summary %d bytes", cell.RawResource, len(cell.RawOutputs), len(cell.LLMSummary))
	}
	blob, ok := c.Core.Blob(cell.RawResource)
	if !ok || !strings.Contains(string(blob.Data), big) {
		t.Errorf("resource %s does not hold the outputs", cell.RawResource)
	}
}
