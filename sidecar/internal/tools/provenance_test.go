package tools_test

import (
	"strings"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

// TestProvenance: who created and last edited each cell, agent or human,
// with the tool call, shown in the outline and by read_cell_smart.
func TestProvenance(t *testing.T) {
	reg, c, path := agentSetup(t)
	invoke[tools.OutlineOut](t, reg, c, "get_notebook_outline", map[string]any{"notebook_path": "nb.ipynb"})
	ins := invoke[tools.EditOut](t, reg, c, "insert_cell", map[string]any{"notebook_path": "nb.ipynb", "index": 1, "content": "z = 0"})
	invoke[tools.EditOut](t, reg, c, "propose_edit", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "c-data", "new_content": "data = []"})
	human(t, path, notebookmodel.Edit{Op: notebookmodel.EditReplaceSource, Ref: notebookmodel.CellRef{CellID: "c-print"}, Source: "print('bye')"})
	human(t, path, notebookmodel.Edit{Op: notebookmodel.EditInsert, At: 0, Cells: []notebookmodel.NewCell{{ID: "h-new", Type: "markdown", Source: "# Mine"}}})

	out := invoke[tools.OutlineOut](t, reg, c, "get_notebook_outline", map[string]any{"notebook_path": "nb.ipynb"})
	want := map[string]string{
		ins.CellID: "created by agent",
		"c-data":   "edited by agent",
		"c-print":  "edited by human",
		"h-new":    "created by human",
	}
	for id, w := range want {
		if !strings.Contains(out.Provenance[id], w) {
			t.Errorf("outline provenance of %s = %q, want %q", id, out.Provenance[id], w)
		}
	}
	if !strings.Contains(out.Provenance[ins.CellID], "(insert_cell)") || !strings.Contains(out.Provenance["c-data"], "(propose_edit)") {
		t.Errorf("the tool calls are not named: %v", out.Provenance)
	}
	if _, ok := out.Provenance["intro"]; ok {
		t.Errorf("intro has a record although nobody touched it: %v", out.Provenance)
	}
	rd := invoke[tools.CellOut](t, reg, c, "read_cell_smart", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "c-data"})
	if p := rd.Provenance; p == nil || p.Edited == nil || p.Edited.By != "agent" || p.Edited.Tool != "propose_edit" || p.Edited.Session != "agent-1" || p.Edited.At.IsZero() {
		t.Errorf("read_cell_smart provenance of c-data: %+v", rd.Provenance)
	}
	rd = invoke[tools.CellOut](t, reg, c, "read_cell_smart", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "c-print"})
	if p := rd.Provenance; p == nil || p.Edited == nil || p.Edited.By != "human" || !p.Edited.Noticed {
		t.Errorf("read_cell_smart provenance of c-print: %+v", rd.Provenance)
	}
}
