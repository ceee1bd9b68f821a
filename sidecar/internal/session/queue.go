package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/output"
)

// Session is one kernel for one notebook with one FIFO queue shared by the
// human and the agent.
type Session struct {
	m    *Manager
	path string
	spec kernel.LaunchSpec

	ctx    context.Context // cancelled when the session closes
	cancel context.CancelFunc
	wake   chan struct{}
	exited chan struct{} // worker gone

	mu       sync.Mutex
	k        kernel.Conn
	restarts int
	queue    []*job
	running  *job
	history  []*Execution
	byID     map[string]*Execution
	closed   bool

	// the kernel (and restart) the stream chunker was installed in
	chunkedConn     kernel.Conn
	chunkedRestarts int
}

// chunkStreams makes ipykernel send stdout/stderr in messages of at most
// 4 MiB: by itself it sends whatever accumulated between two flushes as one
// message, and a cell printing 2 GiB fast became one 2 GiB message, which
// the sidecar must hold whole to receive. Chunked, the sidecar's bounded
// queue and output caps keep its memory flat (bench L1a). Idempotent; the
// user's stream output is unchanged (only split into more messages). A
// display_data value over 8 MiB is cut in the kernel as the sidecar would
// cut it (bench L1b), the cut size reported in metadata.mcp_jupyter_elided.
const chunkStreams = `
def _mcp_jupyter_chunk_streams():
    try:
        from ipykernel.iostream import OutStream
    except Exception:
        return
    if OutStream.__dict__.get("_mcp_jupyter_chunked") or not hasattr(OutStream, "_flush_buffers"):
        return
    limit = 4 << 20
    # Class-level: IPython tees sys.stdout.write per cell through an instance
    # attribute, so the instance's write cannot be wrapped durably.
    flush_buffers = OutStream._flush_buffers
    def chunked_flush_buffers(self):
        for parent, data in flush_buffers(self):
            if type(data) is str and len(data) > limit:
                for i in range(0, len(data), limit):
                    yield parent, data[i:i + limit]
            else:
                yield parent, data
    OutStream._flush_buffers = chunked_flush_buffers
    schedule = OutStream.__dict__.get("_schedule_flush")
    if schedule is not None:
        def early_flush(self):
            try:
                pending = sum(b.tell() for b in list(self._buffers.values()))
            except Exception:
                pending = 0
            if pending > limit:
                self.flush()
            else:
                schedule(self)
        OutStream._schedule_flush = early_flush
    OutStream._mcp_jupyter_chunked = True
    # display_data: a value over the limit would be one message of that size.
    # Cut it here the way the sidecar would (head and tail of text, a note for
    # anything else) and say how much was cut, so the sidecar counts it.
    try:
        from ipykernel.zmqshell import ZMQDisplayPublisher
    except Exception:
        return
    publish = ZMQDisplayPublisher.publish
    cap = 8 << 20
    def capped_publish(self, data, metadata=None, **kwargs):
        try:
            big = type(data) is dict and [k for k, v in dict.items(data) if type(k) is str and type(v) in (str, bytes) and len(v) > cap]
            if big:
                data, elided, notes = dict(data), {}, []
                for k in big:
                    v = data[k]
                    if type(v) is str and (k.startswith("text/") or k == "application/javascript"):
                        h = cap // 2
                        data[k] = v[:h] + "\n[... %d characters of %s elided: output limit reached, head and tail kept ...]\n" % (len(v) - 2 * h, k) + v[-h:]
                        elided[k] = len(v) - 2 * h
                    else:
                        del data[k]
                        elided[k] = len(v)
                        notes.append("[%s of %d bytes elided: output limit reached]" % (k, len(v)))
                if notes:
                    prev = data.get("text/plain")
                    data["text/plain"] = (prev + "\n" if type(prev) is str else "") + "\n".join(notes)
                metadata = dict(metadata) if type(metadata) is dict else {}
                metadata["mcp_jupyter_elided"] = elided
        except Exception:
            pass
        return publish(self, data, metadata, **kwargs)
    ZMQDisplayPublisher.publish = capped_publish
_mcp_jupyter_chunk_streams()
del _mcp_jupyter_chunk_streams
`

// ensureChunked installs chunkStreams once per kernel process.
func (s *Session) ensureChunked(k kernel.Conn) {
	s.mu.Lock()
	done := s.chunkedConn == k && s.chunkedRestarts == s.restarts
	restarts := s.restarts
	s.mu.Unlock()
	if done {
		return
	}
	reply, err := k.Execute(s.ctx, kernel.ExecuteRequest{Code: chunkStreams, Silent: true}, kernel.Handlers{})
	if err != nil || reply == nil || reply.Status != "ok" {
		s.m.log.Debug("stream chunking not installed", "notebook", s.path, "err", err)
		return
	}
	s.mu.Lock()
	s.chunkedConn, s.chunkedRestarts = k, restarts
	s.mu.Unlock()
}

// job is a queued cell execution or silent helper code.
type job struct {
	exec     *Execution
	internal *internalJob
}

type internalJob struct {
	code   string
	result chan internalOutcome
}

type internalOutcome struct {
	res InternalResult
	err error
}

func newSession(m *Manager, path string, spec kernel.LaunchSpec, k kernel.Conn) *Session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{m: m, path: path, spec: spec, k: k, ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), exited: make(chan struct{}), byID: map[string]*Execution{}}
	go s.watch(k)
	go s.work()
	return s
}

// NotebookPath is the absolute path of the notebook.
func (s *Session) NotebookPath() string { return s.path }

// Kernel is the current kernel.
func (s *Session) Kernel() kernel.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.k
}

// Spec is the launch spec of the kernel.
func (s *Session) Spec() kernel.LaunchSpec { return s.spec }

// Restarts counts restarts of this session's kernel.
func (s *Session) Restarts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts
}

// Submit queues a cell execution and returns at once.
func (s *Session) Submit(req Request) (*Execution, error) {
	if req.Origin == "" {
		req.Origin = OriginAgent
	}
	if req.Origin != OriginHuman && req.Origin != OriginAgent {
		return nil, fmt.Errorf("submit: origin %q: use %q or %q", req.Origin, OriginHuman, OriginAgent)
	}
	e := &Execution{ID: newTaskID(), CellID: req.CellID, Origin: req.Origin, Code: req.Code, s: s, req: req,
		log:     output.NewLog(output.Options{MaxStreamBytes: s.m.opts.MaxStreamBytes}),
		changed: make(chan struct{}), done: make(chan struct{})}
	e.state = ExecState{Status: StatusQueued, QueuedAt: time.Now()}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("submit: %w", ErrClosed)
	}
	e.Epoch = s.restarts
	s.queue = append(s.queue, &job{exec: e})
	s.history = append(s.history, e)
	s.byID[e.ID] = e
	if over := len(s.history) - s.m.opts.HistoryLimit; over > 0 {
		for _, old := range s.history[:over] {
			delete(s.byID, old.ID)
		}
		s.history = append([]*Execution(nil), s.history[over:]...)
	}
	s.mu.Unlock()
	s.emitState(e)
	s.poke()
	return e, nil
}

// RunInternal runs silent helper code (store_history off) through the same
// queue. It is not recorded in the history and emits no events.
func (s *Session) RunInternal(ctx context.Context, code string) (InternalResult, error) {
	ij := &internalJob{code: code, result: make(chan internalOutcome, 1)}
	j := &job{internal: ij}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return InternalResult{}, fmt.Errorf("run internal code: %w", ErrClosed)
	}
	s.queue = append(s.queue, j)
	s.mu.Unlock()
	s.poke()
	select {
	case o := <-ij.result:
		return o.res, o.err
	case <-ctx.Done():
		s.mu.Lock()
		for i, q := range s.queue {
			if q == j {
				s.queue = append(s.queue[:i], s.queue[i+1:]...)
				break
			}
		}
		s.mu.Unlock()
		return InternalResult{}, fmt.Errorf("run internal code: %w", ctx.Err())
	}
}

// Execution returns the execution with taskID, nil when unknown.
func (s *Session) Execution(taskID string) *Execution {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[taskID]
}

// Executions is the history of what this session ran or queued, oldest first.
func (s *Session) Executions() []*Execution {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Execution(nil), s.history...)
}

// Interrupt interrupts the running execution.
func (s *Session) Interrupt(ctx context.Context) error {
	return s.Kernel().Interrupt(ctx)
}

// Restart restarts the kernel (a dead one is started afresh). The running
// execution ends as aborted and the queued ones are cancelled: the state they
// relied on is gone.
func (s *Session) Restart(ctx context.Context) error {
	s.mu.Lock()
	k := s.k
	queued := s.queue
	s.queue = nil
	s.mu.Unlock()
	for _, j := range queued {
		s.finishJob(j, StatusCancelled, "Cancelled", "kernel restarted before it ran")
	}
	s.m.emit(Event{NotebookPath: s.path, Kind: EventKernel, KernelStatus: "restarting"})
	select {
	case <-k.Done():
		nk, err := kernel.Start(ctx, s.spec, s.m.opts.Kernel)
		if err != nil {
			s.m.emit(Event{NotebookPath: s.path, Kind: EventKernel, KernelStatus: string(kernel.StatusDead)})
			return fmt.Errorf("restart kernel for %s: %w", s.path, err)
		}
		s.mu.Lock()
		s.k = nk
		s.restarts++
		s.mu.Unlock()
		go s.watch(nk)
	default:
		if err := k.Restart(ctx); err != nil {
			s.m.emit(Event{NotebookPath: s.path, Kind: EventKernel, KernelStatus: string(kernel.StatusDead)})
			return fmt.Errorf("restart kernel for %s: %w", s.path, err)
		}
		s.mu.Lock()
		s.restarts++
		s.mu.Unlock()
	}
	s.m.emit(Event{NotebookPath: s.path, Kind: EventKernel, KernelStatus: string(kernel.StatusIdle)})
	s.poke()
	return nil
}

// Cancel removes a queued execution from the queue.
func (s *Session) Cancel(taskID string) error {
	s.mu.Lock()
	e := s.byID[taskID]
	if e == nil {
		s.mu.Unlock()
		return fmt.Errorf("cancel %s: %w", taskID, ErrNotFound)
	}
	var found *job
	for i, j := range s.queue {
		if j.exec == e {
			found = j
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	if found == nil {
		return fmt.Errorf("cancel %s (%s): %w; interrupt the kernel to stop a running one", taskID, e.State().Status, ErrNotQueued)
	}
	s.finishJob(found, StatusCancelled, "Cancelled", "cancelled before it ran")
	return nil
}

func (s *Session) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// watch fails every queued execution as soon as the kernel dies.
func (s *Session) watch(k kernel.Conn) {
	select {
	case <-k.Done():
	case <-s.ctx.Done():
		return
	}
	s.mu.Lock()
	if s.k != k || s.closed {
		s.mu.Unlock()
		return
	}
	queued := s.queue
	s.queue = nil
	s.mu.Unlock()
	reason := "kernel died"
	if err := k.Err(); err != nil {
		reason = err.Error()
	}
	s.m.log.Warn("kernel died", "notebook", s.path, "err", reason)
	s.m.emit(Event{NotebookPath: s.path, Kind: EventKernel, KernelStatus: string(kernel.StatusDead)})
	for _, j := range queued {
		s.finishJob(j, StatusDead, "KernelDead", reason)
	}
}

func (s *Session) close(ctx context.Context, reason string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	queued := s.queue
	s.queue = nil
	k := s.k
	s.mu.Unlock()
	for _, j := range queued {
		s.finishJob(j, StatusCancelled, "Cancelled", reason)
	}
	if err := k.Shutdown(ctx); err != nil {
		s.m.log.Warn("kernel shutdown", "notebook", s.path, "err", err)
	}
	s.cancel()
	<-s.exited
	s.m.emit(Event{NotebookPath: s.path, Kind: EventKernel, KernelStatus: string(kernel.StatusDead)})
}

// detach stops the session but leaves its kernel running.
func (s *Session) detach() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	queued := s.queue
	s.queue = nil
	k := s.k
	s.mu.Unlock()
	for _, j := range queued {
		s.finishJob(j, StatusCancelled, "Cancelled", "sidecar detached from the kernel")
	}
	if d, ok := k.(interface{ Detach() }); ok {
		d.Detach()
	}
	s.cancel()
	<-s.exited
}

// finishJob ends a job that never ran.
func (s *Session) finishJob(j *job, status, ename, evalue string) {
	if j.internal != nil {
		j.internal.result <- internalOutcome{res: InternalResult{Status: status, Ename: ename, Evalue: evalue}, err: fmt.Errorf("run internal code: %s", evalue)}
		return
	}
	j.exec.finish(status, 0, ename, evalue)
}

func (s *Session) work() {
	defer close(s.exited)
	for {
		s.mu.Lock()
		var j *job
		if len(s.queue) > 0 {
			j = s.queue[0]
			s.queue = s.queue[1:]
		}
		s.running = j
		k := s.k
		s.mu.Unlock()
		if j == nil {
			select {
			case <-s.wake:
				continue
			case <-s.ctx.Done():
				return
			}
		}
		select {
		case <-k.Done():
			reason := "kernel dead"
			if err := k.Err(); err != nil {
				reason = err.Error()
			}
			s.finishJob(j, StatusDead, "KernelDead", reason)
			continue
		default:
		}
		if j.internal != nil {
			s.runInternal(k, j.internal)
		} else {
			s.run(k, j.exec)
		}
		s.mu.Lock()
		s.running = nil
		s.mu.Unlock()
	}
}

func (s *Session) run(k kernel.Conn, e *Execution) {
	s.ensureChunked(k)
	e.mu.Lock()
	e.state.Status = StatusRunning
	e.state.StartedAt = time.Now()
	e.mu.Unlock()
	e.notify()
	s.emitState(e)
	s.m.emit(Event{NotebookPath: s.path, Kind: EventKernel, KernelStatus: string(kernel.StatusBusy)})

	h := kernel.Handlers{OnIOPub: func(m kernel.Message) {
		if m.Header.MsgType == "execute_input" {
			var c struct {
				ExecutionCount int `json:"execution_count"`
			}
			if json.Unmarshal(m.Content, &c) == nil && c.ExecutionCount > 0 {
				e.mu.Lock()
				e.state.ExecutionCount = c.ExecutionCount
				e.mu.Unlock()
				s.emitState(e)
			}
			return
		}
		ops, err := e.log.Apply(m.Header.MsgType, m.Content)
		if err != nil {
			s.m.log.Warn("bad output message", "notebook", s.path, "task", e.ID, "err", err)
			return
		}
		s.emitOps(e, ops)
	}}
	if e.req.AllowStdin {
		h.OnInput = e.awaitInput
	}
	reply, err := k.Execute(s.ctx, kernel.ExecuteRequest{
		Code: e.Code, StoreHistory: true, AllowStdin: e.req.AllowStdin, StopOnError: e.req.StopOnError, Timeout: e.req.Timeout,
	}, h)
	s.emitOps(e, e.log.Finish())
	switch {
	case errors.Is(err, kernel.ErrTimeout):
		e.finish(StatusTimeout, countOf(reply), "Timeout", fmt.Sprintf("execution exceeded its %s timeout and was stopped", e.req.Timeout))
	case errors.Is(err, kernel.ErrRestarted):
		e.finish(StatusAborted, countOf(reply), "KernelRestarted", "the kernel was restarted while this ran")
	case errors.Is(err, kernel.ErrKernelDead):
		e.finish(StatusDead, countOf(reply), "KernelDead", err.Error())
	case err != nil:
		e.finish(StatusCancelled, countOf(reply), "Cancelled", err.Error())
	default:
		status := reply.Status
		switch status {
		case StatusOK, StatusError, StatusAborted:
		default:
			status = StatusError
		}
		e.finish(status, reply.ExecutionCount, reply.Ename, reply.Evalue)
	}
	s.m.emit(Event{NotebookPath: s.path, Kind: EventKernel, KernelStatus: string(k.Status())})
}

func countOf(r *kernel.ExecuteReply) int {
	if r == nil {
		return 0
	}
	return r.ExecutionCount
}

func (s *Session) runInternal(k kernel.Conn, ij *internalJob) {
	var (
		res    InternalResult
		stdout strings.Builder
		stderr strings.Builder
	)
	h := kernel.Handlers{OnIOPub: func(m kernel.Message) {
		switch m.Header.MsgType {
		case "stream":
			var c struct{ Name, Text string }
			if json.Unmarshal(m.Content, &c) == nil {
				if c.Name == "stderr" {
					stderr.WriteString(c.Text)
				} else {
					stdout.WriteString(c.Text)
				}
			}
		case "display_data", "execute_result":
			var c struct {
				Data map[string]json.RawMessage `json:"data"`
			}
			if json.Unmarshal(m.Content, &c) == nil {
				if res.Data == nil {
					res.Data = map[string]json.RawMessage{}
				}
				for k, v := range c.Data {
					res.Data[k] = v
				}
			}
		case "error":
			var c struct {
				Ename, Evalue string
				Traceback     []string
			}
			if json.Unmarshal(m.Content, &c) == nil {
				res.Ename, res.Evalue, res.Traceback = c.Ename, c.Evalue, c.Traceback
			}
		}
	}}
	reply, err := k.Execute(s.ctx, kernel.ExecuteRequest{Code: ij.code, Silent: true, StoreHistory: false}, h)
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	if err != nil {
		res.Status = StatusDead
		ij.result <- internalOutcome{res: res, err: fmt.Errorf("run internal code: %w", err)}
		return
	}
	res.Status = reply.Status
	if res.Ename == "" {
		res.Ename, res.Evalue, res.Traceback = reply.Ename, reply.Evalue, reply.Traceback
	}
	ij.result <- internalOutcome{res: res}
}

func (s *Session) emitState(e *Execution) {
	st := e.State()
	s.m.emit(Event{NotebookPath: s.path, TaskID: e.ID, CellID: e.CellID, Origin: e.Origin, Kind: EventState, State: &st})
}

func (s *Session) emitOps(e *Execution, ops []output.Op) {
	if len(ops) == 0 {
		return
	}
	e.notify()
	for i := range ops {
		op := ops[i]
		s.m.emit(Event{NotebookPath: s.path, TaskID: e.ID, CellID: e.CellID, Origin: e.Origin, Kind: EventOutput, Op: &op})
	}
}
