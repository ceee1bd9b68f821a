package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/protocol"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/env"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel/kernelspec"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/workspace"
)

// Options configure a server.
type Options struct {
	Version string
	Logger  *slog.Logger
	// OnInitialize runs after a successful initialize with the workspace
	// folders; it returns the attach socket path to announce ("" = none).
	OnInitialize func(folders []string) string
	// SyncDelay is how long sync/status triggers are gathered before a check
	// (0 = DefaultSyncDelay).
	SyncDelay time.Duration
}

// Server is one extension connection.
type Server struct {
	reg    *tools.Registry
	core   *tools.Core
	opts   Options
	logger *slog.Logger
	conn   *jsonrpc2.Conn

	mu          sync.Mutex
	initialized bool
	inflight    map[jsonrpc2.ID]context.CancelFunc
	seq         map[string]int // executionId → last seq sent

	events   chan session.Event
	sync     *syncPush
	shutdown chan struct{}
	once     sync.Once
}

// New builds a server over the shared tool core.
func New(reg *tools.Registry, core *tools.Core, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{reg: reg, core: core, opts: opts, logger: opts.Logger,
		inflight: map[jsonrpc2.ID]context.CancelFunc{}, seq: map[string]int{},
		events: make(chan session.Event, 4096), shutdown: make(chan struct{})}
	s.sync = newSyncPush(s, opts.SyncDelay)
	return s
}

// Serve runs the connection until the peer closes it (stdin EOF) or asks for
// shutdown; then every kernel is shut down.
func (s *Server) Serve(ctx context.Context, rwc io.ReadWriteCloser) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.conn = jsonrpc2.NewConn(ctx, jsonrpc2.NewBufferedStream(rwc, jsonrpc2.VSCodeObjectCodec{}), s)
	unsub := s.core.Sessions.Subscribe(func(ev session.Event) {
		select {
		case s.events <- ev:
		case <-ctx.Done():
		}
	})
	defer unsub()
	// Tool calls of every door (an attached agent's load_checkpoint, an
	// edit, a restart) may change what the kernel or the buffer holds.
	defer s.core.OnChange(s.sync.schedule)()
	go s.pump(ctx)
	go s.sync.run(ctx)
	s.core.SetEditor(&editor{s: s})
	defer s.core.SetEditor(nil)
	select {
	case <-s.conn.DisconnectNotify():
		s.logger.Info("extension disconnected: shutting kernels down")
	case <-s.shutdown:
		s.logger.Info("shutdown requested")
	case <-ctx.Done():
	}
	s.core.SetEditor(nil)
	closeCtx, cancelClose := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelClose()
	s.core.Sessions.Close(closeCtx)
	s.conn.Close()
	return nil
}

// Handle implements jsonrpc2.Handler. It runs on the connection's read loop,
// so it only registers the request and hands the work to a goroutine.
func (s *Server) Handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	if req.Method == "$/cancelRequest" {
		var p struct {
			ID jsonrpc2.ID `json:"id"`
		}
		if req.Params != nil && json.Unmarshal(*req.Params, &p) == nil {
			s.mu.Lock()
			if cancel := s.inflight[p.ID]; cancel != nil {
				cancel()
			}
			s.mu.Unlock()
		}
		return
	}
	if req.Notif {
		return // no other notifications are defined toward the sidecar
	}
	rctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.inflight[req.ID] = cancel
	s.mu.Unlock()
	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.inflight, req.ID)
			s.mu.Unlock()
			cancel()
		}()
		result, err := s.dispatch(rctx, req)
		if err != nil {
			_ = conn.ReplyWithError(ctx, req.ID, toRPCError(err, subjectOf(req), s.core.Roots().List()))
			return
		}
		_ = conn.Reply(ctx, req.ID, result)
		if req.Method == protocol.MethodShutdown {
			s.once.Do(func() { close(s.shutdown) })
		}
	}()
}

func (s *Server) dispatch(ctx context.Context, req *jsonrpc2.Request) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.logger.Error("handler panic", "method", req.Method, "panic", p, "stack", string(debug.Stack()))
			result, err = nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInternalError, Message: fmt.Sprintf("internal error in %s: %v", req.Method, p)}
		}
	}()
	params := json.RawMessage("{}")
	if req.Params != nil {
		params = *req.Params
	}
	if req.Method == protocol.MethodInitialize {
		return s.initialize(params)
	}
	s.mu.Lock()
	ok := s.initialized
	s.mu.Unlock()
	if !ok {
		return nil, &jsonrpc2.Error{Code: int64(protocol.CodeNotInitialized), Message: "send initialize first"}
	}
	switch req.Method {
	case protocol.MethodShutdown:
		return nil, nil
	case protocol.MethodKernelStart:
		var p protocol.KernelStartParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		args := map[string]any{"notebook_path": p.NotebookPath}
		if p.Environment != nil {
			args["venv_path"] = p.Environment.Path
		} else if p.KernelName != "" {
			args["kernel_name"] = p.KernelName
		}
		b, _ := json.Marshal(args)
		out, err := s.reg.Invoke(ctx, &tools.Call{Core: s.core}, "start_kernel", b)
		if err != nil {
			return nil, startFailed(p.NotebookPath, err)
		}
		k := out.(tools.KernelOut)
		return kernelInfo(k), nil
	case protocol.MethodKernelStop, protocol.MethodKernelRestart, protocol.MethodKernelInterrupt, protocol.MethodKernelStatus:
		return s.kernelControl(ctx, req.Method, params)
	case protocol.MethodEnvList:
		var p protocol.EnvListParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		folders := p.WorkspaceFolders
		if len(folders) == 0 {
			folders = s.core.Roots().List()
		}
		envs, err := env.Discover(ctx, folders)
		if err != nil {
			return nil, fmt.Errorf("discover environments: %w", err)
		}
		res := protocol.EnvListResult{Environments: []protocol.Environment{}}
		for _, e := range envs {
			res.Environments = append(res.Environments, protocol.Environment{Kind: e.Kind, Name: e.Name, Prefix: e.Prefix, Python: e.Python, Version: e.Version, HasIPyKernel: e.HasIPyKernel})
		}
		return res, nil
	case protocol.MethodKernelspecList:
		specs, err := kernelspec.List(kernelspec.SearchOptions{Logger: s.logger})
		if err != nil {
			return nil, fmt.Errorf("list kernelspecs: %w", err)
		}
		res := protocol.KernelspecListResult{Kernelspecs: []protocol.Kernelspec{}}
		for _, k := range specs {
			res.Kernelspecs = append(res.Kernelspecs, protocol.Kernelspec{Name: k.Name, DisplayName: k.DisplayName, Language: k.Language, ResourceDir: k.ResourceDir})
		}
		return res, nil
	case protocol.MethodExecutionRun:
		var p protocol.ExecutionRunParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		path, err := s.core.Roots().Resolve(p.NotebookPath)
		if err != nil {
			return nil, err
		}
		sess := s.core.Sessions.Get(path)
		if sess == nil {
			return nil, fmt.Errorf("%w %s: send kernel/start first", tools.ErrNoKernel, path)
		}
		origin := p.Origin
		if origin == "" {
			origin = protocol.OriginHuman
		}
		e, err := sess.Submit(session.Request{CellID: p.CellID, Code: p.Code, Origin: origin, AllowStdin: true})
		if err != nil {
			return nil, fmt.Errorf("queue execution: %w", err)
		}
		if p.Snapshot != nil {
			snap := *p.Snapshot
			snap.Path = path
			s.sync.sawBuffer(&snap)
		}
		// A person's run is not stamped into the buffer (that would be an
		// undo step): its stamp goes with the final execution/state and the
		// extension writes it when the notebook is saved.
		return protocol.ExecutionRunResult{ExecutionID: e.ID}, nil
	case protocol.MethodExecutionCancel:
		var p protocol.ExecutionCancelParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		sess, e := s.findExecution(p.ExecutionID)
		if e == nil {
			return nil, fmt.Errorf("%w %q", tools.ErrUnknownTask, p.ExecutionID)
		}
		if e.State().Status == session.StatusRunning {
			return nil, sess.Interrupt(ctx)
		}
		return nil, sess.Cancel(e.ID)
	case protocol.MethodStdinReply:
		var p protocol.StdinReplyParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		_, e := s.findExecution(p.ExecutionID)
		if e == nil {
			return nil, fmt.Errorf("%w %q", tools.ErrUnknownTask, p.ExecutionID)
		}
		return nil, e.SubmitInput(p.Value)
	case protocol.MethodNotebookProvenance:
		var p protocol.ProvenanceParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		path, err := s.core.Roots().Resolve(p.NotebookPath)
		if err != nil {
			return nil, err
		}
		cells := s.core.ProvenanceLines(path, p.CellIDs)
		if cells == nil {
			cells = map[string]string{}
		}
		return protocol.ProvenanceResult{Cells: cells}, nil
	case protocol.MethodToolInvoke:
		var p protocol.ToolInvokeParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		if p.Snapshot != nil {
			if path, err := s.core.Roots().Resolve(p.Snapshot.Path); err == nil {
				snap := *p.Snapshot
				snap.Path = path
				s.sync.sawBuffer(&snap)
			}
		}
		return s.invokeTool(ctx, p), nil
	}
	return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "unknown method " + req.Method}
}

func (s *Server) initialize(params json.RawMessage) (any, error) {
	var p protocol.InitializeParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	if p.ProtocolHash != "" && p.ProtocolHash != protocol.Hash {
		e := &jsonrpc2.Error{Code: int64(protocol.CodeProtocolMismatch),
			Message: fmt.Sprintf("protocol mismatch: sidecar %s, extension %s; reinstall the extension so both come from one build", protocol.Hash, p.ProtocolHash)}
		e.SetError(protocol.ProtocolMismatchData{SidecarHash: protocol.Hash, ClientHash: p.ProtocolHash})
		return nil, e
	}
	if len(p.WorkspaceFolders) > 0 {
		roots, err := workspace.New(p.WorkspaceFolders...)
		if err != nil {
			return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: err.Error()}
		}
		s.core.SetRoots(roots)
	}
	s.mu.Lock()
	s.initialized = true
	s.mu.Unlock()
	res := protocol.InitializeResult{SidecarVersion: s.opts.Version, ProtocolHash: protocol.Hash}
	if s.opts.OnInitialize != nil {
		res.AttachSocket = s.opts.OnInitialize(s.core.Roots().List())
	}
	// Kernels re-attached before this connection existed: their notebooks
	// may have changed while no sidecar watched.
	for _, sess := range s.core.Sessions.List() {
		s.sync.schedule(sess.NotebookPath())
	}
	return res, nil
}

func (s *Server) kernelControl(ctx context.Context, method string, params json.RawMessage) (any, error) {
	var p protocol.NotebookParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	path, err := s.core.Roots().Resolve(p.NotebookPath)
	if err != nil {
		return nil, err
	}
	sess := s.core.Sessions.Get(path)
	if method == protocol.MethodKernelStatus {
		if sess == nil {
			return nil, nil
		}
		return kernelInfoOf(sess), nil
	}
	if sess == nil {
		return nil, fmt.Errorf("%w %s", tools.ErrNoKernel, path)
	}
	switch method {
	case protocol.MethodKernelStop:
		return nil, s.core.Sessions.Stop(ctx, path)
	case protocol.MethodKernelRestart:
		if err := sess.Restart(ctx); err != nil {
			return nil, err
		}
		return kernelInfoOf(sess), nil
	default:
		return nil, sess.Interrupt(ctx)
	}
}

func (s *Server) invokeTool(ctx context.Context, p protocol.ToolInvokeParams) protocol.ToolInvokeResult {
	// One agent view per notebook for all of the extension's language-model tool calls.
	out, err := s.reg.Invoke(ctx, &tools.Call{Core: s.core, Snapshot: p.Snapshot, Agent: "vscode-lm"}, p.Name, p.Arguments)
	if err != nil {
		return protocol.ToolInvokeResult{Content: err.Error(), IsError: true}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return protocol.ToolInvokeResult{Content: "marshal tool output: " + err.Error(), IsError: true}
	}
	text := string(b)
	if m, ok := out.(interface{ ModelText() string }); ok {
		text = m.ModelText() // raw MIME bundles stay in Structured
	}
	res := protocol.ToolInvokeResult{Content: text, Structured: b}
	if im, ok := out.(tools.Imager); ok {
		for _, img := range im.ModelImages() {
			res.Images = append(res.Images, protocol.ToolImage{MIMEType: img.MIMEType, Data: img.Data})
		}
	}
	return res
}

func (s *Server) findExecution(id string) (*session.Session, *session.Execution) {
	for _, sess := range s.core.Sessions.List() {
		if e := sess.Execution(id); e != nil {
			return sess, e
		}
	}
	return nil, nil
}

// pump turns session events into notifications, one at a time, so each
// execution's seq is gap-free and in order on the wire.
func (s *Server) pump(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-s.events:
			s.notify(ctx, ev)
		}
	}
}

func (s *Server) nextSeq(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq[id]++
	return s.seq[id]
}

func (s *Server) notify(ctx context.Context, ev session.Event) {
	switch ev.Kind {
	case session.EventOutput:
		if ev.Op == nil {
			return
		}
		op := ev.Op
		_ = s.conn.Notify(ctx, protocol.MethodExecutionOutput, protocol.ExecutionOutputParams{
			NotebookPath: ev.NotebookPath, ExecutionID: ev.TaskID, CellID: ev.CellID, Seq: s.nextSeq(ev.TaskID),
			Op: protocol.OutputOp{Seq: op.Seq, Kind: op.Kind, Index: op.Index, Output: op.Output, Name: op.Name, Text: op.Text}})
	case session.EventState:
		if ev.State == nil {
			return
		}
		st := ev.State
		p := protocol.ExecutionStateParams{NotebookPath: ev.NotebookPath, ExecutionID: ev.TaskID, CellID: ev.CellID, Origin: ev.Origin,
			Status: string(st.Status), Ename: st.Ename, Evalue: st.Evalue, Seq: s.nextSeq(ev.TaskID)}
		if st.ExecutionCount > 0 {
			n := st.ExecutionCount
			p.ExecutionCount = &n
		}
		if !st.StartedAt.IsZero() {
			p.StartedAt = st.StartedAt.UTC().Format(time.RFC3339Nano)
		}
		if !st.EndedAt.IsZero() {
			p.EndedAt = st.EndedAt.UTC().Format(time.RFC3339Nano)
		}
		if st.Done() && ev.CellID != "" && (ev.Origin == protocol.OriginHuman || s.core.StampedByEditor(ev.TaskID)) {
			if sess := s.core.Sessions.Get(ev.NotebookPath); sess != nil {
				p.Stamp = tools.RunStamp(sess, sess.Execution(ev.TaskID))
			}
		}
		_ = s.conn.Notify(ctx, protocol.MethodExecutionState, p)
		if st.Done() {
			s.sync.schedule(ev.NotebookPath)
		}
	case session.EventKernel:
		_ = s.conn.Notify(ctx, protocol.MethodKernelStatusChanged, protocol.KernelStatusChangedParams{NotebookPath: ev.NotebookPath, Status: ev.KernelStatus})
		s.sync.kernelStatus(ev.NotebookPath, ev.KernelStatus)
	case session.EventInput:
		if ev.Input == nil || ev.Origin != protocol.OriginHuman {
			return // agent executions are answered with submit_input
		}
		go s.askInput(ctx, ev)
	}
}

func (s *Server) askInput(ctx context.Context, ev session.Event) {
	var res protocol.StdinRequestResult
	err := s.conn.Call(ctx, protocol.MethodStdinRequest, protocol.StdinRequestParams{NotebookPath: ev.NotebookPath, ExecutionID: ev.TaskID,
		CellID: ev.CellID, Prompt: ev.Input.Prompt, Password: ev.Input.Password}, &res)
	if err != nil {
		s.logger.Warn("stdin/request failed", "execution", ev.TaskID, "err", err)
		return
	}
	if _, e := s.findExecution(ev.TaskID); e != nil {
		_ = e.SubmitInput(res.Value)
	}
}

// editor reaches the extension's open buffers through reverse calls.
type editor struct{ s *Server }

func (e *editor) Snapshot(ctx context.Context, path string) (*notebookmodel.Snapshot, error) {
	snap, err := e.s.fetchSnapshot(ctx, path)
	if err == nil && snap != nil {
		// The extension tells no one when a buffer changes; every buffer it
		// hands out is a chance to notice.
		seen := *snap
		seen.Path = path
		e.s.sync.sawBuffer(&seen)
	}
	return snap, err
}

// fetchSnapshot asks the extension for the notebook's open buffer (nil when
// it is not open).
func (s *Server) fetchSnapshot(ctx context.Context, path string) (*notebookmodel.Snapshot, error) {
	var snap *notebookmodel.Snapshot
	if err := s.conn.Call(ctx, protocol.MethodEditorSnapshot, protocol.EditorSnapshotParams{NotebookPath: path}, &snap); err != nil {
		return nil, fmt.Errorf("editor/snapshot: %w", err)
	}
	if snap != nil && snap.Path == "" {
		snap.Path = path
	}
	return snap, nil
}

func (e *editor) ApplyEdit(ctx context.Context, path string, expected int, ops []notebookmodel.EditOp) (tools.EditResult, error) {
	var res protocol.EditorApplyEditResult
	if err := e.s.conn.Call(ctx, protocol.MethodEditorApplyEdit, protocol.EditorApplyEditParams{NotebookPath: path, ExpectedVersion: expected, Edits: ops}, &res); err != nil {
		return tools.EditResult{}, fmt.Errorf("editor/applyEdit: %w", err)
	}
	return tools.EditResult{Applied: res.Applied, Version: res.Version, Reason: res.Reason}, nil
}

func decode(params json.RawMessage, v any) error {
	if err := json.Unmarshal(params, v); err != nil {
		return &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: "invalid params: " + err.Error()}
	}
	return nil
}

func kernelInfo(k tools.KernelOut) protocol.KernelInfo {
	return protocol.KernelInfo{NotebookPath: k.NotebookPath, KernelName: k.Name, DisplayName: k.DisplayName, Language: k.Language,
		LanguageVersion: k.LanguageVer, Implementation: k.Implementation, Status: k.Status, PID: k.PID, Restarts: k.Restarts, Reused: k.Reused}
}

func kernelInfoOf(sess *session.Session) protocol.KernelInfo {
	k := sess.Kernel()
	info := k.Info()
	spec := sess.Spec()
	lang := spec.Language
	if info.LanguageInfo.Name != "" {
		lang = info.LanguageInfo.Name
	}
	return protocol.KernelInfo{NotebookPath: sess.NotebookPath(), KernelName: spec.Name, DisplayName: spec.DisplayName, Language: lang,
		LanguageVersion: info.LanguageInfo.Version, Implementation: info.Implementation, Status: string(k.Status()), PID: k.PID(), Restarts: sess.Restarts()}
}

func startFailed(path string, err error) error {
	var rpcErr *jsonrpc2.Error
	if errors.As(err, &rpcErr) {
		return err
	}
	if errors.Is(err, workspace.ErrOutside) || errors.Is(err, tools.ErrBadArguments) {
		return err
	}
	e := &jsonrpc2.Error{Code: int64(protocol.CodeKernelStartFailed), Message: err.Error()}
	data := protocol.KernelStartFailedData{NotebookPath: path}
	var noIPK *env.NoIPyKernelError
	if errors.As(err, &noIPK) {
		data.Python = noIPK.Env.Python
		data.InstallCommand = noIPK.Env.InstallCommand()
	}
	e.SetError(data)
	return e
}

// subject is what a request is about, for the typed data of its error.
type subject struct {
	NotebookPath string // notebookPath, or a tool's notebook_path argument
	ExecutionID  string // executionId, or a tool's task_id argument
	Tool         string // tool/invoke's tool name
}

// subjectOf reads the request's subject from its params (best effort: a
// malformed request fails on its own decode, with its own message).
func subjectOf(req *jsonrpc2.Request) subject {
	if req.Params == nil {
		return subject{}
	}
	var p struct {
		NotebookPath string          `json:"notebookPath"`
		ExecutionID  string          `json:"executionId"`
		Name         string          `json:"name"`
		Arguments    json.RawMessage `json:"arguments"`
	}
	_ = json.Unmarshal(*req.Params, &p)
	sub := subject{NotebookPath: p.NotebookPath, ExecutionID: p.ExecutionID}
	if req.Method == protocol.MethodToolInvoke {
		var args struct {
			NotebookPath string `json:"notebook_path"`
			TaskID       string `json:"task_id"`
		}
		_ = json.Unmarshal(p.Arguments, &args)
		sub = subject{NotebookPath: args.NotebookPath, ExecutionID: args.TaskID, Tool: p.Name}
	}
	return sub
}

// toRPCError maps the tool core's sentinel errors onto the protocol's codes,
// with the typed data naming the request's subject (sub) and, for a path
// outside the workspace, the workspace folders (roots).
func toRPCError(err error, sub subject, roots []string) *jsonrpc2.Error {
	var rpcErr *jsonrpc2.Error
	if errors.As(err, &rpcErr) {
		return rpcErr
	}
	e := &jsonrpc2.Error{Code: jsonrpc2.CodeInternalError, Message: err.Error()}
	var stale *notebookmodel.StaleViewError
	switch {
	case errors.As(err, &stale):
		e.Code = int64(protocol.CodeStaleView)
		e.SetError(protocol.StaleViewData{NotebookPath: sub.NotebookPath, Index: stale.Ref.Index, CellID: stale.Ref.CellID, Version: stale.Version, Outline: stale.Outline})
	case errors.Is(err, workspace.ErrOutside), errors.Is(err, workspace.ErrNoRoots):
		e.Code = int64(protocol.CodePathOutsideWorkspace)
		if roots == nil {
			roots = []string{}
		}
		e.SetError(protocol.PathOutsideWorkspaceData{Path: sub.NotebookPath, WorkspaceFolders: roots})
	case errors.Is(err, kernel.ErrKernelDead):
		e.Code = int64(protocol.CodeKernelDead)
		e.SetError(protocol.KernelDeadData{NotebookPath: sub.NotebookPath, ExitStatus: err.Error()})
	case errors.Is(err, tools.ErrNoKernel):
		e.Code = int64(protocol.CodeNotFound)
		e.SetError(protocol.NotFoundData{Kind: protocol.NotFoundKernel, Name: sub.NotebookPath})
	case errors.Is(err, tools.ErrUnknownTask):
		e.Code = int64(protocol.CodeNotFound)
		e.SetError(protocol.NotFoundData{Kind: protocol.NotFoundExecution, Name: sub.ExecutionID})
	case errors.Is(err, tools.ErrNotebookNotFound):
		e.Code = int64(protocol.CodeNotFound)
		e.SetError(protocol.NotFoundData{Kind: protocol.NotFoundNotebook, Name: sub.NotebookPath})
	case errors.Is(err, tools.ErrUnknownTool):
		e.Code = int64(protocol.CodeNotFound)
		e.SetError(protocol.NotFoundData{Kind: protocol.NotFoundTool, Name: sub.Tool})
	case errors.Is(err, tools.ErrEditConflict):
		e.Code = int64(protocol.CodeEditRefused)
		e.SetError(protocol.EditRefusedData{NotebookPath: sub.NotebookPath, Reason: err.Error()})
	case errors.Is(err, tools.ErrBadArguments):
		e.Code = jsonrpc2.CodeInvalidParams
	}
	return e
}

// EditorState asks the extension where the person is (never moves their view).
func (e *editor) EditorState(ctx context.Context, path string) (tools.EditorStateOut, error) {
	var st protocol.EditorState
	if err := e.s.conn.Call(ctx, protocol.MethodEditorState, protocol.EditorStateParams{NotebookPath: path}, &st); err != nil {
		return tools.EditorStateOut{}, fmt.Errorf("editor/state: %w", err)
	}
	spans := func(rs []protocol.CellRange) []tools.CellSpan {
		out := make([]tools.CellSpan, 0, len(rs))
		for _, r := range rs {
			out = append(out, tools.CellSpan{Start: r.Start, End: r.End})
		}
		return out
	}
	out := tools.EditorStateOut{NotebookPath: st.NotebookPath, Active: st.Active, Visible: st.Visible,
		Selections: spans(st.Selections), VisibleRanges: spans(st.VisibleRanges)}
	if c := st.ActiveCell; c != nil {
		out.ActiveCell = &tools.CellAt{CellID: c.ID, Index: c.Index}
	}
	if t := st.TextSelection; t != nil {
		out.TextSelection = &tools.TextRange{CellID: t.CellID, StartLine: t.StartLine, StartCharacter: t.StartCharacter,
			EndLine: t.EndLine, EndCharacter: t.EndCharacter, Text: t.Text}
	}
	return out, nil
}

// OpenNotebook asks the extension to show a notebook beside the person's editor.
func (e *editor) OpenNotebook(ctx context.Context, path string) (bool, error) {
	var res protocol.EditorOpenResult
	if err := e.s.conn.Call(ctx, protocol.MethodEditorOpen, protocol.EditorOpenParams{NotebookPath: path}, &res); err != nil {
		return false, fmt.Errorf("editor/open: %w", err)
	}
	return res.Opened, nil
}
