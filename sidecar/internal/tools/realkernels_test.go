package tools_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
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
	// python3 is the generic name: the workspace's environment runs it.
	if (out.Name != kernel && !(kernel == "python3" && out.Executable == filepath.Join(ws, ".venv", "bin", "python"))) || out.Status == "dead" {
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

// oracle is what jupyter_client 8.10 itself sees from the same kernel
// (tests/kernels/jc_oracle.py, run with the kernels venv's python).
type oracle struct {
	Stdout         string `json:"stdout"`
	Lines          string `json:"lines"`
	Status         string `json:"status"`
	Interrupt      string `json:"interrupt"`
	AliveAfterIntr bool   `json:"alive_after_interrupt"`
}

func runOracle(t *testing.T, venv, kernel, code, sleep, lines string) oracle {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), filepath.Join(venv, "bin", "python"), filepath.Join(testenv.RepoRoot(), "tests", "kernels", "jc_oracle.py"), kernel, code, sleep, lines)
	cmd.Env = append(os.Environ(), "JUPYTER_PATH=", "JUPYTER_DATA_DIR="+t.TempDir())
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("jupyter_client oracle on %s: %v", kernel, err)
	}
	var o oracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("jupyter_client oracle on %s: %v: %s", kernel, err, b)
	}
	return o
}

// Each real kernel from PyPI, started from the notebook's own metadata: a
// run whose outputs arrive in order, the same stdout jupyter_client gets, an
// interrupt whose answer says what the kernel did (survived, or exited the
// way jupyter_client sees it exit), and a clean stop.
func TestRealKernels(t *testing.T) {
	for _, k := range []struct{ name, lang, echo, lines, sleep string }{
		{"python3", "python", "print('hi')", "for i in range(1, 6): print(f'line{i}')", "import time; time.sleep(60)"},
		{"bash", "bash", "echo hi", "for i in 1 2 3 4 5; do echo line$i; done", "sleep 60"},
		{"xpython", "python", "print('hi')", "for i in range(1, 6): print(f'line{i}')", "import time; time.sleep(60)"},
		{"deno", "typescript", "console.log('hi')", "for (let i = 1; i <= 5; i++) console.log('line' + i)", "await new Promise(r => setTimeout(r, 60000))"},
	} {
		t.Run(k.name, func(t *testing.T) {
			venv := kernelsVenv(t, k.name)
			jc := runOracle(t, venv, k.name, k.echo, k.sleep, k.lines)
			reg, c, _ := realKernelWorkspace(t, k.name, k.lang)

			hi := run(t, reg, c, k.echo)
			if hi.Status != jc.Status || !strings.Contains(hi.LLMSummary, strings.TrimSpace(jc.Stdout)) {
				t.Errorf("%s: %q = status %s, summary %q; jupyter_client saw status %s, stdout %q", k.name, k.echo, hi.Status, hi.LLMSummary, jc.Status, jc.Stdout)
			}
			lines := run(t, reg, c, k.lines)
			var text strings.Builder
			for _, o := range lines.RawOutputs {
				var out struct {
					Text any `json:"text"`
				}
				json.Unmarshal(o, &out)
				switch v := out.Text.(type) {
				case string:
					text.WriteString(v)
				case []any:
					for _, s := range v {
						text.WriteString(fmt.Sprint(s))
					}
				}
			}
			// In order, and all of them, but from Deno: it sends some stream
			// output after its status idle (seen from jupyter_client too,
			// run to run a different number of lines), which both clients
			// end the execution on.
			want := strings.Fields("line1 line2 line3 line4 line5")
			got, jcGot := strings.Fields(text.String()), strings.Fields(jc.Lines)
			if len(got) > len(want) || strings.Join(got, " ") != strings.Join(want[:len(got)], " ") || (k.name != "deno" && len(got) != len(want)) {
				t.Errorf("%s: outputs %q, want line1..line5 in order (jupyter_client got %q)", k.name, got, jcGot)
			} else if len(got) < len(want) {
				t.Logf("%s: the kernel delivered %q to its execution (jupyter_client: %q): a fault of the kernel", k.name, got, jcGot)
			}

			task := invoke[tools.TaskOut](t, reg, c, "run_cell_async", map[string]any{"notebook_path": "k.ipynb", "code_override": k.sleep})
			// Interrupt once the kernel is running it.
			for deadline := time.Now().Add(60 * time.Second); ; {
				st := invoke[tools.ExecutionOut](t, reg, c, "get_execution_stream", map[string]any{"notebook_path": "k.ipynb", "task_id": task.TaskID, "wait_ms": 200})
				if st.Status == "running" || time.Now().After(deadline) {
					break
				}
			}
			time.Sleep(500 * time.Millisecond) // let the kernel enter the sleep
			intr := invoke[tools.StatusOut](t, reg, c, "interrupt_kernel", map[string]any{"notebook_path": "k.ipynb"})
			t.Logf("%s: interrupt_kernel = %+v; jupyter_client: reply %q, alive after %v", k.name, intr, jc.Interrupt, jc.AliveAfterIntr)
			if !pythonLike(k.name) && strings.Contains(intr.Message, "KeyboardInterrupt") {
				t.Errorf("%s: interrupt_kernel says %q: Python wording for a %s kernel", k.name, intr.Message, k.lang)
			}
			// What the kernel did, against what jupyter_client saw it do.
			var alive bool
			for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				st := invoke[tools.ExecutionOut](t, reg, c, "get_execution_stream", map[string]any{"notebook_path": "k.ipynb", "task_id": task.TaskID, "wait_ms": 500})
				if st.Done || st.Status == "dead" {
					info := invoke[tools.KernelsOut](t, reg, c, "list_kernels", map[string]any{})
					alive = len(info.Kernels) == 1 && info.Kernels[0].Status != "dead"
					if alive == jc.AliveAfterIntr {
						break
					}
				}
			}
			if alive != jc.AliveAfterIntr {
				t.Errorf("%s: alive after interrupt = %v, jupyter_client saw %v", k.name, alive, jc.AliveAfterIntr)
			}
			if !alive {
				if intr.Status == "dead" && !strings.Contains(intr.Message, "restart") {
					t.Errorf("%s: the kernel died of the interrupt and interrupt_kernel said %q", k.name, intr.Message)
				}
				return
			}
			if again := run(t, reg, c, k.echo); again.Status != "ok" {
				t.Errorf("%s: %q after the interrupt: %+v", k.name, k.echo, again)
			}
			invoke[tools.StatusOut](t, reg, c, "stop_kernel", map[string]any{"notebook_path": "k.ipynb"})
		})
	}
}

func pythonLike(name string) bool { return name == "python3" }
