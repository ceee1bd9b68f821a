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
