package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// bigNotebook is the M2 notebook (5,000 cells, a heading every 10th) with
// outputs on some code cells.
func bigNotebook(t *testing.T, dir string, n int) {
	t.Helper()
	var cells []map[string]any
	for i := 0; i < n; i++ {
		if i%10 == 0 {
			cells = append(cells, map[string]any{"cell_type": "markdown", "id": fmt.Sprintf("m%d", i), "metadata": map[string]any{}, "source": []string{fmt.Sprintf("## Section %d\n", i), "Some prose about the data."}})
			continue
		}
		outputs := []any{}
		if i%3 == 0 {
			outputs = append(outputs, map[string]any{"output_type": "execute_result", "execution_count": i, "metadata": map[string]any{}, "data": map[string]any{"text/plain": []string{fmt.Sprintf("rows: %d", i)}}})
		}
		cells = append(cells, map[string]any{"cell_type": "code", "execution_count": nil, "id": fmt.Sprintf("c%d", i), "metadata": map[string]any{}, "outputs": outputs,
			"source": []string{fmt.Sprintf("df_%d = load(%d)\n", i, i), fmt.Sprintf("df_%d.describe()", i)}})
	}
	b, _ := json.MarshalIndent(map[string]any{"cells": cells, "metadata": map[string]any{"language_info": map[string]any{"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}, "", " ")
	if err := os.WriteFile(filepath.Join(dir, "big.ipynb"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func callRaw(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (*mcp.CallToolResult, int, time.Duration) {
	t.Helper()
	start := time.Now()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	b, _ := json.Marshal(res)
	return res, len(b), took
}

type pageOut struct {
	CellCount  int                   `json:"cell_count"`
	Offset     int                   `json:"offset"`
	More       bool                  `json:"more"`
	NextOffset int                   `json:"next_offset"`
	Cells      []struct{ ID string } `json:"cells"`
	Index      int                   `json:"index"`
}

func structured(t *testing.T, res *mcp.CallToolResult) pageOut {
	t.Helper()
	if res.IsError {
		t.Fatalf("tool error: %s", text(res))
	}
	var p pageOut
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAnswersSizedForAModel (M2c): on a 5,000-cell notebook the outline
// comes in pages of ≤ 32 KB that state the total and where the next page
// starts, every cell is on exactly one page, and an edit answers with the
// cells around it, not the whole outline.
func TestAnswersSizedForAModel(t *testing.T) {
	cs, ws := connect(t)
	bigNotebook(t, ws, 5000)
	const budget = 32 << 10

	res, size, took := callRaw(t, cs, "get_notebook_outline", map[string]any{"notebook_path": "big.ipynb"})
	p := structured(t, res)
	t.Logf("M2c outline first page: %d bytes, %d cells, %v round trip (in-memory transport)", size, len(p.Cells), took)
	if size > budget || p.CellCount != 5000 || !p.More || p.NextOffset != len(p.Cells) || len(p.Cells) < 20 {
		t.Fatalf("first page: %d bytes, %+v", size, struct{ Count, Shown, Next int }{p.CellCount, len(p.Cells), p.NextOffset})
	}
	if txt := text(res); !strings.Contains(txt, "5000 cells") || !strings.Contains(txt, fmt.Sprintf("more: offset=%d", p.NextOffset)) || strings.Count(txt, "\n") != len(p.Cells)+1 {
		t.Errorf("text content must state the total, where to go on, and one line per cell:\n%.400s", txt)
	}

	seen := map[string]bool{}
	offset, pages, largest := 0, 0, 0
	for {
		res, size, _ := callRaw(t, cs, "get_notebook_outline", map[string]any{"notebook_path": "big.ipynb", "offset": offset})
		p := structured(t, res)
		largest = max(largest, size)
		if p.Offset != offset {
			t.Fatalf("page at %d says offset %d", offset, p.Offset)
		}
		for _, c := range p.Cells {
			if seen[c.ID] {
				t.Fatalf("cell %s on two pages", c.ID)
			}
			seen[c.ID] = true
		}
		pages++
		if !p.More {
			break
		}
		offset = p.NextOffset
	}
	t.Logf("M2c: %d pages, largest %d bytes", pages, largest)
	if len(seen) != 5000 || largest > budget {
		t.Errorf("paging saw %d of 5000 cells; largest page %d bytes", len(seen), largest)
	}

	if p := structured(t, first(callRaw(t, cs, "get_notebook_outline", map[string]any{"notebook_path": "big.ipynb", "offset": 4990, "limit": 5}))); len(p.Cells) != 5 || p.Cells[0].ID != "m4990" || !p.More {
		t.Errorf("offset 4990 limit 5: %+v", p)
	}
	if res, _, _ := callRaw(t, cs, "get_notebook_outline", map[string]any{"notebook_path": "big.ipynb", "offset": 5000}); !res.IsError || !strings.Contains(text(res), "5000 cells") {
		t.Errorf("an offset past the end must be refused with the count: %s", text(res))
	}

	res, size, took = callRaw(t, cs, "append_cell", map[string]any{"notebook_path": "big.ipynb", "content": "print('end')", "type": "code"})
	p = structured(t, res)
	t.Logf("M2c append_cell: %d bytes, %v", size, took)
	if size > 4<<10 || p.CellCount != 5001 || p.Index != 5000 || len(p.Cells) != 4 || p.Cells[3].ID == "" {
		t.Errorf("append_cell answer: %d bytes, %+v", size, p)
	}
	res, size, _ = callRaw(t, cs, "delete_cell", map[string]any{"notebook_path": "big.ipynb", "cell_id": "c2501"})
	p = structured(t, res)
	if size > 4<<10 || p.CellCount != 5000 || len(p.Cells) != 7 || p.Cells[3].ID != "c2502" {
		t.Errorf("delete_cell answer: %d bytes, %+v", size, p)
	}
}

func first(res *mcp.CallToolResult, _ int, _ time.Duration) *mcp.CallToolResult { return res }
