package tools_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

// kernelsVenv is the venv of real kernels from PyPI that tests/kernels/setup.sh
// builds ($MCP_JUPYTER_KERNELS_VENV or <repo>/.cache/kernels-venv); tests that
// need a kernel it lacks skip, saying how to get it.
func kernelsVenv(t *testing.T, kernel string) string {
	t.Helper()
	v := os.Getenv("MCP_JUPYTER_KERNELS_VENV")
	if v == "" {
		v = filepath.Join(testenv.RepoRoot(), ".cache", "kernels-venv")
	}
	if _, err := os.Stat(filepath.Join(v, "share", "jupyter", "kernels", kernel, "kernel.json")); err != nil {
		t.Skipf("no %s kernelspec in %s: run tests/kernels/setup.sh to run this test", kernel, v)
	}
	return v
}

// realKernelWorkspace is a workspace whose .venv is the kernels venv (as if the
// user had pip-installed the kernels there) and a notebook whose metadata names
// kernel; it starts the notebook's kernel with no kernel arguments.
func realKernelWorkspace(t *testing.T, kernel, language string) (*tools.Registry, *tools.Call, string) {
	t.Helper()
	venv := kernelsVenv(t, kernel)
	isolateJupyter(t)
	reg, c, ws := setup(t)
	if err := os.Symlink(venv, filepath.Join(ws, ".venv")); err != nil {
		t.Fatal(err)
	}
	writeNotebook(t, filepath.Join(ws, "k.ipynb"), kernel, language)
	out := invoke[tools.KernelOut](t, reg, c, "start_kernel", map[string]any{"notebook_path": "k.ipynb", "timeout_s": 120})
	t.Cleanup(func() { c.Core.Sessions.Stop(t.Context(), filepath.Join(ws, "k.ipynb")) })
	if out.Name != kernel || out.Status == "dead" {
		t.Fatalf("start_kernel = %+v, want the notebook's %s kernel", out, kernel)
	}
	return reg, c, ws
}

func run(t *testing.T, reg *tools.Registry, c *tools.Call, code string) tools.ExecutionOut {
	t.Helper()
	return invoke[tools.ExecutionOut](t, reg, c, "run_cell", map[string]any{"notebook_path": "k.ipynb", "code_override": code, "timeout_s": 120})
}

// inspect_variable and get_kernel_info on a non-Python kernel send no Python:
// the variable list is left out with the reason, inspect_variable asks the
// kernel itself (inspect_request) and says plainly what it answered, quickly.
func TestNonPythonKernelGetsNoPythonHelpers(t *testing.T) {
	reg, c, _ := realKernelWorkspace(t, "bash", "bash")
	if out := run(t, reg, c, "x=41"); out.Status != "ok" {
		t.Fatalf("x=41 in bash: %+v", out)
	}
	start := time.Now()
	info := invoke[tools.KernelInfoOut](t, reg, c, "get_kernel_info", map[string]any{"notebook_path": "k.ipynb"})
	if info.Variables != nil || !strings.Contains(info.VariablesNote, "Python") {
		t.Errorf("get_kernel_info on bash: variables %v, note %q; want none and a note saying the list is Python-only", info.Variables, info.VariablesNote)
	}
	b, _ := json.Marshal(map[string]any{"notebook_path": "k.ipynb", "var_name": "x"})
	res, err := reg.Invoke(t.Context(), c, "inspect_variable", b)
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("get_kernel_info + inspect_variable on bash took %v: a Python helper timed out?", took)
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	} else {
		msg = res.(tools.InspectVariableOut).Summary
	}
	t.Logf("inspect_variable on bash: %s", msg)
	if !strings.Contains(msg, "inspect_request") || strings.Contains(msg, "exec") {
		t.Errorf("inspect_variable on bash = %q; want the kernel's own inspect_request answer", msg)
	}
	// Checkpoints are a Python feature: refused plainly, nothing sent to the kernel.
	b, _ = json.Marshal(map[string]any{"notebook_path": "k.ipynb", "name": "c1"})
	if _, err := reg.Invoke(t.Context(), c, "save_checkpoint", b); err == nil || !strings.Contains(err.Error(), "Python feature") {
		t.Errorf("save_checkpoint on bash: %v; want a plain 'Python feature' refusal", err)
	}
	// The kernel is still fine and did not get a SIGINT.
	if out := run(t, reg, c, "echo $x"); out.Status != "ok" || !strings.Contains(out.LLMSummary, "41") {
		t.Errorf("echo $x after inspecting: %+v", out)
	}
}
