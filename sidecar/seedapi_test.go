package sidecar_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
)

// seedNotebook has ids like a notebook saved by Jupyter 4.5+.
const seedNotebook = `{
 "cells": [
  {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": ["# Seed API"]},
  {"cell_type": "code", "execution_count": null, "id": "c-print", "metadata": {}, "outputs": [], "source": ["print('hello')"]},
  {"cell_type": "code", "execution_count": null, "id": "c-data", "metadata": {}, "outputs": [], "source": ["data = [1, 2, 3]"]}
 ],
 "metadata": {"language_info": {"name": "python"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
`

// mcpStandalone starts `mcp-jupyter mcp --standalone` on a fresh workspace
// holding nb.ipynb and connects the go-sdk client to it over stdio.
func mcpStandalone(t *testing.T, notebook string) (*mcp.ClientSession, string) {
	t.Helper()
	ws, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "nb.ipynb"), []byte(notebook), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.Binary(t), "mcp", "--standalone", "--workspace", ws)
	cmd.Dir = ws
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir())
	cmd.Stderr = &testLog{t: t}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "seed-agent", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs, ws
}

// seedCall calls a tool and returns its structured result as a map; a tool
// error fails the test with the model-facing text.
func seedCall(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) map[string]any {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s(%v): %v", name, args, err)
	}
	if res.IsError {
		t.Fatalf("%s(%v) refused: %s", name, args, resultText(res))
	}
	var out map[string]any
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v in %s", name, err, b)
	}
	return out
}

func outlineIDs(out map[string]any) []string {
	var ids []string
	cells, _ := out["cells"].([]any)
	for _, c := range cells {
		ids = append(ids, c.(map[string]any)["id"].(string))
	}
	return ids
}

// TestSeedAPIAsWritten calls every row of the seed's API reference
// (seed.md, "API Reference") with exactly the argument names it documents,
// through the real binary's MCP door, and checks what each call did.
func TestSeedAPIAsWritten(t *testing.T) {
	py := testenv.Python(t)
	venv := filepath.Dir(filepath.Dir(py))
	cs, ws := mcpStandalone(t, seedNotebook)
	nb := "nb.ipynb"
	readFile := func() string {
		b, err := os.ReadFile(filepath.Join(ws, nb))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	// Navigation & Modification.
	out := seedCall(t, cs, "get_notebook_outline", map[string]any{"notebook_path": nb})
	if got := strings.Join(outlineIDs(out), ","); got != "intro,c-print,c-data" {
		t.Fatalf("get_notebook_outline: ids %s", got)
	}
	ov := seedCall(t, cs, "get_notebook_outline", map[string]any{"notebook_path": nb,
		"structure_override": []map[string]any{{"cell_type": "code", "source": "y = 1"}}})
	if ov["cell_count"].(float64) != 1 || ov["source"] != "override" {
		t.Errorf("get_notebook_outline(structure_override): %v", ov)
	}
	rd := seedCall(t, cs, "read_cell_smart", map[string]any{"notebook_path": nb, "index": 1})
	if rd["cell_id"] != "c-print" || rd["source"] != "print('hello')" {
		t.Errorf("read_cell_smart(index=1): %v", rd)
	}
	se := seedCall(t, cs, "search_notebook", map[string]any{"notebook_path": nb, "query": "data ="})
	if hits, _ := se["hits"].([]any); len(hits) != 1 || hits[0].(map[string]any)["cell_id"] != "c-data" {
		t.Errorf("search_notebook: %v", se)
	}
	pe := seedCall(t, cs, "propose_edit", map[string]any{"notebook_path": nb, "index": 2, "new_content": "data = [1, 2, 3, 4]"})
	if pe["cell_id"] != "c-data" || !strings.Contains(readFile(), `"data = [1, 2, 3, 4]"`) {
		t.Errorf("propose_edit(index=2): %v; file:\n%s", pe, readFile())
	}

	// Safety.
	ap := seedCall(t, cs, "append_cell", map[string]any{"notebook_path": nb, "content": "## Notes", "type": "markdown"})
	appended, _ := ap["cell_id"].(string)
	ids := outlineIDs(seedCall(t, cs, "get_notebook_outline", map[string]any{"notebook_path": nb}))
	if len(ids) != 4 || ids[3] != appended {
		t.Fatalf("append_cell(content, type): %v, outline %v", ap, ids)
	}
	if rd := seedCall(t, cs, "read_cell_smart", map[string]any{"notebook_path": nb, "index": 3}); rd["type"] != "markdown" || rd["source"] != "## Notes" {
		t.Errorf("append_cell made %v", rd)
	}
	in := seedCall(t, cs, "insert_cell", map[string]any{"notebook_path": nb, "index": 1, "content": "total = sum(data)"})
	inserted, _ := in["cell_id"].(string)
	ids = outlineIDs(seedCall(t, cs, "get_notebook_outline", map[string]any{"notebook_path": nb}))
	if len(ids) != 5 || ids[1] != inserted {
		t.Fatalf("insert_cell(index=1, content): %v, outline %v", in, ids)
	}
	if rd := seedCall(t, cs, "read_cell_smart", map[string]any{"notebook_path": nb, "index": 1}); rd["type"] != "code" || rd["source"] != "total = sum(data)" {
		t.Errorf("insert_cell made %v", rd)
	}
	seedCall(t, cs, "delete_cell", map[string]any{"notebook_path": nb, "index": 4})
	ids = outlineIDs(seedCall(t, cs, "get_notebook_outline", map[string]any{"notebook_path": nb}))
	if strings.Join(ids, ",") != "intro,"+inserted+",c-print,c-data" {
		t.Errorf("delete_cell(index=4) left %v", ids)
	}

	// Execution.
	k := seedCall(t, cs, "start_kernel", map[string]any{"notebook_path": nb, "venv_path": venv})
	if pid, _ := k["pid"].(float64); pid <= 0 {
		t.Fatalf("start_kernel: %v", k)
	}
	task := seedCall(t, cs, "run_cell_async", map[string]any{"notebook_path": nb, "index": 3})
	if task["cell_id"] != "c-data" {
		t.Errorf("run_cell_async(index=3) ran %v", task)
	}
	waitDone := func(taskID string) map[string]any {
		deadline := time.Now().Add(90 * time.Second)
		for {
			st := seedCall(t, cs, "get_execution_stream", map[string]any{"notebook_path": nb, "task_id": taskID, "wait_ms": 2000})
			if st["done"] == true || time.Now().After(deadline) {
				return st
			}
		}
	}
	if st := waitDone(task["task_id"].(string)); st["status"] != "ok" {
		t.Fatalf("get_execution_stream: %v", st)
	}
	// Provenance: the run and the agent's edit of c-data are on record.
	if rd := seedCall(t, cs, "read_cell_smart", map[string]any{"notebook_path": nb, "index": 3}); func() bool {
		p, _ := rd["provenance"].(map[string]any)
		ran, _ := p["last_ran"].(map[string]any)
		ed, _ := p["last_edited"].(map[string]any)
		return ran["by"] != "agent" || ed["by"] != "agent" || ed["tool"] != "propose_edit"
	}() {
		t.Errorf("provenance of c-data after propose_edit and run_cell_async: %v", rd["provenance"])
	}
	ov2 := seedCall(t, cs, "run_cell_async", map[string]any{"notebook_path": nb, "index": 2, "code_override": "print(len(data))"})
	if st := waitDone(ov2["task_id"].(string)); !strings.Contains(st["llm_summary"].(string), "4") {
		t.Errorf("run_cell_async(code_override) output: %v", st)
	}
	long := seedCall(t, cs, "run_cell_async", map[string]any{"notebook_path": nb, "index": 2, "code_override": "import time; time.sleep(60)"})
	time.Sleep(300 * time.Millisecond)
	seedCall(t, cs, "interrupt_kernel", map[string]any{"notebook_path": nb})
	if st := waitDone(long["task_id"].(string)); st["status"] != "error" || !strings.Contains(st["error"].(string), "KeyboardInterrupt") {
		t.Errorf("interrupt_kernel: the sleep ended with %v", st)
	}

	// State management.
	info := seedCall(t, cs, "get_kernel_info", map[string]any{"notebook_path": nb})
	if b, _ := json.Marshal(info); !strings.Contains(string(b), `"data"`) {
		t.Errorf("get_kernel_info does not list data: %s", b)
	}
	iv := seedCall(t, cs, "inspect_variable", map[string]any{"notebook_path": nb, "var_name": "data"})
	if !strings.Contains(iv["summary"].(string), "list") {
		t.Errorf("inspect_variable: %v", iv)
	}
	sv := seedCall(t, cs, "save_checkpoint", map[string]any{"notebook_path": nb, "name": "seed"})
	if b, _ := json.Marshal(sv["saved"]); !strings.Contains(string(b), `"data"`) {
		t.Errorf("save_checkpoint: %v", sv)
	}
	seedCall(t, cs, "run_cell_async", map[string]any{"notebook_path": nb, "code_override": "del data"})
	ld := seedCall(t, cs, "load_checkpoint", map[string]any{"notebook_path": nb, "name": "seed"})
	if b, _ := json.Marshal(ld["loaded"]); !strings.Contains(string(b), `"data"`) {
		t.Errorf("load_checkpoint: %v", ld)
	}
	sy := seedCall(t, cs, "detect_sync_needed", map[string]any{"notebook_path": nb})
	if b, _ := json.Marshal(sy); !strings.Contains(string(b), inserted) {
		t.Errorf("detect_sync_needed does not name the never-run cell %s: %s", inserted, b)
	}
	ss := seedCall(t, cs, "sync_state_from_disk", map[string]any{"notebook_path": nb})
	if ss["failed"] != nil {
		t.Errorf("sync_state_from_disk: %v", ss)
	}
	iv = seedCall(t, cs, "inspect_variable", map[string]any{"notebook_path": nb, "var_name": "total"})
	if !strings.Contains(iv["summary"].(string), "10") {
		t.Errorf("after sync_state_from_disk total = %v", iv)
	}
	seedCall(t, cs, "stop_kernel", map[string]any{"notebook_path": nb})
	if info := seedCall(t, cs, "list_kernels", map[string]any{}); strings.Contains(func() string { b, _ := json.Marshal(info); return string(b) }(), "nb.ipynb") {
		t.Errorf("stop_kernel left %v", info)
	}
}

// seedRefused calls a tool that must be refused and returns the refusal text.
func seedRefused(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) string {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !res.IsError {
		t.Fatalf("%s(%v) was not refused: %s", name, args, resultText(res))
	}
	return resultText(res)
}
