package sidecar_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/sourcegraph/jsonrpc2"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/protocol"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

const testNotebook = `{
 "cells": [
  {
   "cell_type": "markdown",
   "id": "intro",
   "metadata": {},
   "source": [
    "# On disk"
   ]
  },
  {
   "cell_type": "code",
   "execution_count": null,
   "id": "calc",
   "metadata": {},
   "outputs": [],
   "source": [
    "x = 1"
   ]
  }
 ],
 "metadata": {
  "language_info": {
   "name": "python"
  }
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
`

// extension plays the VS Code extension's side of `mcp-jupyter serve` over
// real pipes to the built binary.
type extension struct {
	t     *testing.T
	cmd   *exec.Cmd
	conn  *jsonrpc2.Conn
	stdin io.WriteCloser
	ws    string
	nb    string

	mu      sync.Mutex
	notes   []jsonrpc2.Request
	buffer  *notebookmodel.Snapshot // the "open editor" buffer; nil = not open
	edits   []protocol.EditorApplyEditParams
	changed chan struct{}
}

type pipe struct {
	io.ReadCloser
	io.WriteCloser
}

func (p pipe) Close() error {
	p.WriteCloser.Close()
	return p.ReadCloser.Close()
}

func startServe(t *testing.T) *extension {
	t.Helper()
	ws, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	nb := filepath.Join(ws, "nb.ipynb")
	if err := os.WriteFile(nb, []byte(testNotebook), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.Binary(t), "serve")
	cmd.Dir = ws
	// A private runtime dir so attach registrations of parallel tests do not meet.
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir())
	cmd.Stderr = &testLog{t: t}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &extension{t: t, cmd: cmd, stdin: stdin, ws: ws, nb: nb, changed: make(chan struct{}, 1000)}
	e.conn = jsonrpc2.NewConn(context.Background(), jsonrpc2.NewBufferedStream(pipe{stdout, stdin}, jsonrpc2.VSCodeObjectCodec{}), e)
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Error("serve did not exit after stdin EOF")
		}
	})
	return e
}

type testLog struct {
	t  *testing.T
	mu sync.Mutex
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Logf("sidecar: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Handle records notifications in arrival order (on the read loop, like
// vscode-jsonrpc) and answers the sidecar's reverse calls on goroutines.
func (e *extension) Handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	if !req.Notif {
		go e.answer(ctx, conn, req)
		return
	}
	{
		e.mu.Lock()
		e.notes = append(e.notes, *req)
		e.mu.Unlock()
		select {
		case e.changed <- struct{}{}:
		default:
		}
		return
	}
}

func (e *extension) answer(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	switch req.Method {
	case protocol.MethodEditorSnapshot:
		e.mu.Lock()
		snap := e.buffer
		e.mu.Unlock()
		conn.Reply(ctx, req.ID, snap)
	case protocol.MethodStdinRequest:
		var p protocol.StdinRequestParams
		json.Unmarshal(*req.Params, &p)
		conn.Reply(ctx, req.ID, protocol.StdinRequestResult{Value: "typed:" + p.Prompt})
	case protocol.MethodEditorApplyEdit:
		var p protocol.EditorApplyEditParams
		json.Unmarshal(*req.Params, &p)
		e.mu.Lock()
		e.edits = append(e.edits, p)
		res := protocol.EditorApplyEditResult{Applied: false, Reason: "not open"}
		if e.buffer != nil {
			if p.ExpectedVersion == e.buffer.Version {
				e.buffer.Version++
				res = protocol.EditorApplyEditResult{Applied: true, Version: e.buffer.Version}
			} else {
				res = protocol.EditorApplyEditResult{Applied: false, Version: e.buffer.Version, Reason: "buffer changed"}
			}
		}
		e.mu.Unlock()
		conn.Reply(ctx, req.ID, res)
	default:
		conn.ReplyWithError(ctx, req.ID, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: req.Method})
	}
}

func (e *extension) call(method string, params, result any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	return e.conn.Call(ctx, method, params, result)
}

func (e *extension) mustCall(method string, params, result any) {
	e.t.Helper()
	if err := e.call(method, params, result); err != nil {
		e.t.Fatalf("%s: %v", method, err)
	}
}

func (e *extension) initialize() protocol.InitializeResult {
	e.t.Helper()
	var res protocol.InitializeResult
	e.mustCall(protocol.MethodInitialize, protocol.InitializeParams{ClientName: "harness", ClientVersion: "0", WorkspaceFolders: []string{e.ws}, ProtocolHash: protocol.Hash}, &res)
	return res
}

func (e *extension) openBuffer(firstTitle string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.buffer = &notebookmodel.Snapshot{URI: "file://" + e.nb, Path: e.nb, Version: 7, Cells: []notebookmodel.SnapshotCell{
		{ID: "intro", Kind: "markdown", Language: "markdown", Source: "# " + firstTitle},
		{ID: "calc", Kind: "code", Language: "python", Source: "x = 1"},
	}}
}

func rpcCode(err error) int64 {
	var re *jsonrpc2.Error
	if errors.As(err, &re) {
		return re.Code
	}
	return 0
}

func TestServeProtocolBasics(t *testing.T) {
	e := startServe(t)
	var out json.RawMessage
	if err := e.call(protocol.MethodKernelStatus, protocol.NotebookParams{NotebookPath: e.nb}, &out); rpcCode(err) != int64(protocol.CodeNotInitialized) {
		t.Errorf("request before initialize: %v, want CodeNotInitialized", err)
	}
	if err := e.call(protocol.MethodInitialize, protocol.InitializeParams{WorkspaceFolders: []string{e.ws}, ProtocolHash: "different"}, &out); rpcCode(err) != int64(protocol.CodeProtocolMismatch) {
		t.Errorf("protocol mismatch: %v", err)
	}
	init := e.initialize()
	if init.ProtocolHash != protocol.Hash || init.AttachSocket == "" {
		t.Errorf("initialize: %+v", init)
	}
	if err := e.call(protocol.MethodKernelStatus, protocol.NotebookParams{NotebookPath: "/etc/x.ipynb"}, &out); rpcCode(err) != int64(protocol.CodePathOutsideWorkspace) {
		t.Errorf("path outside: %v", err)
	}
	if err := e.call(protocol.MethodExecutionRun, protocol.ExecutionRunParams{NotebookPath: e.nb, Code: "1"}, &out); rpcCode(err) != int64(protocol.CodeNotFound) {
		t.Errorf("run without kernel: %v", err)
	}

	// tool/invoke with the caller's snapshot answers from the buffer.
	e.openBuffer("From the buffer")
	var res protocol.ToolInvokeResult
	args, _ := json.Marshal(map[string]any{"notebook_path": e.nb})
	e.mu.Lock()
	snap := *e.buffer
	e.mu.Unlock()
	snap.Cells = append([]notebookmodel.SnapshotCell{}, snap.Cells...)
	snap.Cells[0].Source = "# Attached snapshot"
	e.mustCall(protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: "get_notebook_outline", Arguments: args, Snapshot: &snap}, &res)
	if res.IsError || !strings.Contains(res.Content, "Attached snapshot") || !strings.Contains(res.Content, "(buffer v") {
		t.Errorf("outline with snapshot: %+v", res)
	}
	// An image output of the buffer reaches the model as an image part (the extension hands it to vision models).
	var pic bytes.Buffer
	if err := png.Encode(&pic, image.NewGray(image.Rect(0, 0, 40, 30))); err != nil {
		t.Fatal(err)
	}
	out0, _ := json.Marshal(map[string]any{"output_type": "display_data", "metadata": map[string]any{}, "data": map[string]any{"image/png": base64.StdEncoding.EncodeToString(pic.Bytes())}})
	snap.Cells[1].Outputs = []json.RawMessage{out0}
	readArgs, _ := json.Marshal(map[string]any{"notebook_path": e.nb, "index": 1})
	e.mustCall(protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: "read_cell_smart", Arguments: readArgs, Snapshot: &snap}, &res)
	if res.IsError || len(res.Images) != 1 || res.Images[0].MIMEType != "image/png" || !bytes.Equal(res.Images[0].Data, pic.Bytes()) {
		t.Errorf("read_cell_smart of an image output: %d images, %s", len(res.Images), res.Content)
	}
	res.Images = nil
	// Without a snapshot the sidecar asks the editor (reverse call).
	e.mustCall(protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: "get_notebook_outline", Arguments: args}, &res)
	if res.IsError || !strings.Contains(res.Content, "From the buffer") || !strings.Contains(res.Content, "(editor v") {
		t.Errorf("outline via editor/snapshot: %+v", res)
	}
	// Edits go to the editor, never to disk, while the notebook is open.
	args, _ = json.Marshal(map[string]any{"notebook_path": e.nb, "index": 1, "content": "y = 2"})
	e.mustCall(protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: "insert_cell", Arguments: args}, &res)
	if res.IsError || !strings.Contains(res.Content, `"applied_via":"editor"`) {
		t.Fatalf("insert via editor: %+v", res)
	}
	e.mu.Lock()
	edits := e.edits
	e.mu.Unlock()
	if len(edits) != 1 || edits[0].ExpectedVersion != 7 || len(edits[0].Edits) == 0 || edits[0].Edits[0].Op != notebookmodel.OpInsert || edits[0].Edits[0].Cells[0].Source != "y = 2" {
		t.Errorf("editor/applyEdit: %+v", edits)
	}
	if data, _ := os.ReadFile(e.nb); string(data) != testNotebook {
		t.Error("an edit of an open notebook was written to disk")
	}
	// A tool error is a result with isError, not an RPC error.
	args, _ = json.Marshal(map[string]any{"notebook_path": e.nb, "cell_id": "nope"})
	e.mustCall(protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: "read_cell_smart", Arguments: args}, &res)
	if !res.IsError || !strings.Contains(res.Content, "outline") {
		t.Errorf("bad tool call: %+v", res)
	}
	// shutdown is answered, then the sidecar exits on its own (stdin still open).
	e.mustCall(protocol.MethodShutdown, protocol.ShutdownParams{}, nil)
	exited := make(chan error, 1)
	go func() { exited <- e.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after shutdown: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Error("sidecar still running 60 s after shutdown")
	}
}

// TestAttach: `mcp-jupyter mcp` in the workspace joins the running sidecar and
// sees the live buffer through it.
func TestAttach(t *testing.T) {
	e := startServe(t)
	init := e.initialize()
	if init.AttachSocket == "" {
		t.Fatal("no attach socket")
	}
	if fi, err := os.Stat(filepath.Dir(init.AttachSocket)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("attach dir mode: %v %v", fi.Mode(), err)
	}
	e.openBuffer("Live buffer title")
	cmd := exec.Command(testenv.Binary(t), "mcp", "--workspace", e.ws)
	cmd.Env = e.cmd.Env
	cmd.Stderr = &testLog{t: t}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_notebook_outline", Arguments: map[string]any{"notebook_path": "nb.ipynb"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res.StructuredContent)
	if res.IsError || !strings.Contains(string(b), "Live buffer title") || !strings.Contains(string(b), `"source":"editor"`) {
		t.Errorf("attached outline does not show the live buffer: %s", b)
	}
	// An attached agent's edit goes to the editor as an undoable edit, not to disk.
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "append_cell", Arguments: map[string]any{"notebook_path": "nb.ipynb", "content": "z = 3"}})
	if err != nil || res.IsError {
		t.Fatalf("append_cell through attach: %v %+v", err, res)
	}
	e.mu.Lock()
	edits := e.edits
	e.mu.Unlock()
	if len(edits) != 1 || edits[0].Edits[0].Op != notebookmodel.OpInsert || edits[0].Edits[0].Index != 2 {
		t.Errorf("editor/applyEdit from an attached agent: %+v", edits)
	}
	if data, _ := os.ReadFile(e.nb); string(data) != testNotebook {
		t.Error("an attached agent's edit reached the disk")
	}
	// With --standalone the same command reads the disk instead.
	cmd2 := exec.Command(testenv.Binary(t), "mcp", "--standalone", "--workspace", e.ws)
	cmd2.Env = e.cmd.Env
	cs2, err := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs2.Close()
	res, err = cs2.CallTool(ctx, &mcp.CallToolParams{Name: "get_notebook_outline", Arguments: map[string]any{"notebook_path": "nb.ipynb"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(res.StructuredContent)
	if !strings.Contains(string(b), "On disk") {
		t.Errorf("standalone outline: %s", b)
	}
}

// TestServeExecution runs real kernels: outputs are pushed with gap-free seq,
// $/cancelRequest interrupts a blocking run_cell, stdin EOF shuts kernels down.
func TestServeExecution(t *testing.T) {
	py := testenv.Python(t)
	e := startServe(t)
	e.initialize()
	var k protocol.KernelInfo
	e.mustCall(protocol.MethodKernelStart, protocol.KernelStartParams{NotebookPath: e.nb, Environment: &protocol.EnvironmentRef{Kind: "venv", Path: filepath.Dir(filepath.Dir(py))}}, &k)
	if k.PID <= 0 || k.Language != "python" {
		t.Fatalf("kernel/start: %+v", k)
	}
	var run protocol.ExecutionRunResult
	e.mustCall(protocol.MethodExecutionRun, protocol.ExecutionRunParams{NotebookPath: e.nb, CellID: "calc", Code: "for i in range(20):\n    print(i, flush=True)\n'end'", Origin: "human"}, &run)
	final := e.waitState(run.ExecutionID, 60*time.Second)
	if final.Status != protocol.StatusOK || final.ExecutionCount == nil {
		t.Errorf("final state: %+v", final)
	}
	var text strings.Builder
	seqs := []int{}
	for _, n := range e.notesFor(run.ExecutionID) {
		var p struct {
			Seq int               `json:"seq"`
			Op  protocol.OutputOp `json:"op"`
		}
		json.Unmarshal(*n.Params, &p)
		seqs = append(seqs, p.Seq)
		text.WriteString(p.Op.Text)
		var o struct {
			Text any `json:"text"`
		}
		if p.Op.Output != nil && json.Unmarshal(p.Op.Output, &o) == nil {
			switch v := o.Text.(type) {
			case string:
				text.WriteString(v)
			case []any:
				for _, l := range v {
					text.WriteString(l.(string))
				}
			}
		}
	}
	for i, s := range seqs {
		if s != i+1 {
			t.Fatalf("seq not gap-free: %v", seqs)
		}
	}
	for i := range 20 {
		if !strings.Contains(text.String(), itoa(i)+"\n") {
			t.Errorf("output %d missing: %q", i, text.String())
		}
	}

	// input() of a human run is asked through stdin/request.
	e.mustCall(protocol.MethodExecutionRun, protocol.ExecutionRunParams{NotebookPath: e.nb, CellID: "calc", Code: "v = input('name?')\nprint('got', v)", Origin: "human"}, &run)
	if st := e.waitState(run.ExecutionID, 60*time.Second); st.Status != protocol.StatusOK {
		t.Errorf("input run: %+v", st)
	}
	e.waitOutput("got typed:name?", 30*time.Second)

	// $/cancelRequest on a blocking tool call interrupts the kernel.
	args, _ := json.Marshal(map[string]any{"notebook_path": e.nb, "code_override": "import time\nprint('sleeping', flush=True)\ntime.sleep(300)", "timeout_s": 300})
	errc := make(chan error, 1)
	var res protocol.ToolInvokeResult
	go func() {
		errc <- e.conn.Call(context.Background(), protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: "run_cell", Arguments: args}, &res, jsonrpc2.PickID(jsonrpc2.ID{Num: 4242}))
	}()
	sleeping := e.waitOutput("sleeping", 60*time.Second)
	if err := e.conn.Notify(context.Background(), "$/cancelRequest", map[string]any{"id": 4242}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("cancelled run_cell: %v", err)
		}
		if !res.IsError || !strings.Contains(res.Content, "cancel") {
			t.Errorf("cancelled run_cell result: %+v", res)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("$/cancelRequest did not end run_cell")
	}
	st := e.waitState(sleeping, 60*time.Second)
	if st.Status != protocol.StatusError || st.Ename != "KeyboardInterrupt" {
		t.Errorf("cancelled execution state: %+v", st)
	}

	e.stdin.Close()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if !kernel.ProcessRunning(k.PID) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("kernel %d still alive after stdin EOF", k.PID)
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func (e *extension) notesFor(id string) []jsonrpc2.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []jsonrpc2.Request
	for _, n := range e.notes {
		if (n.Method == protocol.MethodExecutionOutput || n.Method == protocol.MethodExecutionState) && strings.Contains(string(*n.Params), id) {
			out = append(out, n)
		}
	}
	return out
}

func (e *extension) waitState(id string, timeout time.Duration) protocol.ExecutionStateParams {
	e.t.Helper()
	deadline := time.After(timeout)
	for {
		e.mu.Lock()
		for _, n := range e.notes {
			if n.Method != protocol.MethodExecutionState {
				continue
			}
			var p protocol.ExecutionStateParams
			json.Unmarshal(*n.Params, &p)
			if p.ExecutionID == id && p.Status != protocol.StatusQueued && p.Status != protocol.StatusRunning {
				e.mu.Unlock()
				return p
			}
		}
		e.mu.Unlock()
		select {
		case <-e.changed:
		case <-deadline:
			e.t.Fatalf("execution %s did not finish", id)
		}
	}
}

// waitOutput waits for an output op containing text and returns its execution id.
func (e *extension) waitOutput(text string, timeout time.Duration) string {
	e.t.Helper()
	deadline := time.After(timeout)
	for {
		e.mu.Lock()
		for _, n := range e.notes {
			if n.Method == protocol.MethodExecutionOutput && strings.Contains(string(*n.Params), text) {
				var p protocol.ExecutionOutputParams
				json.Unmarshal(*n.Params, &p)
				e.mu.Unlock()
				return p.ExecutionID
			}
		}
		e.mu.Unlock()
		select {
		case <-e.changed:
		case <-deadline:
			e.t.Fatalf("no output %q", text)
		}
	}
}

// TestServeKernelStartFailed: an environment without ipykernel is refused with
// CodeKernelStartFailed and the exact install command.
func TestServeKernelStartFailed(t *testing.T) {
	py := testenv.Python(t)
	e := startServe(t)
	e.initialize()
	venv := filepath.Join(e.ws, "bare-venv")
	if out, err := exec.Command(py, "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Fatalf("make a venv without ipykernel: %v %s", err, out)
	}
	var k protocol.KernelInfo
	err := e.call(protocol.MethodKernelStart, protocol.KernelStartParams{NotebookPath: e.nb, Environment: &protocol.EnvironmentRef{Kind: "venv", Path: venv}}, &k)
	var re *jsonrpc2.Error
	if !errors.As(err, &re) || re.Code != int64(protocol.CodeKernelStartFailed) || re.Data == nil {
		t.Fatalf("kernel/start in a venv without ipykernel: %v", err)
	}
	var data protocol.KernelStartFailedData
	json.Unmarshal(*re.Data, &data)
	if !strings.Contains(data.InstallCommand, "ipykernel") || !strings.Contains(data.InstallCommand, venv) {
		t.Errorf("install command: %+v", data)
	}
}

// TestServeReattachAfterCrash: kernels outlive a SIGKILLed sidecar, and the
// next sidecar of the workspace re-attaches with the variables intact.
func TestServeReattachAfterCrash(t *testing.T) {
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
	if err := e.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	e.cmd.Wait()
	if !kernel.ProcessRunning(k.PID) {
		t.Fatalf("kernel %d died with the sidecar", k.PID)
	}

	// A new sidecar for the same workspace (same cwd, same runtime dir).
	e2 := restartServe(t, e)
	e2.initialize()
	var st *protocol.KernelInfo
	e2.mustCall(protocol.MethodKernelStatus, protocol.NotebookParams{NotebookPath: e.nb}, &st)
	if st == nil || st.PID != k.PID {
		t.Fatalf("kernel not re-attached: %+v (want pid %d)", st, k.PID)
	}
	args, _ := json.Marshal(map[string]any{"notebook_path": e.nb, "code_override": "big + 1", "timeout_s": 60})
	var res protocol.ToolInvokeResult
	e2.mustCall(protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: "run_cell", Arguments: args}, &res)
	if res.IsError || !strings.Contains(res.Content, `"llm_summary":"42"`) {
		t.Errorf("variables after re-attach: %+v", res)
	}
}

// restartServe starts another `serve` in the same workspace and runtime dir as e.
func restartServe(t *testing.T, e *extension) *extension {
	t.Helper()
	cmd := exec.Command(testenv.Binary(t), "serve")
	cmd.Dir = e.ws
	cmd.Env = e.cmd.Env
	cmd.Stderr = &testLog{t: t}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e2 := &extension{t: t, cmd: cmd, stdin: stdin, ws: e.ws, nb: e.nb, changed: make(chan struct{}, 1000)}
	e2.conn = jsonrpc2.NewConn(context.Background(), jsonrpc2.NewBufferedStream(pipe{stdout, stdin}, jsonrpc2.VSCodeObjectCodec{}), e2)
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
		}
	})
	return e2
}
