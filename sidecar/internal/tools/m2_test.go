package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/workspace"
)

func BenchmarkM2(b *testing.B) {
	ws := b.TempDir()
	var cells []map[string]any
	for i := 0; i < 5000; i++ {
		cells = append(cells, map[string]any{"cell_type": "code", "execution_count": nil, "id": fmt.Sprintf("c%d", i), "metadata": map[string]any{}, "outputs": []any{}, "source": []string{fmt.Sprintf("df_%d = load(%d)\n", i, i), "x"}})
	}
	data, _ := json.MarshalIndent(map[string]any{"cells": cells, "metadata": map[string]any{}, "nbformat": 4, "nbformat_minor": 5}, "", " ")
	os.WriteFile(filepath.Join(ws, "big.ipynb"), data, 0o644)
	roots, _ := workspace.New(ws)
	reg := tools.NewRegistry()
	c := &tools.Call{Core: tools.NewCore(roots, session.NewManager(session.Options{}), nil)}
	for _, name := range []string{"get_notebook_outline", "search_notebook"} {
		args := json.RawMessage(`{"notebook_path":"big.ipynb"}`)
		if name == "search_notebook" {
			args = json.RawMessage(`{"notebook_path":"big.ipynb","query":"df_4999","in_outputs":false}`)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := reg.Invoke(context.Background(), c, name, args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
