//go:build unix

package kernel_test

import (
	"context"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

func TestShutdownWhileBusy(t *testing.T) {
	// A long rung: a shutdown that needed SIGTERM (the ladder's second rung)
	// takes over a grace period, one that did not is well under it, whatever
	// the machine's load.
	opts := testOptions(t)
	opts.ShutdownGrace = 15 * time.Second
	k := startKernel(t, ipykernelSpec(t), opts)
	done := runUntilBusy(t, k, kernel.ExecuteRequest{Code: "import time\ntime.sleep(120)"})
	t0 := time.Now()
	if err := k.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := time.Since(t0)
	t.Logf("shutdown of a busy kernel took %v", d)
	if d >= opts.ShutdownGrace {
		t.Errorf("shutdown of a busy kernel took %v: it waited through the ladder (the busy kernel was not interrupted before shutdown_request)", d)
	}
	if r := <-done; r.err == nil {
		t.Error("execution survived the shutdown")
	}
}
