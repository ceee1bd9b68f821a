package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Local is a kernel process launched and owned by us, talked to over ZeroMQ.
type Local struct {
	spec       LaunchSpec
	opts       Options
	log        *slog.Logger
	sg         signer
	session    string
	connPath   string
	base       string
	ownRuntime bool
	launches   int // kernel processes launched so far (names ipc files)

	opMu sync.Mutex // serializes Restart and Shutdown

	mu     sync.Mutex
	inc    *incarnation
	status Status
	info   KernelInfo
	done   chan struct{}
	err    error
}

var _ Conn = (*Local)(nil)

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = time.Second
	}
	if o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = 10 * time.Second
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 5 * time.Second
	}
	if o.LostReplyGrace <= 0 {
		o.LostReplyGrace = 10 * time.Second
	}
	if o.InterruptGrace <= 0 {
		o.InterruptGrace = 5 * time.Second
	}
}

// Start launches the kernel of spec and returns once it answered kernel_info
// and its iopub channel delivers messages.
func Start(ctx context.Context, spec LaunchSpec, opts Options) (*Local, error) {
	opts.defaults()
	if len(spec.Argv) == 0 {
		return nil, fmt.Errorf("start kernel %q: empty argv in launch spec", spec.Name)
	}
	switch spec.InterruptMode {
	case "", "signal", "message":
	default:
		return nil, fmt.Errorf("start kernel %q: unknown interrupt mode %q: use signal or message", spec.Name, spec.InterruptMode)
	}
	k := &Local{spec: spec, opts: opts, session: newID(), status: StatusStarting, done: make(chan struct{})}
	k.log = opts.Logger.With("kernel", spec.Name)
	if k.opts.RuntimeDir == "" {
		d, err := os.MkdirTemp("", "mcp-jupyter-runtime-")
		if err != nil {
			return nil, fmt.Errorf("start kernel %q: runtime dir: %w", spec.Name, err)
		}
		k.opts.RuntimeDir, k.ownRuntime = d, true
	}
	k.ownRuntime = k.ownRuntime || k.opts.PrivateRuntimeDir
	if err := os.MkdirAll(k.opts.RuntimeDir, 0o700); err != nil {
		return nil, fmt.Errorf("start kernel %q: runtime dir: %w", spec.Name, err)
	}
	if err := os.Chmod(k.opts.RuntimeDir, 0o700); err != nil {
		return nil, fmt.Errorf("start kernel %q: runtime dir: %w", spec.Name, err)
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	k.sg = signer{key: []byte(key)}
	k.base = "kernel-" + newID()
	k.connPath = filepath.Join(k.opts.RuntimeDir, k.base+".json")
	inc, err := k.launch(ctx, false)
	if err != nil {
		k.cleanupFiles()
		return nil, fmt.Errorf("start kernel %q: %w", spec.Name, err)
	}
	k.mu.Lock()
	k.inc = inc
	k.mu.Unlock()
	return k, nil
}

// ConnectionFile is the path of the connection file (0600) of the kernel.
func (k *Local) ConnectionFile() string { return k.connPath }

// Spec is the launch spec the kernel was started from.
func (k *Local) Spec() LaunchSpec { return k.spec }

// Status reports starting, idle, busy or dead.
func (k *Local) Status() Status {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.status
}

// Info is the kernel_info_reply of the current kernel process.
func (k *Local) Info() KernelInfo {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.info
}

// Done is closed when the kernel died or was shut down.
func (k *Local) Done() <-chan struct{} { return k.done }

// Err wraps ErrKernelDead once Done: with the exit status after a death, or
// "shut down" after Shutdown.
func (k *Local) Err() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.err
}

// PID is the process id of the current kernel process (0 when dead).
func (k *Local) PID() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.inc == nil || k.err != nil {
		return 0
	}
	return k.inc.pid
}

func (k *Local) current() (*incarnation, error) {
	k.mu.Lock()
	inc, err := k.inc, k.err
	k.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if inc != nil {
		return inc, nil
	}
	// A restart is under way (it holds opMu): wait for its new process.
	k.opMu.Lock()
	k.opMu.Unlock()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return nil, k.err
	}
	if k.inc == nil {
		return nil, fmt.Errorf("%w: kernel is restarting", ErrKernelDead)
	}
	return k.inc, nil
}

func (k *Local) setStatus(inc *incarnation, s Status) {
	k.mu.Lock()
	if k.inc == inc && k.err == nil {
		k.status = s
	}
	k.mu.Unlock()
}

// incDied is called once per incarnation when it died. An expected death
// (restart, shutdown) does not end the Local.
func (k *Local) incDied(inc *incarnation, err error) {
	if inc.expected.Load() {
		return
	}
	k.mu.Lock()
	if k.inc != inc || k.err != nil {
		k.mu.Unlock()
		return
	}
	k.err = err
	k.status = StatusDead
	close(k.done)
	k.mu.Unlock()
	k.log.Warn("kernel died", "pid", inc.pid, "err", err)
	go func() {
		inc.stop(context.Background(), false, true) // dead or hung: nothing to ask
		k.cleanupFiles()
	}()
}

func (k *Local) cleanupFiles() {
	os.Remove(k.connPath)
	os.Remove(k.recordPath())
	if k.ownRuntime {
		os.RemoveAll(k.opts.RuntimeDir)
	}
}

// Interrupt interrupts the running execution: SIGINT to the kernel's process
// group, or interrupt_request on control when the kernelspec asks for it.
func (k *Local) Interrupt(ctx context.Context) error {
	inc, err := k.current()
	if err != nil {
		return fmt.Errorf("interrupt kernel: %w", err)
	}
	if k.spec.InterruptMode == "message" {
		if _, err := inc.request(ctx, inc.control, "control", "interrupt_request", struct{}{}, "interrupt_reply"); err != nil {
			return fmt.Errorf("interrupt kernel: %w", err)
		}
		return nil
	}
	if err := interruptProcess(inc.pid, inc.interruptEvent); err != nil {
		return fmt.Errorf("interrupt kernel: %w", err)
	}
	return nil
}

// Restart shuts the kernel process down and starts a new one with new sockets
// and ports, under the same connection file path and key.
func (k *Local) Restart(ctx context.Context) error { return k.restart(ctx, false) }

// restart with hard set kills the old process at once (it did not respond).
func (k *Local) restart(ctx context.Context, hard bool) error {
	k.opMu.Lock()
	defer k.opMu.Unlock()
	k.mu.Lock()
	if k.err != nil {
		err := k.err
		k.mu.Unlock()
		return fmt.Errorf("restart kernel: %w", err)
	}
	old := k.inc
	k.inc = nil
	k.status = StatusStarting
	k.mu.Unlock()
	if old != nil {
		old.expected.Store(true)
		old.reason.Store(ErrRestarted)
		old.stop(ctx, true, hard)
	}
	inc, err := k.launch(ctx, true)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		k.err = fmt.Errorf("%w: restart failed: %v", ErrKernelDead, err)
		k.status = StatusDead
		close(k.done)
		go k.cleanupFiles()
		return fmt.Errorf("restart kernel: %w", err)
	}
	k.inc = inc
	return nil
}

// Shutdown stops the kernel: shutdown_request on control, then SIGTERM, then
// SIGKILL to the whole process group, each after Options.ShutdownGrace.
func (k *Local) Shutdown(ctx context.Context) error {
	k.opMu.Lock()
	defer k.opMu.Unlock()
	k.mu.Lock()
	inc := k.inc
	alreadyDead := k.err != nil
	if !alreadyDead {
		k.err = fmt.Errorf("%w: shut down", ErrKernelDead)
		k.status = StatusDead
		close(k.done)
	}
	k.mu.Unlock()
	if inc != nil {
		inc.expected.Store(true)
		inc.reason.Store(errShutDown)
		inc.stop(ctx, false, false)
	}
	k.cleanupFiles()
	return nil
}

var errShutDown = errors.New("kernel shut down")

// Execute runs req and returns after both its execute_reply and the iopub
// status:idle parented by it, so every output was delivered to h.OnIOPub.
func (k *Local) Execute(ctx context.Context, req ExecuteRequest, h Handlers) (*ExecuteReply, error) {
	inc, err := k.current()
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	ue := req.UserExpressions
	if ue == nil {
		ue = map[string]string{}
	}
	content := map[string]any{
		"code": req.Code, "silent": req.Silent, "store_history": req.StoreHistory,
		"user_expressions": ue, "allow_stdin": req.AllowStdin && h.OnInput != nil, "stop_on_error": req.StopOnError,
	}
	hdr := newHeader("execute_request", k.session)
	p := inc.register(hdr.MsgID)
	defer inc.unregister(hdr.MsgID)
	if err := inc.send(inc.shell, hdr, nil, content); err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}

	var (
		reply     *ExecuteReply
		idle      bool
		timedOut  bool
		timeoutC  <-chan time.Time
		graceC    <-chan time.Time
		lostC     <-chan time.Time
		inputDone = make(chan inputAnswer, 4)
	)
	if req.Timeout > 0 {
		t := time.NewTimer(req.Timeout)
		defer t.Stop()
		timeoutC = t.C
	}
	inputCtx, cancelInput := context.WithCancel(ctx)
	defer cancelInput()

	for {
		for _, m := range p.take() {
			switch m.Channel {
			case "iopub":
				if h.OnIOPub != nil {
					h.OnIOPub(m)
				}
				if m.Header.MsgType == "status" && executionState(m.Content) == "idle" {
					idle = true
				}
			case "shell":
				if m.Header.MsgType == "execute_reply" {
					reply = parseExecuteReply(m.Content)
				}
			case "stdin":
				if m.Header.MsgType != "input_request" {
					continue
				}
				var ir InputRequest
				_ = json.Unmarshal(m.Content, &ir)
				parent := m.Header
				if h.OnInput == nil {
					inputDone <- inputAnswer{parent: parent}
					continue
				}
				go func() {
					v, err := h.OnInput(inputCtx, ir)
					inputDone <- inputAnswer{parent: parent, value: v, err: err}
				}()
			}
		}
		if reply != nil && idle {
			if timedOut {
				return reply, fmt.Errorf("execute: %w after %s (interrupted)", ErrTimeout, req.Timeout)
			}
			return reply, nil
		}
		if idle && reply == nil && lostC == nil {
			// Idle comes after the reply is sent; a reply still missing well
			// after it was lost (ipykernel can drop it under a burst of
			// SIGINTs): end the execution instead of waiting forever.
			lostC = time.After(k.opts.LostReplyGrace)
		}
		select {
		case <-lostC:
			k.log.Warn("the kernel went idle without an execute_reply; reporting the execution as aborted", "grace", k.opts.LostReplyGrace)
			return &ExecuteReply{Status: "aborted", Ename: "ExecuteReplyLost",
				Evalue: "the kernel finished (status idle) but its execute_reply never came; the outputs up to then were kept"}, nil
		case <-p.signal:
		case a := <-inputDone:
			if a.err != nil && inputCtx.Err() == nil {
				k.log.Info("input not answered; interrupting the kernel", "err", a.err)
				if err := k.Interrupt(ctx); err != nil {
					k.log.Warn("interrupt after unanswered input", "err", err)
				}
				continue
			}
			if inputCtx.Err() != nil {
				continue
			}
			ih := newHeader("input_reply", k.session)
			if err := inc.send(inc.stdin, ih, &a.parent, map[string]any{"value": a.value}); err != nil {
				k.log.Warn("send input_reply", "err", err)
			}
		case <-inc.dead:
			// Deliver what arrived before the death, then report it.
			for _, m := range p.take() {
				if m.Channel == "iopub" && h.OnIOPub != nil {
					h.OnIOPub(m)
				}
			}
			if timedOut {
				return nil, fmt.Errorf("execute: %w after %s: %v", ErrTimeout, req.Timeout, inc.deathErr())
			}
			return nil, fmt.Errorf("execute: %w", inc.deathErr())
		case <-ctx.Done():
			return nil, fmt.Errorf("execute: %w", ctx.Err())
		case <-timeoutC:
			timedOut = true
			k.log.Info("execution timed out; interrupting", "timeout", req.Timeout)
			if err := k.Interrupt(ctx); err != nil {
				k.log.Warn("interrupt on timeout", "err", err)
			}
			graceC = time.After(k.opts.InterruptGrace)
		case <-graceC:
			k.log.Warn("interrupt did not stop the execution; restarting the kernel", "grace", k.opts.InterruptGrace)
			rerr := k.restart(ctx, true)
			if rerr != nil {
				return nil, fmt.Errorf("execute: %w after %s; interrupt did not take and restart failed: %v", ErrTimeout, req.Timeout, rerr)
			}
			return nil, fmt.Errorf("execute: %w after %s; interrupt did not take, kernel restarted", ErrTimeout, req.Timeout)
		}
	}
}

type inputAnswer struct {
	parent Header
	value  string
	err    error
}

func executionState(content json.RawMessage) string {
	var c struct {
		ExecutionState string `json:"execution_state"`
	}
	_ = json.Unmarshal(content, &c)
	return c.ExecutionState
}

func parseExecuteReply(content json.RawMessage) *ExecuteReply {
	var c struct {
		Status          string          `json:"status"`
		ExecutionCount  int             `json:"execution_count"`
		Ename           string          `json:"ename"`
		Evalue          string          `json:"evalue"`
		Traceback       []string        `json:"traceback"`
		UserExpressions json.RawMessage `json:"user_expressions"`
	}
	_ = json.Unmarshal(content, &c)
	return &ExecuteReply{
		Status: c.Status, ExecutionCount: c.ExecutionCount, Ename: c.Ename, Evalue: c.Evalue,
		Traceback: c.Traceback, UserExpressions: c.UserExpressions, Raw: content,
	}
}

// substitute fills {connection_file} and {resource_dir} in argv.
func substitute(argv []string, connFile, resourceDir string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		a = strings.ReplaceAll(a, "{connection_file}", connFile)
		a = strings.ReplaceAll(a, "{resource_dir}", resourceDir)
		out[i] = a
	}
	return out
}

// startDeathErr is the death of a kernel during start, with its last stderr
// lines: they usually say why (a missing module, a bad argument).
func startDeathErr(inc *incarnation) error {
	if tail := inc.stderrTail(); tail != "" {
		return fmt.Errorf("%w; kernel stderr:\n%s", inc.deathErr(), tail)
	}
	return inc.deathErr()
}
