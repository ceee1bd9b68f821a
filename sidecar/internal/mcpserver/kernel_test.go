package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/mcpserver"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/sandbox"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

func call[T any](t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) T {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.IsError {
		t.Fatalf("%s: %s", name, text(res))
	}
	var out T
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v in %s", name, err, b)
	}
	return out
}

// TestKernelCalls: large outputs become a linked resource; calls about an
// unknown task or a dead kernel are isError results with advice.
func TestKernelCalls(t *testing.T) {
	py := testenv.Python(t)
	cs, _ := connect(t)
	ctx := context.Background()
	venv := filepath.Dir(filepath.Dir(py))
	k := call[tools.KernelOut](t, cs, "start_kernel", map[string]any{"notebook_path": "nb.ipynb", "venv_path": venv})
	if k.PID <= 0 {
		t.Fatalf("start_kernel: %+v", k)
	}
	again := call[tools.KernelOut](t, cs, "start_kernel", map[string]any{"notebook_path": "nb.ipynb"})
	if !again.Reused || again.PID != k.PID {
		t.Errorf("second start_kernel did not reuse the kernel: %+v", again)
	}

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "run_cell", Arguments: map[string]any{"notebook_path": "nb.ipynb", "code_override": "print('x' * 700000)", "timeout_s": 120}})
	if err != nil || res.IsError {
		t.Fatalf("large output: %v %s", err, text(res))
	}
	var link *mcp.ResourceLink
	for _, c := range res.Content {
		if l, ok := c.(*mcp.ResourceLink); ok {
			link = l
		}
	}
	if link == nil || !strings.HasPrefix(link.URI, "notebook://outputs/") {
		t.Fatalf("no resource_link for a 700 kB output: %+v", res.Content)
	}
	if b, _ := json.Marshal(res.StructuredContent); len(b) > 100_000 {
		t.Errorf("the large output was inlined anyway (%d bytes)", len(b))
	}
	rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: link.URI})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Contents) != 1 || strings.Count(rr.Contents[0].Text, "x") < 700000 {
		t.Errorf("resource does not hold the output (%d contents)", len(rr.Contents))
	}

	// The stream of a huge output elides the op and links the resource instead.
	task := call[tools.TaskOut](t, cs, "run_cell_async", map[string]any{"notebook_path": "nb.ipynb", "code_override": "import sys; sys.stdout.write('y' * 900000)"})
	var stream tools.ExecutionOut
	for !stream.Done {
		stream = call[tools.ExecutionOut](t, cs, "get_execution_stream", map[string]any{"notebook_path": "nb.ipynb", "task_id": task.TaskID, "wait_ms": 2000})
	}
	stream = call[tools.ExecutionOut](t, cs, "get_execution_stream", map[string]any{"notebook_path": "nb.ipynb", "task_id": task.TaskID})
	elided := false
	for _, op := range stream.Ops {
		elided = elided || op.Elided
	}
	if !elided || stream.RawResource == "" || len(stream.RawOutputs) != 0 {
		t.Errorf("900 kB stream not elided: resource %q, %d raw outputs, ops %d", stream.RawResource, len(stream.RawOutputs), len(stream.Ops))
	}

	bad := func(name string, args map[string]any, want string) {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: protocol error %v", name, err)
		}
		if !res.IsError || !strings.Contains(text(res), want) {
			t.Errorf("%s: want isError mentioning %q, got %v %q", name, want, res.IsError, text(res))
		}
	}
	bad("get_execution_stream", map[string]any{"notebook_path": "nb.ipynb", "task_id": "no-such-task"}, "run_cell_async")
	bad("submit_input", map[string]any{"notebook_path": "nb.ipynb", "task_id": "no-such-task", "value": "x"}, "run_cell_async")
	bad("get_execution_stream", map[string]any{"notebook_path": "nb.ipynb", "task_id": "no-such-task", "since": -1}, "run_cell_async")

	// Kill the kernel behind the server's back: calls say it died and what to do.
	if p, err := os.FindProcess(k.PID); err != nil || p.Kill() != nil {
		t.Fatalf("kill kernel %d: %v", k.PID, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		info := call[tools.KernelInfoOut](t, cs, "get_kernel_info", map[string]any{"notebook_path": "nb.ipynb"})
		if info.Status == "dead" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "run_cell", Arguments: map[string]any{"notebook_path": "nb.ipynb", "code_override": "1", "timeout_s": 30}})
	if err != nil {
		t.Fatal(err)
	}
	msg := text(res)
	if !res.IsError || !strings.Contains(msg, "dead") || !strings.Contains(msg, "start_kernel") {
		t.Errorf("run on a dead kernel: %s", msg)
	}
	restarted := call[tools.KernelOut](t, cs, "start_kernel", map[string]any{"notebook_path": "nb.ipynb", "venv_path": venv})
	if restarted.Reused || restarted.PID == k.PID {
		t.Errorf("start_kernel after death must start a new kernel: %+v", restarted)
	}
	out := call[tools.ExecutionOut](t, cs, "run_cell", map[string]any{"notebook_path": "nb.ipynb", "code_override": "6*7", "timeout_s": 60})
	if out.LLMSummary != "42" {
		t.Errorf("run after restart: %+v", out)
	}
	call[tools.StatusOut](t, cs, "stop_kernel", map[string]any{"notebook_path": "nb.ipynb"})
}

func TestModelTextOmitsRawBundles(t *testing.T) {
	res, err := mcpserver.Result(tools.ExecutionOut{TaskID: "t1", Status: "ok", Done: true, LLMSummary: "[image/png 10x10, 1 KB]",
		RawOutputs: []json.RawMessage{json.RawMessage(`{"output_type":"display_data","data":{"image/png":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"}}`)}})
	if err != nil {
		t.Fatal(err)
	}
	txt := text(res)
	if strings.Contains(txt, "iVBORw0KGgo") || !strings.Contains(txt, "image/png 10x10") || !strings.Contains(txt, "raw_outputs_omitted") {
		t.Errorf("text content: %s", txt)
	}
	b, _ := json.Marshal(res.StructuredContent)
	if !strings.Contains(string(b), "iVBORw0KGgo") {
		t.Errorf("structuredContent lost the raw outputs: %s", b)
	}
	if !json.Valid([]byte(txt)) {
		t.Errorf("text content is not JSON: %s", txt)
	}
}

// TestSandboxedKernel: start_kernel sandbox=bubblewrap runs a real kernel with
// no network that may write only inside the workspace.
func TestSandboxedKernel(t *testing.T) {
	py := testenv.Python(t)
	if err := sandbox.Check(context.Background(), sandbox.Bubblewrap); err != nil {
		t.Skipf("bubblewrap unusable here: %v", err)
	}
	cs, ws := connect(t)
	k := call[tools.KernelOut](t, cs, "start_kernel", map[string]any{"notebook_path": "nb.ipynb", "venv_path": filepath.Dir(filepath.Dir(py)), "sandbox": "bubblewrap", "timeout_s": 120})
	if k.Sandbox != "bubblewrap" {
		t.Errorf("kernel not reported as sandboxed: %+v", k)
	}
	// Not under /tmp: the jail mounts a private tmpfs there.
	outside := filepath.Join("/var/tmp", fmt.Sprintf("mcp-jupyter-escape-%d.txt", os.Getpid()))
	defer os.Remove(outside)
	code := "import socket, pathlib\n" +
		"try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2); print('net: open')\nexcept OSError as e:\n    print('net: blocked')\n" +
		"pathlib.Path('inside.txt').write_text('ok'); print('inside: written')\n" +
		"try:\n    pathlib.Path(" + strconvQuote(outside) + ").write_text('x'); print('outside: written')\nexcept OSError:\n    print('outside: refused')\n"
	out := call[tools.ExecutionOut](t, cs, "run_cell", map[string]any{"notebook_path": "nb.ipynb", "code_override": code, "timeout_s": 60})
	for _, want := range []string{"net: blocked", "inside: written", "outside: refused"} {
		if !strings.Contains(out.LLMSummary, want) {
			t.Errorf("sandboxed run: want %q in %q", want, out.LLMSummary)
		}
	}
	if _, err := os.Stat(filepath.Join(ws, "inside.txt")); err != nil {
		t.Errorf("write inside the workspace did not land: %v", err)
	}
	if _, err := os.Stat(outside); err == nil {
		t.Errorf("the sandboxed kernel wrote outside the workspace: %s", outside)
	}
	call[tools.StatusOut](t, cs, "stop_kernel", map[string]any{"notebook_path": "nb.ipynb"})
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }
