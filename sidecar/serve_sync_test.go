package sidecar_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/protocol"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/checkpoint"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/nbsync"
)

// syncNotes returns the sync/status notifications received so far, in order.
func (e *extension) syncNotes() []protocol.SyncStatusParams {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []protocol.SyncStatusParams
	for _, n := range e.notes {
		if n.Method != protocol.MethodSyncStatus {
			continue
		}
		var p protocol.SyncStatusParams
		if err := json.Unmarshal(*n.Params, &p); err != nil {
			e.t.Fatalf("sync/status params: %v", err)
		}
		out = append(out, p)
	}
	return out
}

// waitSync waits for a sync/status after the first `after` ones and returns
// it with the count of sync/status notifications up to and including it.
func (e *extension) waitSync(after int, timeout time.Duration) (protocol.SyncStatusParams, int) {
	e.t.Helper()
	deadline := time.After(timeout)
	for {
		if notes := e.syncNotes(); len(notes) > after {
			return notes[after], after + 1
		}
		select {
		case <-e.changed:
		case <-deadline:
			e.t.Fatalf("no sync/status after the first %d within %s", after, timeout)
		}
	}
}

// editBuffer changes a cell of the open buffer the way typing does: new
// source, next version.
func (e *extension) editBuffer(cellID, source string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.buffer.Cells {
		if e.buffer.Cells[i].ID == cellID {
			e.buffer.Cells[i].Source = source
		}
	}
	e.buffer.Version++
}

func (e *extension) snapshot() *notebookmodel.Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := *e.buffer
	s.Cells = append([]notebookmodel.SnapshotCell{}, s.Cells...)
	return &s
}

// runHuman runs code as the person's run of a cell, like the controller does
// (with the buffer attached), and waits for its end.
func (e *extension) runHuman(cellID, code string) protocol.ExecutionStateParams {
	e.t.Helper()
	var run protocol.ExecutionRunResult
	e.mustCall(protocol.MethodExecutionRun, protocol.ExecutionRunParams{NotebookPath: e.nb, CellID: cellID, Code: code, Origin: protocol.OriginHuman, Snapshot: e.snapshot()}, &run)
	return e.waitState(run.ExecutionID, 60*time.Second)
}

// TestServeSyncStatus: the sidecar pushes sync/status when the live buffer and
// the kernel drift apart and when they agree again, stays quiet through a
// burst of runs, and sends a human run's stamp with its final state.
func TestServeSyncStatus(t *testing.T) {
	py := testenv.Python(t)
	t.Setenv(checkpoint.KeyFileEnv, filepath.Join(t.TempDir(), "checkpoint.key"))
	e := startServe(t)
	e.initialize()
	e.openBuffer("Sync")
	const slow, stale = "import time\ntime.sleep(0.05)", "import time\ntime.sleep(0.05)\n# not what the cell says"
	e.mu.Lock()
	e.buffer.Cells = append(e.buffer.Cells, notebookmodel.SnapshotCell{ID: "slow", Kind: "code", Language: "python", Source: slow})
	e.mu.Unlock()
	var k protocol.KernelInfo
	e.mustCall(protocol.MethodKernelStart, protocol.KernelStartParams{NotebookPath: e.nb, Environment: &protocol.EnvironmentRef{Kind: "venv", Path: filepath.Dir(filepath.Dir(py))}}, &k)

	first := e.runHuman("calc", "x = 1")
	if first.Status != protocol.StatusOK {
		t.Fatalf("run calc: %+v", first)
	}
	if st := e.runHuman("slow", slow); st.Status != protocol.StatusOK {
		t.Fatalf("run slow: %+v", st)
	}
	// The human run's stamp comes with its final state (the extension writes
	// it on save); nothing is applied to the buffer, so nothing to undo.
	stamp, _ := nbsync.ReadStamp(json.RawMessage(`{"` + nbsync.MetadataKey + `":` + string(first.Stamp) + `}`))
	if stamp.SourceHash != nbsync.SourceHash("x = 1") || stamp.Origin != protocol.OriginHuman || stamp.Status != "ok" {
		t.Errorf("stamp of the human run: %+v", stamp)
	}

	// The person edits the cell that ran; the next buffer the sidecar sees
	// (here: a tool call that reads it) shows the drift.
	e.editBuffer("calc", "x = 2")
	args, _ := json.Marshal(map[string]any{"notebook_path": e.nb})
	var res protocol.ToolInvokeResult
	seen := time.Now()
	e.mustCall(protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: "get_notebook_outline", Arguments: args}, &res)
	got, n := e.waitSync(0, 30*time.Second)
	t.Logf("sync/status %s after the buffer change was seen", time.Since(seen).Round(time.Millisecond))
	want := protocol.SyncStatusParams{NotebookPath: e.nb, SyncNeeded: true, Reason: got.Reason, DirtyCells: []string{"calc"}}
	if diff := cmp.Diff(want, got); diff != "" || !strings.Contains(got.Reason, "edited") {
		t.Errorf("sync/status after an edit (-want +got):\n%s reason %q", diff, got.Reason)
	}

	// Re-running the edited cell brings them back together.
	if st := e.runHuman("calc", "x = 2"); st.Status != protocol.StatusOK {
		t.Fatalf("re-run calc: %+v", st)
	}
	got, n = e.waitSync(n, 30*time.Second)
	if diff := cmp.Diff(protocol.SyncStatusParams{NotebookPath: e.nb, SyncNeeded: false, Reason: got.Reason, DirtyCells: []string{}}, got); diff != "" {
		t.Errorf("sync/status after the re-run (-want +got):\n%s", diff)
	}
	var ck protocol.ToolInvokeResult
	ckArgs, _ := json.Marshal(map[string]any{"notebook_path": e.nb, "name": "before-burst"})
	e.mustCall(protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: "save_checkpoint", Arguments: ckArgs}, &ck)
	if ck.IsError {
		t.Fatalf("save_checkpoint: %s", ck.Content)
	}

	// The person edits a cell and runs it: while the new code runs, the cell
	// is not reported as edited (no flicker), and after it nothing changed.
	calcSlow := "import time\ntime.sleep(1)\nx = 2"
	e.editBuffer("calc", calcSlow)
	if st := e.runHuman("calc", calcSlow); st.Status != protocol.StatusOK {
		t.Fatalf("run the edited calc: %+v", st)
	}
	e.editBuffer("slow", stale)
	e.mustCall(protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: "get_notebook_outline", Arguments: args}, &res)
	var flicker []protocol.SyncStatusParams
	for {
		got, n = e.waitSync(n, 30*time.Second)
		if got.SyncNeeded && cmp.Equal(got.DirtyCells, []string{"slow"}) {
			break
		}
		flicker = append(flicker, got)
	}
	if len(flicker) > 0 {
		t.Errorf("the run of an edited cell sent sync/status %+v, want none", flicker)
	}
	e.editBuffer("slow", slow)
	e.mustCall(protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: "get_notebook_outline", Arguments: args}, &res)
	if got, n = e.waitSync(n, 30*time.Second); got.SyncNeeded {
		t.Errorf("sync/status after undoing the change: %+v", got)
	}

	// A burst like Run All: 40 queued runs of a cell that alternately leave it
	// out of date and up to date. Checked after each, the status would flip
	// 40 times.
	// A run outside any cell holds the queue so the burst is queued behind it
	// however slowly this machine sends the requests, as Run All's are.
	var blocker protocol.ExecutionRunResult
	e.mustCall(protocol.MethodExecutionRun, protocol.ExecutionRunParams{NotebookPath: e.nb, Code: "import time\ntime.sleep(1)", Origin: protocol.OriginHuman}, &blocker)
	ids := []string{blocker.ExecutionID}
	for i := range 40 {
		code := slow
		if i%2 == 0 {
			code = stale
		}
		var run protocol.ExecutionRunResult
		e.mustCall(protocol.MethodExecutionRun, protocol.ExecutionRunParams{NotebookPath: e.nb, CellID: "slow", Code: code, Origin: protocol.OriginHuman, Snapshot: e.snapshot()}, &run)
		ids = append(ids, run.ExecutionID)
	}
	for _, id := range ids {
		if st := e.waitState(id, 120*time.Second); st.Status != protocol.StatusOK {
			t.Fatalf("burst run: %+v", st)
		}
	}
	// A known change after the burst marks the end of what it sent: the
	// notifications are sent in order, so any the burst caused come first.
	e.editBuffer("calc", "x = 3")
	e.mustCall(protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: "get_notebook_outline", Arguments: args}, &res)
	var during []protocol.SyncStatusParams
	for {
		got, n = e.waitSync(n, 60*time.Second)
		if got.SyncNeeded && cmp.Equal(got.DirtyCells, []string{"calc"}) {
			break
		}
		during = append(during, got)
	}
	if len(during) > 0 {
		t.Errorf("a burst of 40 runs sent %d sync/status notifications, want none (it ends as it began, in sync): %+v", len(during), during)
	}

	// A restart loses what ran: the warning names the cell again.
	e.editBuffer("calc", "x = 2")
	e.mustCall(protocol.MethodKernelRestart, protocol.NotebookParams{NotebookPath: e.nb}, &k)
	for {
		got, n = e.waitSync(n, 60*time.Second)
		if strings.Contains(got.Reason, "restarted") {
			break
		}
	}
	if !got.SyncNeeded || !cmp.Equal(got.DirtyCells, []string{"calc", "slow"}) {
		t.Errorf("sync/status after a restart: %+v", got)
	}
	// Loading the checkpoint saved when calc was "x = 2" brings its state back.
	e.mustCall(protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: "load_checkpoint", Arguments: ckArgs}, &ck)
	if ck.IsError {
		t.Fatalf("load_checkpoint: %s", ck.Content)
	}
	got, _ = e.waitSync(n, 60*time.Second)
	if got.SyncNeeded {
		t.Errorf("sync/status after load_checkpoint: %+v", got)
	}
}

// TestServeSyncAfterReattach: a human run's stamp, once saved into the
// buffer's metadata, lets the
// next sidecar, re-attached to the same kernel, still counts the cell as run;
// a cell showing results of another kernel is reported, without any request.
func TestServeSyncAfterReattach(t *testing.T) {
	py := testenv.Python(t)
	e := startServe(t)
	e.initialize()
	e.openBuffer("Re-attach")
	one := 1
	e.mu.Lock()
	e.buffer.Cells = append(e.buffer.Cells, notebookmodel.SnapshotCell{ID: "old", Kind: "code", Language: "python", Source: "y = 5", ExecutionCount: &one})
	e.mu.Unlock()
	var k protocol.KernelInfo
	e.mustCall(protocol.MethodKernelStart, protocol.KernelStartParams{NotebookPath: e.nb, Environment: &protocol.EnvironmentRef{Kind: "venv", Path: filepath.Dir(filepath.Dir(py))}}, &k)
	st := e.runHuman("calc", "x = 1")
	if st.Status != protocol.StatusOK || st.ExecutionCount == nil {
		t.Fatalf("run calc: %+v", st)
	}
	// What the extension does when the notebook is saved: the stamp from the
	// final state goes into the cell's metadata, next to the run's count.
	e.mu.Lock()
	md, err := nbsync.WithStamp(e.buffer.Cells[1].Metadata, mustStamp(t, st.Stamp))
	if err != nil {
		t.Fatal(err)
	}
	e.buffer.Cells[1].Metadata = md
	e.buffer.Cells[1].ExecutionCount = st.ExecutionCount
	e.buffer.Version++
	buffer := *e.buffer
	e.mu.Unlock()

	if err := e.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	e.cmd.Wait()
	e2 := restartServe(t, e)
	e2.buffer = &buffer
	e2.initialize()
	got, _ := e2.waitSync(0, 60*time.Second)
	want := protocol.SyncStatusParams{NotebookPath: e.nb, SyncNeeded: true, Reason: got.Reason, DirtyCells: []string{"old"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sync/status after re-attach (-want +got):\n%s", diff)
	}
}

func mustStamp(t *testing.T, raw json.RawMessage) nbsync.Stamp {
	t.Helper()
	var st nbsync.Stamp
	if err := json.Unmarshal(raw, &st); err != nil || st.SourceHash == "" {
		t.Fatalf("no stamp in the final state: %s (%v)", raw, err)
	}
	return st
}
