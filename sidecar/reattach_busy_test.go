package sidecar_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/protocol"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

// TestServeReattachBusyKernel: the sidecar is SIGKILLed while a cell spins
// forever. The next sidecar answers initialize at once (re-attach runs in the
// background), and the first call for the notebook gets the same kernel
// back: the orphaned loop interrupted, the variables kept, and the kernel
// still interruptible.
func TestServeReattachBusyKernel(t *testing.T) {
	py := testenv.Python(t)
	e := startServe(t)
	e.initialize()
	var k protocol.KernelInfo
	e.mustCall(protocol.MethodKernelStart, protocol.KernelStartParams{NotebookPath: e.nb, Environment: &protocol.EnvironmentRef{Kind: "venv", Path: filepath.Dir(filepath.Dir(py))}}, &k)
	var run protocol.ExecutionRunResult
	e.mustCall(protocol.MethodExecutionRun, protocol.ExecutionRunParams{NotebookPath: e.nb, CellID: "calc", Code: "big = 41", Origin: "human"}, &run)
	if st := e.waitState(run.ExecutionID, 60*time.Second); st.Status != protocol.StatusOK {
		t.Fatalf("run: %+v", st)
	}
	e.mustCall(protocol.MethodExecutionRun, protocol.ExecutionRunParams{NotebookPath: e.nb, CellID: "spin", Code: "print('spinning', flush=True)\nwhile True: pass", Origin: "agent"}, &run)
	e.waitOutput("spinning", 60*time.Second)
	if err := e.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	e.cmd.Wait()
	if !kernel.ProcessRunning(k.PID) {
		t.Fatalf("kernel %d died with the sidecar", k.PID)
	}

	e2 := restartServe(t, e)
	t0 := time.Now()
	e2.initialize()
	took := time.Since(t0)
	t.Logf("initialize answered after %v", took)
	if took > 2*time.Second {
		t.Errorf("initialize took %v with a busy kernel to re-attach, want < 2s", took)
	}
	var st *protocol.KernelInfo
	e2.mustCall(protocol.MethodKernelStatus, protocol.NotebookParams{NotebookPath: e.nb}, &st)
	t.Logf("kernel/status answered after %v", time.Since(t0))
	if st == nil || st.PID != k.PID {
		t.Fatalf("busy kernel not re-attached: %+v (want pid %d)", st, k.PID)
	}
	e2.mustCall(protocol.MethodExecutionRun, protocol.ExecutionRunParams{NotebookPath: e.nb, CellID: "calc2", Code: "print(big + 1)", Origin: "human"}, &run)
	if st := e2.waitState(run.ExecutionID, 60*time.Second); st.Status != protocol.StatusOK {
		t.Fatalf("run after re-attach: %+v", st)
	}
	e2.waitOutput("42", 10*time.Second)

	// The re-attached kernel can still be interrupted.
	e2.mustCall(protocol.MethodExecutionRun, protocol.ExecutionRunParams{NotebookPath: e.nb, CellID: "spin2", Code: "print('again', flush=True)\nwhile True: pass", Origin: "human"}, &run)
	e2.waitOutput("again", 60*time.Second)
	e2.mustCall(protocol.MethodKernelInterrupt, protocol.NotebookParams{NotebookPath: e.nb}, nil)
	if st := e2.waitState(run.ExecutionID, 60*time.Second); st.Status != protocol.StatusError || st.Ename != "KeyboardInterrupt" {
		t.Errorf("interrupt after re-attach: %+v", st)
	}
}
