package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/protocol"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/nbsync"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

// The interleaving harness through the real serve door: one `mcp-jupyter
// serve` process plays the sidecar, this test plays VS Code (editor/snapshot
// and editor/applyEdit answered by each notebook's fakeEditor, with the human
// acting while an edit is in flight) and the extension's language-model tools
// (tool/invoke with the live buffer attached, sometimes a stale one).

type serveDoor struct {
	mu      sync.Mutex
	editors map[string]*fakeEditor // by notebook path; absent or snap-less = not open
	conn    *jsonrpc2.Conn
}

func (d *serveDoor) Handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	if req.Notif {
		return
	}
	go func() {
		switch req.Method {
		case protocol.MethodEditorSnapshot:
			var p protocol.EditorSnapshotParams
			json.Unmarshal(*req.Params, &p)
			d.mu.Lock()
			ed := d.editors[p.NotebookPath]
			d.mu.Unlock()
			if ed == nil {
				conn.Reply(ctx, req.ID, nil)
				return
			}
			snap, _ := ed.Snapshot(ctx, p.NotebookPath)
			conn.Reply(ctx, req.ID, snap)
		case protocol.MethodEditorApplyEdit:
			var p protocol.EditorApplyEditParams
			json.Unmarshal(*req.Params, &p)
			d.mu.Lock()
			ed := d.editors[p.NotebookPath]
			d.mu.Unlock()
			if ed == nil {
				conn.Reply(ctx, req.ID, protocol.EditorApplyEditResult{Applied: false, Reason: "not open"})
				return
			}
			res, _ := ed.ApplyEdit(ctx, p.NotebookPath, p.ExpectedVersion, p.Edits)
			conn.Reply(ctx, req.ID, protocol.EditorApplyEditResult{Applied: res.Applied, Version: res.Version, Reason: res.Reason})
		default:
			conn.ReplyWithError(ctx, req.ID, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: req.Method})
		}
	}()
}

type pipeRW struct {
	io.ReadCloser
	io.WriteCloser
}

func (p pipeRW) Close() error { p.WriteCloser.Close(); return p.ReadCloser.Close() }

func startServeDoor(t *testing.T, ws string) *serveDoor {
	t.Helper()
	cmd := exec.Command(testenv.Binary(t), "serve")
	cmd.Dir = ws
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir())
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
	d := &serveDoor{editors: map[string]*fakeEditor{}}
	d.conn = jsonrpc2.NewConn(context.Background(), jsonrpc2.NewBufferedStream(pipeRW{stdout, stdin}, jsonrpc2.VSCodeObjectCodec{}), d)
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var res protocol.InitializeResult
	if err := d.conn.Call(ctx, protocol.MethodInitialize, protocol.InitializeParams{ClientName: "i1", ClientVersion: "0", WorkspaceFolders: []string{ws}, ProtocolHash: protocol.Hash}, &res); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return d
}

// invoke calls a tool through tool/invoke and decodes its typed answer.
func (d *serveDoor) invoke(name string, args map[string]any, snap *notebookmodel.Snapshot) (any, error) {
	b, _ := json.Marshal(args)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var res protocol.ToolInvokeResult
	if err := d.conn.Call(ctx, protocol.MethodToolInvoke, protocol.ToolInvokeParams{Name: name, Arguments: b, Snapshot: snap}, &res); err != nil {
		return nil, fmt.Errorf("tool/invoke %s: %w", name, err)
	}
	if res.IsError {
		return nil, errors.New(res.Content)
	}
	decode := func(v any) (any, error) {
		if err := json.Unmarshal(res.Structured, v); err != nil {
			return nil, fmt.Errorf("decode %s answer: %w", name, err)
		}
		return v, nil
	}
	switch name {
	case "get_notebook_outline":
		v, err := decode(&tools.OutlineOut{})
		return deref[tools.OutlineOut](v), err
	case "read_cell_smart":
		v, err := decode(&tools.CellOut{})
		return deref[tools.CellOut](v), err
	case "run_cell_async":
		v, err := decode(&tools.TaskOut{})
		return deref[tools.TaskOut](v), err
	case "detect_sync_needed":
		v, err := decode(&nbsync.Report{})
		return deref[nbsync.Report](v), err
	default:
		v, err := decode(&tools.EditOut{})
		return deref[tools.EditOut](v), err
	}
}

func deref[T any](v any) T {
	if p, ok := v.(*T); ok && p != nil {
		return *p
	}
	var zero T
	return zero
}

// TestInterleavingsServe runs interleavings through the real serve binary
// (MCP_JUPYTER_I1_SERVE_N, default 100; half with the notebook open in the
// simulated editor, half on disk).
func TestInterleavingsServe(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MCP_JUPYTER_I1_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	n := 100
	if s := os.Getenv("MCP_JUPYTER_I1_SERVE_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	t.Logf("I1 serve seed %d (replay: MCP_JUPYTER_I1_SEED=%d go test -run TestInterleavingsServe ./sidecar/internal/tools/)", seed, seed)
	start := time.Now()
	res := runI1Serve(t, seed, n)
	t.Logf("I1 serve: %d interleavings, %d steps, %d agent calls (%d accepted, %d refused, %d spurious): wrong-cell %d, lost edits %d (agent %d, human %d) in %v",
		res.Interleavings, res.Steps, res.AgentCalls, res.Accepted, res.Refused, res.Spurious, res.WrongCell, res.LostEdits+res.LostHuman, res.LostEdits, res.LostHuman, time.Since(start).Round(time.Millisecond))
	for _, f := range res.Failures {
		t.Log(f)
	}
	if res.WrongCell != 0 || res.LostEdits != 0 || res.LostHuman != 0 {
		t.Fatalf("seed %d: %d wrong-cell actions, %d lost agent edits, %d lost human edits", seed, res.WrongCell, res.LostEdits, res.LostHuman)
	}
}

func runI1Serve(t *testing.T, seed uint64, n int) I1Result {
	ws, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d := startServeDoor(t, ws)
	var res I1Result
	for k := 0; k < n; k++ {
		s := seed + uint64(k)
		editor := k%2 == 0
		path := filepath.Join(ws, fmt.Sprintf("nb-%d.ipynb", k))
		w := newWorldAt(t, path, s, editor, &res, "")
		w.invokeFn = d.invoke
		if editor {
			d.mu.Lock()
			d.editors[path] = w.ed
			d.mu.Unlock()
		}
		before := res.WrongCell + res.LostEdits + res.LostHuman
		for step := 0; step < 24; step++ {
			res.Steps++
			w.step()
			w.check(fmt.Sprintf("serve seed %d step %d", s, step))
		}
		res.Interleavings++
		if res.WrongCell+res.LostEdits+res.LostHuman > before {
			res.fail("  ^ serve interleaving seed %d (editor=%v)", s, editor)
		}
	}
	return res
}
