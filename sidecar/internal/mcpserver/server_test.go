package mcpserver_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/mcpserver"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/sandbox"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/workspace"
)

const nbJSON = `{"cells": [
 {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": ["# Title"]},
 {"cell_type": "code", "execution_count": null, "id": "calc", "metadata": {}, "outputs": [], "source": ["x = 1"]}
], "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
`

// connect serves a fresh workspace over an in-memory transport and returns a client session.
func connect(t *testing.T) (*mcp.ClientSession, string) {
	t.Helper()
	ws, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"nb.ipynb":     nbJSON,
		"broken.ipynb": `{"cells": [ {"cell_type": "code",`,
		"old.ipynb":    `{"nbformat": 3, "nbformat_minor": 0, "worksheets": [], "metadata": {}}`,
		"notes.txt":    "just text",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(ws, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	roots, err := workspace.New(ws)
	if err != nil {
		t.Fatal(err)
	}
	mgr := session.NewManager(session.Options{})
	t.Cleanup(func() { mgr.Close(context.Background()) })
	srv := mcpserver.New(tools.NewRegistry(), tools.NewCore(roots, mgr, nil), mcpserver.Options{Version: "test"})
	st, ct := mcp.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs, ws
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func TestToolsListed(t *testing.T) {
	cs, _ := connect(t)
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*mcp.Tool{}
	for _, tool := range res.Tools {
		byName[tool.Name] = tool
		a := tool.Annotations
		if a == nil || a.OpenWorldHint == nil || a.DestructiveHint == nil {
			t.Errorf("%s: annotations must set openWorldHint and destructiveHint: %+v", tool.Name, a)
			continue
		}
		if tool.Title == "" {
			t.Errorf("%s: title missing", tool.Name)
		}
		if tool.OutputSchema != nil {
			t.Errorf("%s: output schema listed (tools/list budget, M3)", tool.Name)
		}
		schema, _ := json.Marshal(tool.InputSchema)
		if !strings.Contains(string(schema), `"additionalProperties":false`) {
			t.Errorf("%s: input schema is not closed: %s", tool.Name, schema)
		}
	}
	for name, want := range map[string][3]bool{ // readOnly, destructive, idempotent
		"get_notebook_outline": {true, false, false},
		"read_cell_smart":      {true, false, false},
		"delete_cell":          {false, true, false},
		"stop_kernel":          {false, true, true},
		"insert_cell":          {false, false, false},
		"run_cell":             {false, true, false},
	} {
		tool := byName[name]
		if tool == nil {
			t.Errorf("%s not listed", name)
			continue
		}
		a := tool.Annotations
		if got := [3]bool{a.ReadOnlyHint, *a.DestructiveHint, a.IdempotentHint}; got != want {
			t.Errorf("%s annotations readOnly/destructive/idempotent = %v, want %v", name, got, want)
		}
	}
}

// TestBadCalls: every bad call is a tool result with isError and text that says
// what to do, and the server keeps serving.
func TestBadCalls(t *testing.T) {
	cs, ws := connect(t)
	ctx := context.Background()
	tests := []struct {
		tool string
		args any
		want string // a substring of the error text
	}{
		{"start_kernel", map[string]any{}, "notebook_path"},
		{"start_kernel", map[string]any{"notebook_path": 5}, "notebook_path"},
		{"start_kernel", map[string]any{"notebook_path": "nb.ipynb", "bogus": 1}, "bogus"},
		{"start_kernel", map[string]any{"notebook_path": "../evil.ipynb"}, "not inside"},
		{"start_kernel", map[string]any{"notebook_path": "nb.ipynb", "sandbox": "bubblewrap", "docker_image": "python:3"}, "docker_image"},
		{"start_kernel", map[string]any{"notebook_path": "nb.ipynb", "sandbox": "chroot"}, "bubblewrap"},
		{"start_kernel", map[string]any{"notebook_path": "nb.ipynb", "venv_path": "no-such-venv"}, "list_environments"},
		{"start_kernel", map[string]any{"notebook_path": "nb.ipynb", "kernel_name": "no-such-kernel"}, "list_environments"},
		{"stop_kernel", map[string]any{"notebook_path": "nb.ipynb"}, "start_kernel"},
		{"restart_kernel", map[string]any{"notebook_path": "nb.ipynb"}, "start_kernel"},
		{"interrupt_kernel", map[string]any{"notebook_path": "nb.ipynb"}, "start_kernel"},
		{"run_cell_async", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "calc"}, "start_kernel"},
		{"run_cell", map[string]any{"notebook_path": "nb.ipynb", "index": 1}, "start_kernel"},
		{"run_cell_async", map[string]any{"notebook_path": "nb.ipynb", "index": "1"}, "index"},
		{"get_execution_stream", map[string]any{"notebook_path": "nb.ipynb", "task_id": "nope"}, "start_kernel"},
		{"get_execution_stream", map[string]any{"notebook_path": "nb.ipynb"}, "task_id"},
		{"submit_input", map[string]any{"notebook_path": "nb.ipynb", "task_id": "t", "value": "v"}, "start_kernel"},
		{"get_kernel_info", map[string]any{"notebook_path": "nb.ipynb"}, "start_kernel"},
		{"get_notebook_outline", map[string]any{"notebook_path": "missing.ipynb"}, "does not exist"},
		{"get_notebook_outline", map[string]any{"notebook_path": "broken.ipynb"}, "not a readable notebook"},
		{"get_notebook_outline", map[string]any{"notebook_path": "old.ipynb"}, "not a readable notebook"},
		{"get_notebook_outline", map[string]any{"notebook_path": "notes.txt"}, "not a readable notebook"},
		{"get_notebook_outline", map[string]any{"notebook_path": "/etc/passwd"}, "not inside"},
		{"get_notebook_outline", map[string]any{"notebook_path": filepath.Join(ws+"-evil", "nb.ipynb")}, "not inside"},
		{"get_notebook_outline", map[string]any{"notebook_path": "nb.ipynb", "structure_override": []any{map[string]any{"cell_type": "sql", "source": "x"}}}, "cell_type"},
		{"read_cell_smart", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "nope"}, "outline"},
		{"read_cell_smart", map[string]any{"notebook_path": "nb.ipynb", "index": 7}, "outline"},
		{"read_cell_smart", map[string]any{"notebook_path": "nb.ipynb"}, "index or cell_id"},
		{"read_cell_smart", map[string]any{"notebook_path": "nb.ipynb", "index": 0, "cell_id": "calc"}, "stale"},
		{"search_notebook", map[string]any{"notebook_path": "nb.ipynb", "query": ""}, "query"},
		{"search_notebook", map[string]any{"notebook_path": "nb.ipynb", "query": "(", "regex": true}, "regular expression"},
		{"search_notebook", map[string]any{"notebook_path": "nb.ipynb", "query": "x", "cell_type": "sql"}, "cell_type"},
		{"propose_edit", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "nope", "new_content": "x"}, "outline"},
		{"propose_edit", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "calc"}, "new_content"},
		{"append_cell", map[string]any{"notebook_path": "nb.ipynb", "content": "x", "type": "sql"}, "type"},
		{"insert_cell", map[string]any{"notebook_path": "nb.ipynb", "index": 9, "content": "x"}, "out of range"},
		{"insert_cell", map[string]any{"notebook_path": "nb.ipynb", "content": "x"}, "append_cell"},
		{"delete_cell", map[string]any{"notebook_path": "nb.ipynb"}, "index or cell_id"},
		{"move_cell", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "calc", "to_index": 5}, "out of range"},
		{"list_kernels", map[string]any{"all": true}, "all"},
	}
	if sandbox.Check(ctx, sandbox.Docker) != nil { // no Docker engine here: the refusal says so
		tests = append(tests, struct {
			tool string
			args any
			want string
		}{"start_kernel", map[string]any{"notebook_path": "nb.ipynb", "docker_image": "python:3"}, "not available"})
	}
	if len(tests) < 30 {
		t.Fatalf("only %d bad calls", len(tests))
	}
	before, _ := os.ReadFile(filepath.Join(ws, "nb.ipynb"))
	for _, tc := range tests {
		args, _ := json.Marshal(tc.args)
		t.Run(tc.tool+string(args), func(t *testing.T) {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tc.tool, Arguments: tc.args})
			if err != nil {
				t.Fatalf("protocol error instead of an isError result: %v", err)
			}
			msg := text(res)
			if !res.IsError {
				t.Fatalf("not an error: %s", msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error text %q does not mention %q", msg, tc.want)
			}
		})
	}
	if after, _ := os.ReadFile(filepath.Join(ws, "nb.ipynb")); string(after) != string(before) {
		t.Error("a refused call changed the notebook")
	}
	// Still serving.
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_notebook_outline", Arguments: map[string]any{"notebook_path": "nb.ipynb"}})
	if err != nil || res.IsError {
		t.Fatalf("server stopped serving after bad calls: %v %s", err, text(res))
	}
	var out tools.OutlineOut
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil || out.CellCount != 2 {
		t.Errorf("outline after bad calls: %s (%v)", b, err)
	}
	// An unknown tool is a protocol error (the spec's choice), not a crash.
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "no_such_tool", Arguments: map[string]any{}}); err == nil {
		t.Error("unknown tool: want an error")
	}
}

func TestOutlineResource(t *testing.T) {
	cs, _ := connect(t)
	ctx := context.Background()
	tmpl, err := cs.ListResourceTemplates(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var uris []string
	for _, rt := range tmpl.ResourceTemplates {
		uris = append(uris, rt.URITemplate)
	}
	if !strings.Contains(strings.Join(uris, " "), "notebook://outline/{path}") || !strings.Contains(strings.Join(uris, " "), "notebook://outputs/{task_id}") {
		t.Errorf("resource templates: %v", uris)
	}
	res, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "notebook://outline/nb.ipynb"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Contents) != 1 || !strings.Contains(res.Contents[0].Text, `"id": "calc"`) {
		t.Errorf("outline resource: %+v", res.Contents)
	}
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "notebook://outputs/unknown-task"}); err == nil {
		t.Error("unknown outputs resource: want an error")
	}
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "notebook://outline/..%2Fescape.ipynb"}); err == nil {
		t.Error("outline resource outside the workspace: want an error")
	}
}

// Codex keeps about the first 250 characters of a server's instructions: the
// whole must fit, and the rule on cell ids must come first.
func TestInstructionsFitWhatClientsKeep(t *testing.T) {
	cs, _ := connect(t)
	got := cs.InitializeResult().Instructions
	if got != mcpserver.Instructions || len(got) > 250 {
		t.Fatalf("instructions (%d chars, want ≤ 250): %q", len(got), got)
	}
	if i := strings.Index(got, "cell_id"); i < 0 || i > 80 {
		t.Errorf("the cell_id rule is at %d, want it in the first sentence: %q", i, got)
	}
}
