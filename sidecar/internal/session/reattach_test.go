package session_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
)

func TestReattachAfterSidecarRestart(t *testing.T) {
	t.Parallel()
	m1, spec := newManager(t)
	keep := filepath.Join(spec.Dir, "keep.ipynb")
	gone := filepath.Join(spec.Dir, "gone.ipynb")
	for _, nb := range []string{keep, gone} {
		if err := os.WriteFile(nb, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := start(t, m1, spec, keep)
	e, _ := s.Submit(session.Request{Code: "data = list(range(5))"})
	wait(t, e)
	keepPID := s.Kernel().PID()
	orphanPID := start(t, m1, spec, gone).Kernel().PID()
	runtimeDir := m1.Options().Kernel.RuntimeDir
	m1.Detach() // the old sidecar goes away; its kernels stay

	os.Remove(gone)
	m2 := session.NewManager(session.Options{
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		RuntimeDir: runtimeDir,
		Kernel:     kernel.Options{StartTimeout: 90 * time.Second},
	})
	defer m2.Close(context.Background())
	ss, err := m2.Reattach(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 || ss[0].NotebookPath() != keep || ss[0].Kernel().PID() != keepPID {
		t.Fatalf("re-attached %d sessions", len(ss))
	}
	e, _ = ss[0].Submit(session.Request{Code: "print(sum(data))"})
	if st := wait(t, e); st.Status != "ok" || stdoutOf(t, e) != "10\n" {
		t.Errorf("state lost: %+v %q", st, stdoutOf(t, e))
	}
	if syscall.Kill(orphanPID, 0) == nil {
		t.Errorf("kernel %d of a deleted notebook still runs", orphanPID)
	}
	if m2.Get(gone) != nil {
		t.Error("orphan got a session")
	}
	// Starting the kept notebook again reuses the re-attached kernel.
	if _, reused, err := m2.Start(context.Background(), keep, spec); err != nil || !reused {
		t.Errorf("start after re-attach: reused=%v err=%v", reused, err)
	}
}
