package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/output"
)

// Sentinel errors.
var (
	ErrNotFound       = errors.New("no such execution")
	ErrNotQueued      = errors.New("execution is not queued")
	ErrNoPendingInput = errors.New("execution is not waiting for input")
	ErrClosed         = errors.New("session closed")
)

// Execution statuses.
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusOK        = "ok"
	StatusError     = "error"
	StatusAborted   = "aborted"
	StatusCancelled = "cancelled"
	StatusTimeout   = "timeout"
	StatusDead      = "dead"
)

// Origins of an execution.
const (
	OriginHuman = "human"
	OriginAgent = "agent"
)

// Options configure a Manager.
type Options struct {
	Logger     *slog.Logger
	RuntimeDir string
	// Kernel is the base for every kernel start (Logger and RuntimeDir are filled in).
	Kernel kernel.Options
	// MaxStreamBytes per execution (output.DefaultMaxStreamBytes when 0).
	MaxStreamBytes int
	// HistoryLimit is how many finished executions a session remembers (default 1000).
	HistoryLimit int
	// ReattachTimeout bounds re-attaching to one kernel a previous sidecar
	// left (the handshake, including interrupting code it still runs);
	// a kernel that does not answer within it is killed. Default 10s.
	ReattachTimeout time.Duration
}

// Event is what subscribers receive: output ops, execution state, kernel
// status and input requests of every session.
type Event struct {
	NotebookPath string               `json:"notebookPath"`
	TaskID       string               `json:"taskId,omitempty"`
	CellID       string               `json:"cellId,omitempty"`
	Origin       string               `json:"origin,omitempty"`
	Kind         string               `json:"kind"` // output | state | kernel | input
	Op           *output.Op           `json:"op,omitempty"`
	State        *ExecState           `json:"state,omitempty"`
	KernelStatus string               `json:"kernelStatus,omitempty"`
	Input        *kernel.InputRequest `json:"input,omitempty"`
}

// Event kinds.
const (
	EventOutput = "output"
	EventState  = "state"
	EventKernel = "kernel"
	EventInput  = "input"
)

// ExecState is the state of an execution.
type ExecState struct {
	Status         string    `json:"status"`
	ExecutionCount int       `json:"executionCount,omitempty"`
	QueuedAt       time.Time `json:"queuedAt"`
	StartedAt      time.Time `json:"startedAt,omitzero"`
	EndedAt        time.Time `json:"endedAt,omitzero"`
	Ename          string    `json:"ename,omitempty"`
	Evalue         string    `json:"evalue,omitempty"`
}

// Done reports whether the execution finished (any final status).
func (s ExecState) Done() bool {
	return s.Status != StatusQueued && s.Status != StatusRunning && s.Status != ""
}

// Request is a cell execution to queue.
type Request struct {
	CellID      string
	Code        string
	Origin      string // human | agent
	Timeout     time.Duration
	StopOnError bool
	AllowStdin  bool
	// InputTimeout > 0: an input() not answered within it interrupts the
	// execution (KeyboardInterrupt in the cell) instead of waiting forever.
	InputTimeout time.Duration
}

// InternalResult is what silent helper code produced.
type InternalResult struct {
	Status         string
	Stdout, Stderr string
	Ename, Evalue  string
	Traceback      []string
	Data           map[string]json.RawMessage
}

// Manager owns the sessions of every notebook.
type Manager struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	sessions map[string]*Session
	starting map[string]*sync.Mutex
	// reattaching: notebook → closed when its background re-attach ended.
	reattaching map[string]chan struct{}

	subMu   sync.RWMutex
	subs    map[int]func(Event)
	nextSub int
}

// NewManager makes a Manager.
func NewManager(opts Options) *Manager {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.HistoryLimit <= 0 {
		opts.HistoryLimit = 1000
	}
	if opts.ReattachTimeout <= 0 {
		opts.ReattachTimeout = 10 * time.Second
	}
	opts.Kernel.Logger = opts.Logger
	if opts.RuntimeDir != "" {
		opts.Kernel.RuntimeDir = opts.RuntimeDir
	}
	return &Manager{opts: opts, log: opts.Logger, sessions: map[string]*Session{}, starting: map[string]*sync.Mutex{},
		reattaching: map[string]chan struct{}{}, subs: map[int]func(Event){}}
}

func normPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// Start returns the live session of notebookPath (reused=true) or starts a
// kernel for it. A session whose kernel died is replaced. tune adjusts the
// kernel options of this start only (e.g. the ipc transport a sandbox needs).
func (m *Manager) Start(ctx context.Context, notebookPath string, spec kernel.LaunchSpec, tune ...func(*kernel.Options)) (*Session, bool, error) {
	return m.StartWith(ctx, notebookPath, spec, func(ctx context.Context, ko kernel.Options) (kernel.Conn, error) {
		for _, t := range tune {
			t(&ko)
		}
		return kernel.Start(ctx, spec, ko)
	})
}

// StartWith is Start with another kernel implementation: start gets the
// kernel options of this notebook and returns the running kernel (a remote
// one, say). spec describes it to list_kernels and the like.
func (m *Manager) StartWith(ctx context.Context, notebookPath string, spec kernel.LaunchSpec, start func(context.Context, kernel.Options) (kernel.Conn, error)) (*Session, bool, error) {
	path := normPath(notebookPath)
	m.mu.Lock()
	lock := m.starting[path]
	if lock == nil {
		lock = &sync.Mutex{}
		m.starting[path] = lock
	}
	m.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()

	if s := m.Get(path); s != nil {
		select {
		case <-s.Kernel().Done():
			s.close(ctx, "kernel dead; replaced")
			m.mu.Lock()
			if m.sessions[path] == s {
				delete(m.sessions, path)
			}
			m.mu.Unlock()
		default:
			return s, true, nil
		}
	}
	m.emit(Event{NotebookPath: path, Kind: EventKernel, KernelStatus: string(kernel.StatusStarting)})
	ko := m.opts.Kernel
	ko.Label = path
	k, err := start(ctx, ko)
	if err != nil {
		m.emit(Event{NotebookPath: path, Kind: EventKernel, KernelStatus: string(kernel.StatusDead)})
		return nil, false, fmt.Errorf("start kernel for %s: %w", path, err)
	}
	s := newSession(m, path, spec, k)
	m.mu.Lock()
	m.sessions[path] = s
	m.mu.Unlock()
	m.emit(Event{NotebookPath: path, Kind: EventKernel, KernelStatus: string(kernel.StatusIdle)})
	return s, false, nil
}

// Options returns the options the Manager runs with (defaults filled in).
func (m *Manager) Options() Options { return m.opts }

// Get returns the session of notebookPath, nil when none. While the kernel
// of that notebook is being re-attached (Reattach), Get waits for it
// (bounded).
func (m *Manager) Get(notebookPath string) *Session {
	path := normPath(notebookPath)
	m.awaitReattach(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions[path]
}

// Stop shuts the kernel of notebookPath down and forgets its session.
func (m *Manager) Stop(ctx context.Context, notebookPath string) error {
	path := normPath(notebookPath)
	m.awaitReattach(path)
	m.mu.Lock()
	s := m.sessions[path]
	delete(m.sessions, path)
	m.mu.Unlock()
	if s == nil {
		return fmt.Errorf("stop %s: %w", path, ErrNoSession)
	}
	s.close(ctx, "kernel stopped")
	return nil
}

// ErrNoSession: no kernel runs for that notebook.
var ErrNoSession = errors.New("no kernel for this notebook")

// List returns every session. It does not wait for re-attaches under way
// (initialize calls it): such a session appears when it is ready, with a
// kernel event (status idle) to subscribers.
func (m *Manager) List() []*Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		out = append(out, s)
	}
	return out
}

// Subscribe registers fn for every event of every session. fn is called
// synchronously, in order per session: it must not block (queue the event).
func (m *Manager) Subscribe(fn func(Event)) (cancel func()) {
	m.subMu.Lock()
	id := m.nextSub
	m.nextSub++
	m.subs[id] = fn
	m.subMu.Unlock()
	return func() {
		m.subMu.Lock()
		delete(m.subs, id)
		m.subMu.Unlock()
	}
}

func (m *Manager) emit(e Event) {
	// Call outside the lock: a subscriber may subscribe or cancel from fn.
	m.subMu.RLock()
	fns := make([]func(Event), 0, len(m.subs))
	for _, fn := range m.subs {
		fns = append(fns, fn)
	}
	m.subMu.RUnlock()
	for _, fn := range fns {
		fn(e)
	}
}

// Close shuts every kernel down.
func (m *Manager) Close(ctx context.Context) {
	m.awaitReattach("")
	m.mu.Lock()
	ss := m.sessions
	m.sessions = map[string]*Session{}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.close(ctx, "sidecar shutting down")
		}()
	}
	wg.Wait()
}

// Detach lets go of every kernel without stopping it (sidecar exit when
// kernels should outlive it); a later Reattach picks them up again.
func (m *Manager) Detach() {
	m.awaitReattach("")
	m.mu.Lock()
	ss := m.sessions
	m.sessions = map[string]*Session{}
	m.mu.Unlock()
	for _, s := range ss {
		s.detach()
	}
}

// Reattachment is a Reattach under way.
type Reattachment struct {
	done     chan struct{}
	mu       sync.Mutex
	sessions []*Session
}

// Wait returns the sessions re-attached once every re-attach ended.
func (r *Reattachment) Wait(ctx context.Context) ([]*Session, error) {
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for re-attach: %w", ctx.Err())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions, nil
}

// Reattach picks up the kernels a previous sidecar left in the runtime dir,
// one session per notebook that still exists, in the background: it returns
// at once, so a sidecar answers its client while kernels come back. Calls
// for a notebook whose kernel is still being re-attached wait for it (Get,
// Start, Stop; List does not). A kernel that cannot be re-attached within
// ReattachTimeout (hung, or stuck in code that ignores the interrupt) is
// killed, since no one else could ever reach it; kernels whose notebook is
// gone are shut down; records of dead kernels are removed. Cancelling ctx
// (the sidecar stopping) leaves the remaining kernels alone.
func (m *Manager) Reattach(ctx context.Context) (*Reattachment, error) {
	r := &Reattachment{done: make(chan struct{})}
	dir := m.opts.Kernel.RuntimeDir
	if dir == "" {
		close(r.done)
		return r, nil
	}
	recs, err := kernel.ListRecords(dir)
	if err != nil {
		close(r.done)
		return r, err
	}
	var wg sync.WaitGroup
	for _, rec := range recs {
		if !rec.Alive() {
			rec.Remove()
			continue
		}
		if rec.Label == "" {
			continue
		}
		path := rec.Label
		m.mu.Lock()
		if m.sessions[path] != nil || m.reattaching[path] != nil {
			m.mu.Unlock()
			continue
		}
		ch := make(chan struct{})
		m.reattaching[path] = ch
		m.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := m.reattachOne(ctx, rec)
			// Publish the session and end the wait in one step, so a waiter
			// woken by ch finds it.
			m.mu.Lock()
			delete(m.reattaching, path)
			if s != nil {
				m.sessions[path] = s
			}
			m.mu.Unlock()
			close(ch)
			if s != nil {
				m.emit(Event{NotebookPath: path, Kind: EventKernel, KernelStatus: string(kernel.StatusIdle)})
				r.mu.Lock()
				r.sessions = append(r.sessions, s)
				r.mu.Unlock()
			}
		}()
	}
	go func() {
		wg.Wait()
		close(r.done)
	}()
	return r, nil
}

// reattachOne attaches to the kernel of rec; nil when it was not kept.
func (m *Manager) reattachOne(ctx context.Context, rec kernel.Record) *Session {
	ko := m.opts.Kernel
	ko.StartTimeout = m.opts.ReattachTimeout
	t0 := time.Now()
	k, err := kernel.Attach(ctx, rec, ko)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			// Stopping: leave the kernel for the next sidecar.
		case !rec.Alive():
			m.log.Info("kernel exited while re-attaching", "notebook", rec.Label, "pid", rec.PID)
			rec.Remove()
		default:
			m.log.Warn("cannot re-attach the kernel a previous sidecar left; killing it, since nothing could reach it any more",
				"notebook", rec.Label, "pid", rec.PID, "err", err)
			kctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := rec.Kill(kctx); err != nil {
				m.log.Warn("kill unreachable kernel", "pid", rec.PID, "err", err)
			}
		}
		return nil
	}
	if _, err := os.Stat(rec.Label); err != nil {
		m.log.Info("notebook gone; shutting its kernel down", "notebook", rec.Label, "pid", rec.PID)
		k.Shutdown(ctx)
		return nil
	}
	m.log.Info("re-attached kernel", "notebook", rec.Label, "pid", rec.PID, "took", time.Since(t0).Round(time.Millisecond))
	return newSession(m, rec.Label, rec.Spec, k)
}

// awaitReattach waits while the kernel of path (any kernel when path is "")
// is being re-attached, at most twice ReattachTimeout: Attach is bounded by
// it, killing an unreachable kernel takes a moment more.
func (m *Manager) awaitReattach(path string) {
	var deadline *time.Timer
	for {
		m.mu.Lock()
		var ch chan struct{}
		if path != "" {
			ch = m.reattaching[path]
		} else {
			for _, c := range m.reattaching {
				ch = c
				break
			}
		}
		m.mu.Unlock()
		if ch == nil {
			return
		}
		if deadline == nil {
			deadline = time.NewTimer(2 * m.opts.ReattachTimeout)
			defer deadline.Stop()
		}
		select {
		case <-ch:
		case <-deadline.C:
			m.log.Warn("re-attach still under way; going on without it", "notebook", path)
			return
		}
	}
}

func newTaskID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "task-" + hex.EncodeToString(b[:])
}
