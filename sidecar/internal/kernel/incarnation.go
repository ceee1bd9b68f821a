package kernel

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zeromq/zmq4"
)

// incarnation is one kernel process and its sockets. A restart makes a new one:
// zmq4 does not reconnect, so sockets never outlive their process.
type incarnation struct {
	k        *Local
	ci       connectionInfo
	cmd      *exec.Cmd // nil when attached to a kernel another sidecar started
	pid      int
	attached bool
	// interruptEvent names the Windows event that interrupts the kernel
	// (empty on Unix, where an interrupt is SIGINT to the process group).
	interruptEvent string
	pollStop       chan struct{} // attached: stops the liveness poller on detach

	start *startRecorder // stages of this incarnation's start (see start.go)

	ctx    context.Context // cancelled on death or stop: closes every socket
	cancel context.CancelFunc

	shell, control, stdin, iopub, hb zmq4.Socket
	sendMu                           sync.Mutex
	trackers                         []*connTracker // one per socket, in dial order

	exited   chan struct{} // closed when the process was reaped
	exitDesc string

	dead      chan struct{} // closed on the first death (exit, heartbeat, stop)
	deadOnce  sync.Once
	deadErr   error
	expected  atomic.Bool  // a restart/shutdown is under way: death is not an error
	reason    atomic.Value // error: why an expected death happened
	iopubSeen chan struct{}
	ready     atomic.Bool // handshake done: the kernel can take a shutdown_request
	busy      atomic.Bool // last iopub status was busy
	iopubOnce sync.Once

	mu      sync.Mutex
	pending map[string]*pending

	tailMu sync.Mutex
	tail   []string // last stderr lines, for start errors

	readers  sync.WaitGroup // socket readers and heartbeat
	pipes    sync.WaitGroup // stdout/stderr loggers
	pipeR    []*os.File
	stopOnce sync.Once
}

// pending collects messages parented by one request. The queue is bounded in
// bytes: once maxPendingBytes wait unread, the socket's reader blocks until the
// consumer takes them (backpressure through zmq to the kernel) instead of
// holding gigabytes a chatty cell sends faster than they are processed. A
// queue whose consumer is gone (unregistered) never blocks its reader, and a
// single message is always accepted, so the reader cannot deadlock on it.
type pending struct {
	mu     sync.Mutex
	q      []Message
	bytes  int
	closed bool
	signal chan struct{}
	space  chan struct{} // a take happened
	done   chan struct{} // closed by close
}

// maxPendingBytes bounds the unread messages of one request.
const maxPendingBytes = 16 << 20

func newPending() *pending {
	return &pending{signal: make(chan struct{}, 1), space: make(chan struct{}, 1), done: make(chan struct{})}
}

func msgBytes(m Message) int {
	n := len(m.Content) + len(m.Metadata)
	for _, b := range m.Buffers {
		n += len(b)
	}
	return n
}

func (p *pending) push(m Message) {
	n := msgBytes(m)
	p.mu.Lock()
	for p.bytes > 0 && p.bytes+n > maxPendingBytes && !p.closed {
		p.mu.Unlock()
		select {
		case <-p.space:
		case <-p.done:
		}
		p.mu.Lock()
	}
	if !p.closed {
		p.q = append(p.q, m)
		p.bytes += n
	}
	p.mu.Unlock()
	select {
	case p.signal <- struct{}{}:
	default:
	}
}

func (p *pending) take() []Message {
	p.mu.Lock()
	q := p.q
	p.q = nil
	p.bytes = 0
	p.mu.Unlock()
	select {
	case p.space <- struct{}{}:
	default:
	}
	return q
}

// close drops what is queued and releases a reader blocked in push.
func (p *pending) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		p.q = nil
		p.bytes = 0
		close(p.done)
	}
}

func (inc *incarnation) register(msgID string) *pending {
	p := newPending()
	inc.registerTo(msgID, p)
	return p
}

func (inc *incarnation) registerTo(msgID string, p *pending) {
	inc.mu.Lock()
	inc.pending[msgID] = p
	inc.mu.Unlock()
}

func (inc *incarnation) unregister(msgID string) {
	inc.mu.Lock()
	p := inc.pending[msgID]
	delete(inc.pending, msgID)
	inc.mu.Unlock()
	if p != nil {
		p.close()
	}
}

func (inc *incarnation) deathErr() error {
	select {
	case <-inc.dead:
		return inc.deadErr
	default:
		return nil
	}
}

// die records the first cause of death and wakes every waiter.
func (inc *incarnation) die(err error) {
	inc.deadOnce.Do(func() {
		if inc.expected.Load() {
			if r, _ := inc.reason.Load().(error); r != nil {
				err = fmt.Errorf("%w: %w", ErrKernelDead, r)
			}
		}
		inc.deadErr = err
		close(inc.dead)
		inc.k.incDied(inc, err)
	})
}

func (inc *incarnation) stderrTail() string {
	inc.tailMu.Lock()
	defer inc.tailMu.Unlock()
	return strings.Join(inc.tail, "\n")
}

func (inc *incarnation) logPipe(f *os.File, stream string) {
	defer inc.pipes.Done()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		inc.k.log.Debug("kernel output", "pid", inc.pid, "stream", stream, "line", line)
		if stream == "stderr" {
			inc.tailMu.Lock()
			inc.tail = append(inc.tail, line)
			if len(inc.tail) > 20 {
				inc.tail = inc.tail[len(inc.tail)-20:]
			}
			inc.tailMu.Unlock()
		}
	}
}

// interrupt interrupts the kernel without waiting for an answer: an
// interrupt_request on control in message mode, else the platform's signal.
func (inc *incarnation) interrupt() error {
	if inc.k.spec.InterruptMode == "message" {
		return inc.send(inc.control, newHeader("interrupt_request", inc.k.session), nil, struct{}{})
	}
	return interruptProcess(inc.pid, inc.interruptEvent)
}

func (inc *incarnation) send(s zmq4.Socket, h Header, parent *Header, content any) error {
	frames, err := inc.k.sg.encode(h, parent, content)
	if err != nil {
		return err
	}
	inc.sendMu.Lock()
	defer inc.sendMu.Unlock()
	if err := s.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
		return fmt.Errorf("send %s: %w", h.MsgType, err)
	}
	return nil
}

// request sends a message and waits for its reply of replyType.
func (inc *incarnation) request(ctx context.Context, s zmq4.Socket, channel, msgType string, content any, replyType string) (Message, error) {
	h := newHeader(msgType, inc.k.session)
	p := inc.register(h.MsgID)
	defer inc.unregister(h.MsgID)
	if err := inc.send(s, h, nil, content); err != nil {
		return Message{}, err
	}
	for {
		for _, m := range p.take() {
			if m.Channel == channel && m.Header.MsgType == replyType {
				return m, nil
			}
		}
		select {
		case <-p.signal:
		case <-inc.dead:
			return Message{}, inc.deathErr()
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}

// read is the one reader of a socket: zmq4's Recv cannot be cancelled except
// by closing the socket, so no one else may block in it.
func (inc *incarnation) read(channel string, s zmq4.Socket) {
	defer inc.readers.Done()
	for {
		msg, err := s.Recv()
		if err != nil {
			if inc.ctx.Err() != nil {
				drain(s)
				return
			}
			inc.k.log.Debug("recv", "channel", channel, "err", err)
			select {
			case <-inc.ctx.Done():
				drain(s)
				return
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		m, err := inc.k.sg.decode(channel, msg.Frames)
		if err != nil {
			inc.k.log.Warn("dropped a kernel message", "channel", channel, "err", err)
			continue
		}
		if channel == "iopub" {
			inc.iopubOnce.Do(func() { close(inc.iopubSeen) })
			if m.Header.MsgType == "status" {
				switch executionState(m.Content) {
				case "busy":
					inc.busy.Store(true)
					inc.k.setStatus(inc, StatusBusy)
				case "idle":
					inc.busy.Store(false)
					inc.k.setStatus(inc, StatusIdle)
				}
			}
		}
		inc.mu.Lock()
		p := inc.pending[m.ParentHeader.MsgID]
		inc.mu.Unlock()
		if p != nil {
			p.push(m)
		}
	}
}

// drain empties zmq4's internal queue after Close: a zmq4 connection goroutine
// blocked on a full queue would otherwise leak. Recv on a closed socket picks
// at random between the closed context and a queued message, so a run of
// errors means the queue is empty.
func drain(s zmq4.Socket) {
	for misses := 0; misses < 32; {
		if _, err := s.Recv(); err != nil {
			misses++
		} else {
			misses = 0
		}
	}
}

// heartbeat pings the kernel; no pong within HeartbeatTimeout (a hung or
// stopped process) is death: the process group is killed.
func (inc *incarnation) heartbeat() {
	defer inc.readers.Done()
	k := inc.k
	t := time.NewTicker(k.opts.HeartbeatInterval)
	defer t.Stop()
	type result struct{ err error }
	for {
		select {
		case <-inc.ctx.Done():
			return
		case <-t.C:
		}
		if err := inc.hb.Send(zmq4.NewMsg([]byte("ping"))); err != nil {
			k.log.Debug("heartbeat send", "err", err)
			continue
		}
		res := make(chan result, 1)
		go func() {
			_, err := inc.hb.Recv()
			res <- result{err}
		}()
		timer := time.NewTimer(k.opts.HeartbeatTimeout)
		select {
		case r := <-res:
			timer.Stop()
			if r.err != nil && inc.ctx.Err() == nil {
				k.log.Debug("heartbeat recv", "err", r.err)
			}
		case <-inc.ctx.Done():
			timer.Stop()
			<-res // the socket is closed: Recv returns
			return
		case <-timer.C:
			k.log.Warn("kernel missed its heartbeat; killing it", "pid", inc.pid, "timeout", k.opts.HeartbeatTimeout)
			inc.die(fmt.Errorf("%w: no heartbeat for %s (process %d hung or stopped; killed)", ErrKernelDead, k.opts.HeartbeatTimeout, inc.pid))
			_ = killProcessGroup(inc.pid)
			inc.cancel()
			<-res
			return
		}
	}
}

// stop runs the shutdown ladder (shutdown_request, SIGTERM, SIGKILL to the
// process group) and releases the sockets, goroutines and pipes. hard skips
// to SIGKILL: for a kernel already known not to respond.
func (inc *incarnation) stop(ctx context.Context, restart, hard bool) {
	inc.stopOnce.Do(func() {
		grace := inc.k.opts.ShutdownGrace
		wait := func(d time.Duration) bool {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-inc.exited:
				return true
			case <-t.C:
				return false
			case <-ctx.Done():
				return false
			}
		}
		exited := func() bool {
			select {
			case <-inc.exited:
				return true
			default:
				return false
			}
		}
		if !exited() && inc.deathErr() == nil && inc.ready.Load() && !hard {
			// A busy ipykernel handles shutdown_request only once its code
			// stops: interrupt it first rather than wait for SIGTERM.
			if inc.busy.Load() {
				_ = inc.interrupt()
			}
			h := newHeader("shutdown_request", inc.k.session)
			if err := inc.send(inc.control, h, nil, map[string]any{"restart": restart}); err != nil {
				inc.k.log.Debug("shutdown_request", "err", err)
			}
			wait(grace)
		}
		if !exited() && !hard {
			inc.k.log.Info("kernel ignored shutdown_request; SIGTERM", "pid", inc.pid)
			_ = terminateProcessGroup(inc.pid)
			wait(grace)
		}
		if !exited() {
			inc.k.log.Warn("kernel ignored SIGTERM; SIGKILL", "pid", inc.pid)
		}
		// Always: the kernel's leftover children die with it.
		_ = killProcessGroup(inc.pid)
		<-inc.exited
		inc.die(fmt.Errorf("%w: stopped", ErrKernelDead))
		inc.releaseSockets()
		// A grandchild may still hold the pipes open: give the loggers a moment
		// to reach EOF, then close our ends.
		done := make(chan struct{})
		go func() { inc.pipes.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(500 * time.Millisecond):
		}
		for _, f := range inc.pipeR {
			f.Close()
		}
		<-done
		if inc.ci.Transport == "ipc" {
			for _, p := range []int{inc.ci.ShellPort, inc.ci.IOPubPort, inc.ci.StdinPort, inc.ci.ControlPort, inc.ci.HBPort} {
				os.Remove(fmt.Sprintf("%s-%d", inc.ci.IP, p))
			}
		}
	})
}

// releaseSockets closes every socket (and the conns zmq4 might leak) and
// waits for the readers and the heartbeat to end.
func (inc *incarnation) releaseSockets() {
	inc.cancel()
	for _, s := range []zmq4.Socket{inc.shell, inc.stdin, inc.control, inc.iopub, inc.hb} {
		if s != nil {
			s.Close()
		}
	}
	inc.readers.Wait()
	for _, t := range inc.trackers {
		t.closeAll()
	}
}

// slogWriter sends zmq4's log.Logger lines to slog at debug level.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(b []byte) (int, error) {
	w.l.Debug("zmq4", "msg", strings.TrimSpace(string(b)))
	return len(b), nil
}

// appendEnv adds kv to env, starting from our own environment when env is nil
// (inherit), without writing into env's backing array.
func appendEnv(env []string, kv string) []string {
	if env == nil {
		env = os.Environ()
	}
	return append(env[:len(env):len(env)], kv)
}
