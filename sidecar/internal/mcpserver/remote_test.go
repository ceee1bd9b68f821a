package mcpserver_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel/remote/remotetest"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

// TestRemoteKernelOverMCP: an MCP client starts a kernel on a real Jupyter
// Server (loopback, token auth), runs cells, answers input(), interrupts,
// restarts and stops it; the token appears in no tool result.
func TestRemoteKernelOverMCP(t *testing.T) {
	srv := remotetest.Start(t)
	t.Setenv(tools.EnvServerURL, srv.URL)
	t.Setenv(tools.EnvServerToken, srv.Token)
	cs, _ := connect(t)
	ctx := context.Background()
	var seen strings.Builder
	record := func(v any) { b, _ := json.Marshal(v); seen.Write(b) }

	k := call[tools.KernelOut](t, cs, "start_kernel", map[string]any{"notebook_path": "nb.ipynb", "server": "default", "kernel_name": "python3", "timeout_s": 120})
	record(k)
	if k.Server != srv.URL || k.KernelID == "" || k.Status != "idle" || k.Language != "python" {
		t.Fatalf("start_kernel: %+v", k)
	}
	out := call[tools.ExecutionOut](t, cs, "run_cell", map[string]any{"notebook_path": "nb.ipynb", "code_override": "for i in range(3): print(i)\n6*7", "timeout_s": 120})
	record(out)
	if out.Status != "ok" || !strings.Contains(out.LLMSummary, "0\n1\n2") || !strings.Contains(out.LLMSummary, "42") {
		t.Fatalf("run_cell: %+v", out)
	}

	// input() through run_cell_async / submit_input.
	task := call[tools.TaskOut](t, cs, "run_cell_async", map[string]any{"notebook_path": "nb.ipynb", "code_override": "print('hi', input('who? '))"})
	var st tools.ExecutionOut
	deadline := time.Now().Add(90 * time.Second)
	for st.PendingInput == nil && !st.Done {
		if time.Now().After(deadline) {
			t.Fatalf("no pending input: %+v", st)
		}
		st = call[tools.ExecutionOut](t, cs, "get_execution_stream", map[string]any{"notebook_path": "nb.ipynb", "task_id": task.TaskID, "wait_ms": 2000})
	}
	if st.PendingInput == nil {
		t.Fatalf("cell ended without asking: %+v", st)
	}
	call[map[string]any](t, cs, "submit_input", map[string]any{"notebook_path": "nb.ipynb", "task_id": task.TaskID, "value": "ann"})
	for !st.Done {
		st = call[tools.ExecutionOut](t, cs, "get_execution_stream", map[string]any{"notebook_path": "nb.ipynb", "task_id": task.TaskID, "wait_ms": 2000})
	}
	st = call[tools.ExecutionOut](t, cs, "get_execution_stream", map[string]any{"notebook_path": "nb.ipynb", "task_id": task.TaskID})
	record(st)
	if st.Status != "ok" || !strings.Contains(st.LLMSummary, "hi ann") {
		t.Fatalf("input run: %+v", st)
	}

	// Interrupt a sleeping cell.
	task = call[tools.TaskOut](t, cs, "run_cell_async", map[string]any{"notebook_path": "nb.ipynb", "code_override": "import time\nprint('zz', flush=True)\ntime.sleep(300)"})
	for st = (tools.ExecutionOut{}); !strings.Contains(st.LLMSummary, "zz"); {
		st = call[tools.ExecutionOut](t, cs, "get_execution_stream", map[string]any{"notebook_path": "nb.ipynb", "task_id": task.TaskID, "wait_ms": 2000})
		if st.Done {
			t.Fatalf("sleep ended early: %+v", st)
		}
	}
	record(call[tools.StatusOut](t, cs, "interrupt_kernel", map[string]any{"notebook_path": "nb.ipynb"}))
	for !st.Done {
		st = call[tools.ExecutionOut](t, cs, "get_execution_stream", map[string]any{"notebook_path": "nb.ipynb", "task_id": task.TaskID, "wait_ms": 2000})
	}
	if !strings.Contains(strings.ToLower(st.LLMSummary+st.Status), "interrupt") && st.Status != "error" {
		t.Fatalf("interrupted run: %+v", st)
	}

	record(call[tools.StatusOut](t, cs, "restart_kernel", map[string]any{"notebook_path": "nb.ipynb"}))
	out = call[tools.ExecutionOut](t, cs, "run_cell", map[string]any{"notebook_path": "nb.ipynb", "code_override": "'i' in dir()", "timeout_s": 120})
	record(out)
	if out.Status != "ok" || !strings.Contains(out.LLMSummary, "False") {
		t.Fatalf("after restart: %+v", out)
	}
	info := call[tools.KernelInfoOut](t, cs, "get_kernel_info", map[string]any{"notebook_path": "nb.ipynb"})
	record(info)

	// A server the user did not configure is refused (the token stays home).
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "start_kernel", Arguments: map[string]any{"notebook_path": "other.ipynb", "server": "http://127.0.0.1:1/"}})
	if err != nil || !res.IsError || !strings.Contains(text(res), "not the configured") {
		t.Fatalf("foreign server: %v %s", err, text(res))
	}

	record(call[tools.StatusOut](t, cs, "stop_kernel", map[string]any{"notebook_path": "nb.ipynb"}))
	if strings.Contains(seen.String(), srv.Token) {
		t.Fatal("the server token appears in a tool result")
	}
}
