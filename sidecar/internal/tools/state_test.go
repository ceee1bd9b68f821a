package tools_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/checkpoint"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/nbsync"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

// The state tools end to end on a real kernel: inspection, sync detection and
// rebuild, checkpoint save / restart / load / list / delete.
func TestStateTools(t *testing.T) {
	py := testenv.Python(t)
	t.Setenv(checkpoint.KeyFileEnv, filepath.Join(t.TempDir(), "checkpoint.key"))
	reg, c, ws := setup(t)
	nb := filepath.Join(ws, "nb.ipynb")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, _, err := c.Core.Sessions.Start(ctx, nb, kernel.LaunchSpec{Name: "python3", Language: "python", Dir: ws,
		Argv: []string{py, "-m", "ipykernel_launcher", "-f", "{connection_file}"}})
	if err != nil {
		t.Fatal(err)
	}
	run := func(cellID, code string) {
		t.Helper()
		e, err := s.Submit(session.Request{CellID: cellID, Code: code, Origin: session.OriginHuman})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := e.Wait(ctx); err != nil || st.Status != session.StatusOK {
			t.Fatalf("run %s: %+v %v", cellID, st, err)
		}
	}
	run("calc", "x = 1 + 1\nx")

	info := invoke[tools.KernelInfoOut](t, reg, c, "get_kernel_info", map[string]any{"notebook_path": nb})
	if len(info.Variables) != 1 || info.Variables[0].Name != "x" || info.Variables[0].Type != "int" {
		t.Errorf("get_kernel_info variables = %+v", info.Variables)
	}
	iv := invoke[tools.InspectVariableOut](t, reg, c, "inspect_variable", map[string]any{"notebook_path": nb, "var_name": "x"})
	if string(iv.Value) != "2" || !strings.HasPrefix(iv.Summary, "x: int") {
		t.Errorf("inspect_variable = %+v", iv)
	}

	rep := invoke[nbsync.Report](t, reg, c, "detect_sync_needed", map[string]any{"notebook_path": nb})
	if rep.SyncNeeded {
		t.Fatalf("in sync, got %+v", rep)
	}
	// Someone edits the cell on disk: the kernel's x is stale.
	data, _ := os.ReadFile(nb)
	if err := os.WriteFile(nb, []byte(strings.Replace(string(data), `"x = 1 + 1\n"`, `"x = 40 + 2\n"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	rep = invoke[nbsync.Report](t, reg, c, "detect_sync_needed", map[string]any{"notebook_path": nb})
	if d := cmp.Diff([]nbsync.DirtyCell{{Index: 1, CellID: "calc", Why: nbsync.WhyEdited}}, rep.DirtyCells); d != "" || !rep.SyncNeeded {
		t.Fatalf("after edit (-want +got):\n%s", d)
	}
	var progress []string
	c.Progress = func(p, total float64, msg string) { progress = append(progress, msg) }
	so := invoke[tools.SyncOut](t, reg, c, "sync_state_from_disk", map[string]any{"notebook_path": nb, "strategy": "smart"})
	if d := cmp.Diff([]int{1}, so.Ran); d != "" || so.Failed != nil {
		t.Fatalf("sync ran (-want +got):\n%s\n%+v", d, so)
	}
	if len(progress) == 0 {
		t.Error("no progress reported")
	}
	if iv := invoke[tools.InspectVariableOut](t, reg, c, "inspect_variable", map[string]any{"notebook_path": nb, "var_name": "x"}); string(iv.Value) != "42" {
		t.Errorf("x after sync = %s", iv.Value)
	}
	if rep := invoke[nbsync.Report](t, reg, c, "detect_sync_needed", map[string]any{"notebook_path": nb}); rep.SyncNeeded {
		t.Errorf("still out of sync after sync: %+v", rep)
	}
	// The sync stamped the cell it ran (on disk: no editor here).
	parsed, err := notebookmodel.Parse(mustRead(t, nb))
	if err != nil {
		t.Fatal(err)
	}
	stamp, ok := nbsync.ReadStamp(parsed.Cells()[1].Metadata)
	if !ok || stamp.SourceHash != nbsync.SourceHash("x = 40 + 2\nx") || stamp.Origin != "agent" || stamp.Status != "ok" || stamp.Kernel == "" {
		t.Errorf("stamp = %+v, %v", stamp, ok)
	}

	run("", "import socket\nsock = socket.socket()\nrows = list(range(1000))")
	sv := invoke[tools.SaveCheckpointOut](t, reg, c, "save_checkpoint", map[string]any{"notebook_path": nb, "name": "cp"})
	if len(sv.Saved) != 2 || len(sv.Failed) != 1 || !strings.Contains(sv.Message, "FAILED: The following variables cannot be saved: sock (socket.socket): cannot pickle 'socket' object") ||
		!strings.Contains(sv.Message, "Suggestion: Delete these variables") {
		t.Errorf("save_checkpoint = %+v", sv)
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	rep = invoke[nbsync.Report](t, reg, c, "detect_sync_needed", map[string]any{"notebook_path": nb})
	if !rep.SyncNeeded || !rep.Restarted || len(rep.DirtyCells) != 1 || rep.DirtyCells[0].Why != nbsync.WhyLost {
		t.Errorf("after restart: %+v", rep)
	}
	ld := invoke[tools.LoadCheckpointOut](t, reg, c, "load_checkpoint", map[string]any{"notebook_path": nb, "name": "cp"})
	if d := cmp.Diff([]string{"rows", "x"}, ld.Loaded); d != "" || !strings.Contains(ld.Message, "sock") {
		t.Errorf("load_checkpoint (-want +got):\n%s\n%s", d, ld.Message)
	}
	if iv := invoke[tools.InspectVariableOut](t, reg, c, "inspect_variable", map[string]any{"notebook_path": nb, "var_name": "rows"}); iv.Len == nil || *iv.Len != 1000 {
		t.Errorf("rows after load = %+v", iv)
	}
	// The checkpoint brought back what its cells did: in sync again.
	if rep := invoke[nbsync.Report](t, reg, c, "detect_sync_needed", map[string]any{"notebook_path": nb}); rep.SyncNeeded {
		t.Errorf("after load: %+v", rep)
	}
	ls := invoke[tools.ListCheckpointsOut](t, reg, c, "list_checkpoints", map[string]any{"notebook_path": nb})
	if len(ls.Checkpoints) != 1 || !ls.Checkpoints[0].Valid || ls.Checkpoints[0].Name != "cp" {
		t.Errorf("list_checkpoints = %+v", ls)
	}
	invoke[tools.DeleteCheckpointOut](t, reg, c, "delete_checkpoint", map[string]any{"notebook_path": nb, "name": "cp"})
	if ls := invoke[tools.ListCheckpointsOut](t, reg, c, "list_checkpoints", map[string]any{"notebook_path": nb}); len(ls.Checkpoints) != 0 {
		t.Errorf("after delete: %+v", ls)
	}
	if _, err := reg.Invoke(ctx, c, "load_checkpoint", []byte(`{"notebook_path":"`+nb+`","name":"cp"}`)); err == nil || !strings.Contains(err.Error(), "list_checkpoints") {
		t.Errorf("load of a deleted checkpoint: %v", err)
	}
	if _, err := reg.Invoke(ctx, c, "inspect_variable", []byte(`{"notebook_path":"`+nb+`","var_name":"x.__class__"}`)); err == nil {
		t.Error("inspect_variable accepted an attribute path")
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
