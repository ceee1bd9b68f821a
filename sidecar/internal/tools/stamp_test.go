package tools_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/nbsync"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

// staleOnceEditor is an open buffer whose version moves on once right after
// the first snapshot, as VS Code's does when a run's end lands, so the first
// edit computed against it is refused.
type staleOnceEditor struct {
	mu      sync.Mutex
	open    bool
	snap    notebookmodel.Snapshot
	reads   int
	applied [][]notebookmodel.EditOp
	done    chan struct{} // closed at the first applied edit
	closed  chan struct{} // gets a value whenever the buffer is asked for while closed
}

func (f *staleOnceEditor) Snapshot(ctx context.Context, path string) (*notebookmodel.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.open {
		f.closed <- struct{}{}
		return nil, nil
	}
	f.reads++
	s := f.snap
	if f.reads == 1 {
		f.snap.Version++
	}
	return &s, nil
}

func (f *staleOnceEditor) ApplyEdit(ctx context.Context, path string, expected int, ops []notebookmodel.EditOp) (tools.EditResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if expected != f.snap.Version {
		return tools.EditResult{Applied: false, Version: f.snap.Version, Reason: "the notebook changed"}, nil
	}
	f.snap.Version++
	f.applied = append(f.applied, ops)
	if len(f.applied) == 1 {
		close(f.done)
	}
	return tools.EditResult{Applied: true, Version: f.snap.Version}, nil
}

// TestStampHumanRun: a person's run is stamped in the open buffer, retried
// when the buffer moved on meanwhile, and never written to a closed notebook's file.
func TestStampHumanRun(t *testing.T) {
	py := testenv.Python(t)
	_, c, ws := setup(t)
	nb := filepath.Join(ws, "nb.ipynb")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, _, err := c.Core.Sessions.Start(ctx, nb, kernel.LaunchSpec{Name: "python3", Language: "python", Dir: ws,
		Argv: []string{py, "-m", "ipykernel_launcher", "-f", "{connection_file}"}})
	if err != nil {
		t.Fatal(err)
	}
	ed := &staleOnceEditor{open: true, done: make(chan struct{}), closed: make(chan struct{}, 10), snap: notebookmodel.Snapshot{Path: nb, Version: 3, Cells: []notebookmodel.SnapshotCell{
		{ID: "intro", Kind: "markdown", Language: "markdown", Source: "# Title"},
		{ID: "calc", Kind: "code", Language: "python", Source: "x = 1 + 1\nx"},
	}}}
	c.Core.SetEditor(ed)
	run := func(code string) *session.Execution {
		t.Helper()
		e, err := s.Submit(session.Request{CellID: "calc", Code: code, Origin: session.OriginHuman})
		if err != nil {
			t.Fatal(err)
		}
		c.Core.StampHumanRun(nb, s, e)
		if st, err := e.Wait(ctx); err != nil || st.Status != session.StatusOK {
			t.Fatalf("run: %+v %v", st, err)
		}
		return e
	}
	run("x = 1 + 1\nx")
	select {
	case <-ed.done:
	case <-time.After(60 * time.Second):
		t.Fatal("the run was not stamped after the buffer moved on")
	}
	ed.mu.Lock()
	ops := ed.applied[0]
	reads := ed.reads
	ed.mu.Unlock()
	if reads < 2 || len(ops) != 1 || ops[0].Op != notebookmodel.OpSetMetadata || ops[0].Index != 1 {
		t.Fatalf("stamp edit after %d reads: %+v", reads, ops)
	}
	st, ok := nbsync.ReadStamp(ops[0].Metadata)
	if !ok || st.SourceHash != nbsync.SourceHash("x = 1 + 1\nx") || st.Origin != session.OriginHuman || st.Status != session.StatusOK {
		t.Errorf("stamp = %+v", st)
	}

	// Closed meanwhile: the file is left alone.
	ed.mu.Lock()
	ed.open = false
	ed.mu.Unlock()
	before, _ := os.ReadFile(nb)
	run("x = 3")
	select {
	case <-ed.closed:
	case <-time.After(60 * time.Second):
		t.Fatal("the stamp of a run in a closed notebook never looked for the buffer")
	}
	// A disk write would follow the closed read at once, in the same goroutine;
	// give it time to land before looking (the assertion is negative).
	time.Sleep(200 * time.Millisecond)
	if after, _ := os.ReadFile(nb); string(after) != string(before) {
		t.Errorf("a human run's stamp was written to the closed notebook's file:\n%s", after)
	}
	ed.mu.Lock()
	n := len(ed.applied)
	ed.mu.Unlock()
	if n != 1 {
		t.Errorf("%d stamp edits, want only the first run's", n)
	}
}
