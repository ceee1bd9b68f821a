package session_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
)

// newSecondManager is the Manager of a restarted sidecar on runtimeDir.
func newSecondManager(t *testing.T, runtimeDir string, reattachTimeout time.Duration) *session.Manager {
	m := session.NewManager(session.Options{
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		RuntimeDir:      runtimeDir,
		Kernel:          kernel.Options{StartTimeout: 90 * time.Second},
		ReattachTimeout: reattachTimeout,
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		m.Close(ctx)
	})
	return m
}

// waitGone waits (bounded) until pid no longer runs. A killed kernel that was
// our child stays a zombie until reaped, which ProcessRunning counts as gone;
// a kernel that really keeps running fails the test.
func waitGone(t *testing.T, pid int, why string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for kernel.ProcessRunning(pid) {
		if time.Now().After(deadline) {
			t.Errorf("kernel %d %s still runs after 30s", pid, why)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

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
	m2 := newSecondManager(t, runtimeDir, 0)
	r, err := m2.Reattach(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ss, err := r.Wait(ctx)
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
	waitGone(t, orphanPID, "of a deleted notebook")
	if m2.Get(gone) != nil {
		t.Error("orphan got a session")
	}
	// Starting the kept notebook again reuses the re-attached kernel.
	if _, reused, err := m2.Start(context.Background(), keep, spec); err != nil || !reused {
		t.Errorf("start after re-attach: reused=%v err=%v", reused, err)
	}
}

// The previous sidecar died while a cell ran forever: Reattach returns at
// once, Get waits for the kernel, which comes back interrupted with its
// variables.
func TestReattachBusyKernelInBackground(t *testing.T) {
	t.Parallel()
	m1, spec := newManager(t)
	nb := filepath.Join(spec.Dir, "busy.ipynb")
	if err := os.WriteFile(nb, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := start(t, m1, spec, nb)
	e, _ := s.Submit(session.Request{Code: "x = 41"})
	wait(t, e)
	pid := s.Kernel().PID()
	spin, _ := s.Submit(session.Request{Code: "while True: pass"})
	deadline := time.Now().Add(time.Minute)
	for spin.State().Status != session.StatusRunning && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	runtimeDir := m1.Options().Kernel.RuntimeDir
	m1.Detach()

	m2 := newSecondManager(t, runtimeDir, 20*time.Second)
	t0 := time.Now()
	if _, err := m2.Reattach(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("Reattach blocked for %v", d)
	}
	got := m2.Get(nb)
	t.Logf("busy kernel re-attached after %v", time.Since(t0))
	if got == nil {
		t.Fatal("no session for the busy kernel after Get waited for its re-attach")
	}
	if got.Kernel().PID() != pid {
		t.Fatalf("re-attached pid %d, want %d", got.Kernel().PID(), pid)
	}
	e, _ = got.Submit(session.Request{Code: "print(x + 1)"})
	if st := wait(t, e); st.Status != "ok" || stdoutOf(t, e) != "42\n" {
		t.Errorf("after re-attach: %+v %q", st, stdoutOf(t, e))
	}
}

// A kernel that answers nothing (stopped) cannot be re-attached: it is
// killed and its record removed, rather than left running unreachable.
func TestReattachKillsUnreachableKernel(t *testing.T) {
	t.Parallel()
	m1, spec := newManager(t)
	nb := filepath.Join(spec.Dir, "hung.ipynb")
	if err := os.WriteFile(nb, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	pid := start(t, m1, spec, nb).Kernel().PID()
	runtimeDir := m1.Options().Kernel.RuntimeDir
	m1.Detach()
	p, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := stopProcess(p); err != nil {
		t.Skipf("cannot stop a process here: %v", err)
	}
	t.Cleanup(func() { p.Kill() })

	m2 := newSecondManager(t, runtimeDir, 2*time.Second)
	r, err := m2.Reattach(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if ss, err := r.Wait(ctx); err != nil || len(ss) != 0 {
		t.Fatalf("re-attached %d sessions, err %v", len(ss), err)
	}
	if m2.Get(nb) != nil {
		t.Error("an unreachable kernel got a session")
	}
	waitGone(t, pid, "that could not be re-attached")
	if recs, _ := kernel.ListRecords(runtimeDir); len(recs) != 0 {
		t.Errorf("records left: %+v", recs)
	}
}
