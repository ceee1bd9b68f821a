package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

// TestOnChange: observers hear of successful calls of tools that may change a
// notebook or its kernel, with the resolved path, and of nothing else.
func TestOnChange(t *testing.T) {
	reg, c, ws := setup(t)
	nb := filepath.Join(ws, "nb.ipynb")
	var mu sync.Mutex
	var heard []string
	cancel := c.Core.OnChange(func(p string) {
		mu.Lock()
		heard = append(heard, p)
		mu.Unlock()
	})
	tests := []struct {
		name string
		tool string
		args string
		want []string
	}{
		{"read-only tool", "get_notebook_outline", `{"notebook_path":"nb.ipynb"}`, nil},
		{"edit, relative path", "append_cell", `{"notebook_path":"nb.ipynb","content":"y = 2"}`, []string{nb}},
		{"failed call", "append_cell", `{"notebook_path":"missing.ipynb","content":"y = 2"}`, nil},
		{"path outside the workspace", "append_cell", `{"notebook_path":"/etc/x.ipynb","content":"y = 2"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			heard = nil
			mu.Unlock()
			_, _ = reg.Invoke(context.Background(), c, tt.tool, json.RawMessage(tt.args))
			mu.Lock()
			got := heard
			mu.Unlock()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("observed paths (-want +got):\n%s", diff)
			}
		})
	}
	cancel()
	heard = nil
	if _, err := reg.Invoke(context.Background(), c, "append_cell", json.RawMessage(`{"notebook_path":"nb.ipynb","content":"z = 3"}`)); err != nil {
		t.Fatal(err)
	}
	if heard != nil {
		t.Errorf("a cancelled observer still heard %v", heard)
	}
}

// TestEditorOnly: an EditorOnly call never falls back to the file, so
// bookkeeping edits cannot land in a notebook the person closed.
func TestEditorOnly(t *testing.T) {
	_, c, ws := setup(t)
	nb := filepath.Join(ws, "nb.ipynb")
	before, _ := os.ReadFile(nb)
	eo := &tools.Call{Core: c.Core, EditorOnly: true}
	if _, err := eo.LoadNotebook(context.Background(), nb); !errors.Is(err, tools.ErrNotOpen) {
		t.Errorf("LoadNotebook of a notebook no editor has open: %v, want ErrNotOpen", err)
	}
	if after, _ := os.ReadFile(nb); string(after) != string(before) {
		t.Error("the file changed")
	}
	if _, err := c.LoadNotebook(context.Background(), nb); err != nil {
		t.Errorf("without EditorOnly the file is read: %v", err)
	}
}
