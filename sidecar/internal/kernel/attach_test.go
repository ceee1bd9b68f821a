//go:build unix

package kernel_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

func TestDetachAttach(t *testing.T) {
	opts := testOptions(t)
	opts.Label = "/nb/a.ipynb"
	k := startKernel(t, ipykernelSpec(t), opts)
	execute(t, k, "x = 41")
	pid := k.PID()
	k.Detach()
	if !errors.Is(k.Err(), kernel.ErrDetached) || !alive(pid) {
		t.Fatalf("after detach: err %v, alive %v", k.Err(), alive(pid))
	}
	recs, err := kernel.ListRecords(opts.RuntimeDir)
	if err != nil || len(recs) != 1 {
		t.Fatalf("records %+v %v", recs, err)
	}
	rec := recs[0]
	if rec.PID != pid || rec.Label != "/nb/a.ipynb" || !rec.Alive() {
		t.Errorf("record %+v", rec)
	}
	a, err := kernel.Attach(context.Background(), rec, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	r, c := execute(t, a, "print(x + 1)")
	if c.stdout() != "42\n" || r.ExecutionCount != 2 {
		t.Errorf("state lost across re-attach: %q count %d", c.stdout(), r.ExecutionCount)
	}
	// Death of a kernel that is not (for this Local) our child is still seen fast.
	done := runUntilBusy(t, a, kernel.ExecuteRequest{Code: "import time\ntime.sleep(60)"})
	t0 := time.Now()
	syscall.Kill(pid, syscall.SIGKILL)
	res := <-done
	if !errors.Is(res.err, kernel.ErrKernelDead) {
		t.Fatalf("err = %v", res.err)
	}
	t.Logf("attached kernel death seen after %v", res.at.Sub(t0))
	if d := res.at.Sub(t0); d > 200*time.Millisecond {
		t.Errorf("death seen after %v", d)
	}
	if recs, _ := kernel.ListRecords(opts.RuntimeDir); len(recs) != 0 {
		// The dead kernel's files are cleaned by whoever notices its death.
		deadline := time.Now().Add(5 * time.Second)
		for len(recs) != 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			recs, _ = kernel.ListRecords(opts.RuntimeDir)
		}
		if len(recs) != 0 {
			t.Errorf("records of a dead kernel left: %+v", recs)
		}
	}
}

// A sidecar that died mid-execution leaves a busy kernel: Attach interrupts
// the orphaned code and keeps the variables; it does not wait for the code.
func TestAttachBusyKernel(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Label = "/nb/busy.ipynb"
	k := startKernel(t, ipykernelSpec(t), opts)
	execute(t, k, "x = 41")
	pid := k.PID()
	done := runUntilBusy(t, k, kernel.ExecuteRequest{Code: "while True: pass"})
	k.Detach()
	if res := <-done; !errors.Is(res.err, kernel.ErrDetached) {
		t.Fatalf("execution across detach: err %v", res.err)
	}
	recs, err := kernel.ListRecords(opts.RuntimeDir)
	if err != nil || len(recs) != 1 {
		t.Fatalf("records %+v %v", recs, err)
	}
	ao := testOptions(t)
	ao.StartTimeout = 30 * time.Second
	t0 := time.Now()
	a, err := kernel.Attach(context.Background(), recs[0], ao)
	if err != nil {
		t.Fatalf("attach to a busy kernel: %v", err)
	}
	t.Cleanup(func() { a.Shutdown(context.Background()) })
	t.Logf("attached to the busy kernel in %v", time.Since(t0))
	if a.PID() != pid {
		t.Errorf("attached pid %d, want %d", a.PID(), pid)
	}
	r, c := execute(t, a, "print(x + 1)")
	if r.Status != "ok" || c.stdout() != "42\n" {
		t.Errorf("after attach: status %s stdout %q", r.Status, c.stdout())
	}
}

// A kernel that answers nothing (stopped) fails Attach within StartTimeout;
// Record.Kill then ends its process group and removes its files.
func TestAttachHungKernelThenKill(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Label = "/nb/hung.ipynb"
	k := startKernel(t, ipykernelSpec(t), opts)
	pid := k.PID()
	k.Detach()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	recs, err := kernel.ListRecords(opts.RuntimeDir)
	if err != nil || len(recs) != 1 {
		t.Fatalf("records %+v %v", recs, err)
	}
	ao := testOptions(t)
	ao.StartTimeout = 2 * time.Second
	t0 := time.Now()
	if _, err := kernel.Attach(context.Background(), recs[0], ao); !errors.Is(err, kernel.ErrStartTimeout) {
		t.Fatalf("attach to a stopped kernel: err %v, want ErrStartTimeout", err)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Errorf("attach gave up after %v, want about 2s", d)
	}
	if !recs[0].Alive() {
		t.Fatal("a failed attach must leave the kernel alone")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := recs[0].Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if kernel.ProcessRunning(pid) {
		t.Errorf("kernel %d still runs after Kill", pid)
	}
	if recs, _ := kernel.ListRecords(opts.RuntimeDir); len(recs) != 0 {
		t.Errorf("records left after Kill: %+v", recs)
	}
}
