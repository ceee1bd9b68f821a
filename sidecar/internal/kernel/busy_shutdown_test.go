//go:build unix

package kernel_test

import (
	"context"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

func TestShutdownWhileBusy(t *testing.T) {
	k := startKernel(t, ipykernelSpec(t), testOptions(t))
	done := runUntilBusy(t, k, kernel.ExecuteRequest{Code: "import time\ntime.sleep(120)"})
	t0 := time.Now()
	if err := k.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := time.Since(t0)
	t.Logf("shutdown of a busy kernel took %v", d)
	if d > 4*time.Second {
		t.Errorf("shutdown of a busy kernel took %v: it waited through the ladder", d)
	}
	if r := <-done; r.err == nil {
		t.Error("execution survived the shutdown")
	}
}
