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
	opts.Kernel.Logger = opts.Logger
	if opts.RuntimeDir != "" {
		opts.Kernel.RuntimeDir = opts.RuntimeDir
	}
	return &Manager{opts: opts, log: opts.Logger, sessions: map[string]*Session{}, starting: map[string]*sync.Mutex{}, subs: map[int]func(Event){}}
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
	for _, t := range tune {
		t(&ko)
	}
	k, err := kernel.Start(ctx, spec, ko)
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

// Get returns the session of notebookPath, nil when none.
func (m *Manager) Get(notebookPath string) *Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions[normPath(notebookPath)]
}

// Stop shuts the kernel of notebookPath down and forgets its session.
func (m *Manager) Stop(ctx context.Context, notebookPath string) error {
	path := normPath(notebookPath)
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

// List returns every session.
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
	m.mu.Lock()
	ss := m.sessions
	m.sessions = map[string]*Session{}
	m.mu.Unlock()
	for _, s := range ss {
		s.detach()
	}
}

// Reattach attaches to the kernels a previous sidecar left in the runtime
// dir: one session per notebook that still exists. Kernels whose notebook is
// gone are shut down (orphans); records of dead kernels are removed.
func (m *Manager) Reattach(ctx context.Context) ([]*Session, error) {
	dir := m.opts.Kernel.RuntimeDir
	if dir == "" {
		return nil, nil
	}
	recs, err := kernel.ListRecords(dir)
	if err != nil {
		return nil, err
	}
	var out []*Session
	for _, rec := range recs {
		if !rec.Alive() {
			rec.Remove()
			continue
		}
		if rec.Label == "" || m.Get(rec.Label) != nil {
			continue
		}
		k, err := kernel.Attach(ctx, rec, m.opts.Kernel)
		if err != nil {
			m.log.Warn("re-attach kernel", "pid", rec.PID, "notebook", rec.Label, "err", err)
			continue
		}
		if _, err := os.Stat(rec.Label); err != nil {
			m.log.Info("notebook gone; shutting its kernel down", "notebook", rec.Label, "pid", rec.PID)
			k.Shutdown(ctx)
			continue
		}
		s := newSession(m, rec.Label, rec.Spec, k)
		m.mu.Lock()
		m.sessions[rec.Label] = s
		m.mu.Unlock()
		m.emit(Event{NotebookPath: rec.Label, Kind: EventKernel, KernelStatus: string(kernel.StatusIdle)})
		out = append(out, s)
	}
	return out, nil
}

func newTaskID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "task-" + hex.EncodeToString(b[:])
}
