package kernel

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
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

// launch starts a kernel process, connects the sockets and does the
// kernel_info handshake. Fresh ports can race with other processes between
// our probe and the kernel's bind; a kernel that died of that is relaunched
// on new ports.
func (k *Local) launch(ctx context.Context) (*incarnation, error) {
	for attempt := 1; ; attempt++ {
		inc, err := k.launchOnce(ctx)
		if err == nil || attempt == 3 || !errors.Is(err, ErrKernelDead) || !strings.Contains(err.Error(), "Address already in use") {
			return inc, err
		}
		k.log.Info("kernel could not bind its ports; retrying on new ones", "attempt", attempt)
	}
}

func (k *Local) launchOnce(ctx context.Context) (*incarnation, error) {
	ci, err := newConnectionInfo(k.opts.Transport, k.opts.RuntimeDir, k.base, string(k.sg.key), k.spec.Name)
	if err != nil {
		return nil, err
	}
	if err := writeConnectionFile(k.connPath, ci); err != nil {
		return nil, err
	}
	argv := substitute(k.spec.Argv, k.connPath, k.spec.ResourceDir)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = k.spec.Env
	cmd.Dir = k.spec.Dir
	// Without a runtime dir nobody could re-attach to this kernel after we
	// are gone: have ipykernel exit with its parent.
	interruptEvent, afterStart, err := setupProcess(cmd, k.ownRuntime)
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		afterStart()
		return nil, fmt.Errorf("kernel stdout pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		afterStart()
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("kernel stderr pipe: %w", err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	afterStart()
	if err != nil {
		outR.Close()
		outW.Close()
		errR.Close()
		errW.Close()
		return nil, fmt.Errorf("launch %q: %w", argv[0], err)
	}
	outW.Close()
	errW.Close()

	ictx, cancel := context.WithCancel(context.Background())
	inc := &incarnation{
		k: k, ci: ci, cmd: cmd, pid: cmd.Process.Pid, interruptEvent: interruptEvent, ctx: ictx, cancel: cancel,
		exited: make(chan struct{}), dead: make(chan struct{}), iopubSeen: make(chan struct{}),
		pending: map[string]*pending{}, pipeR: []*os.File{outR, errR},
	}
	k.log.Info("kernel launched", "pid", inc.pid, "argv0", argv[0], "transport", ci.Transport)
	inc.pipes.Add(2)
	go inc.logPipe(outR, "stdout")
	go inc.logPipe(errR, "stderr")
	go func() {
		werr := cmd.Wait()
		inc.exitDesc = cmd.ProcessState.String()
		if werr != nil && cmd.ProcessState == nil {
			inc.exitDesc = werr.Error()
		}
		close(inc.exited)
		inc.die(fmt.Errorf("%w: process %d exited (%s)", ErrKernelDead, inc.pid, inc.exitDesc))
	}()

	if err := inc.connect(ctx); err != nil {
		inc.expected.Store(true)
		inc.stop(context.Background(), false, false)
		return nil, err
	}
	k.writeRecord(inc.pid, interruptEvent)
	inc.readers.Add(1)
	go inc.heartbeat()
	return inc, nil
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

// connect dials every socket, starts the readers and waits for the kernel:
// a kernel_info_reply, and a first iopub message (proof the SUB subscription
// took, so no output of the first execution is lost).
func (inc *incarnation) connect(ctx context.Context) error {
	k := inc.k
	deadline := time.Now().Add(k.opts.StartTimeout)
	sctx, scancel := context.WithDeadline(ctx, deadline)
	defer scancel()
	zlog := log.New(slogWriter{k.log}, "", 0)
	opts := func(extra ...zmq4.Option) []zmq4.Option {
		return append([]zmq4.Option{zmq4.WithDialerRetry(10 * time.Millisecond), zmq4.WithDialerMaxRetries(-1), zmq4.WithLogger(zlog)}, extra...)
	}
	id := zmq4.SocketIdentity(newID())
	tctx := func() context.Context {
		t := &connTracker{}
		inc.trackers = append(inc.trackers, t)
		return withTracker(inc.ctx, t)
	}
	inc.shell = zmq4.NewDealer(tctx(), opts(zmq4.WithID(id))...)
	inc.stdin = zmq4.NewDealer(tctx(), opts(zmq4.WithID(id))...) // same identity as shell, or input_request never arrives
	inc.control = zmq4.NewDealer(tctx(), opts()...)
	inc.iopub = zmq4.NewSub(tctx(), opts()...)
	inc.hb = zmq4.NewReq(tctx(), opts()...)
	if err := inc.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		return fmt.Errorf("subscribe iopub: %w", err)
	}
	// Dialing blocks with retries until the kernel listens; cancel it on
	// death or timeout. A stopped kernel's listen backlog still accepts the
	// TCP connection, and zmq4 then waits for the ZMTP greeting without a
	// deadline: only closing the conn ends that wait.
	stopWatch := make(chan struct{})
	defer close(stopWatch)
	go func() {
		select {
		case <-sctx.Done():
		case <-inc.dead:
		case <-stopWatch:
			return
		}
		inc.cancel()
		for _, t := range inc.trackers {
			t.closeAll()
		}
	}()
	ci := inc.ci
	for i, d := range []struct {
		name string
		s    zmq4.Socket
		port int
	}{{"shell", inc.shell, ci.ShellPort}, {"stdin", inc.stdin, ci.StdinPort}, {"control", inc.control, ci.ControlPort}, {"iopub", inc.iopub, ci.IOPubPort}, {"hb", inc.hb, ci.HBPort}} {
		// zmq4 retries a refused connection itself, but not a connection
		// reset during the greeting (a kernel still setting up): retry that.
		for {
			err := d.s.Dial(ci.endpoint(d.port))
			if err == nil {
				break
			}
			if sctx.Err() != nil || inc.ctx.Err() != nil {
				return inc.startErr(sctx, fmt.Errorf("dial %s: %w", d.name, err))
			}
			inc.trackers[i].closeAll() // the failed attempt's conn, which zmq4 leaks
			k.log.Debug("dial failed; retrying", "socket", d.name, "err", err)
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, r := range []struct {
		name string
		s    zmq4.Socket
	}{{"shell", inc.shell}, {"stdin", inc.stdin}, {"control", inc.control}, {"iopub", inc.iopub}} {
		inc.readers.Add(1)
		go inc.read(r.name, r.s)
	}

	// jupyter_client resends kernel_info until it is answered; so do we.
	p := newPending()
	var ids []string
	defer func() {
		for _, id := range ids {
			inc.unregister(id)
		}
	}()
	var reply *Message
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	send := func(s zmq4.Socket) error {
		h := newHeader("kernel_info_request", k.session)
		ids = append(ids, h.MsgID)
		inc.registerTo(h.MsgID, p)
		return inc.send(s, h, nil, struct{}{})
	}
	if err := send(inc.shell); err != nil {
		return inc.startErr(sctx, err)
	}
	// A kernel we attach to may still run code of the sidecar that died
	// mid-execution: its shell stays silent until that code ends. The
	// control channel (its own thread in ipykernel) answers anyway, so a
	// control reply without a shell reply means busy, not hung: interrupt the
	// orphaned execution (nobody waits for its result) and keep the state.
	var controlAt time.Time
	interrupted := false
	if inc.attached {
		if err := send(inc.control); err != nil {
			return inc.startErr(sctx, err)
		}
	}
	for {
		for _, m := range p.take() {
			if m.Channel == "shell" && m.Header.MsgType == "kernel_info_reply" && reply == nil {
				mm := m
				reply = &mm
			}
			if m.Channel == "control" && m.Header.MsgType == "kernel_info_reply" && controlAt.IsZero() {
				controlAt = time.Now()
			}
		}
		if reply == nil && !interrupted && !controlAt.IsZero() && time.Since(controlAt) >= attachBusyWait {
			interrupted = true
			k.log.Info("attached kernel is busy with code of the previous sidecar; interrupting it", "pid", inc.pid)
			if err := inc.interrupt(); err != nil {
				k.log.Warn("interrupt busy kernel", "pid", inc.pid, "err", err)
			}
		}
		if reply != nil {
			select {
			case <-inc.iopubSeen:
				var info KernelInfo
				_ = json.Unmarshal(reply.Content, &info)
				info.Raw = reply.Content
				inc.ready.Store(true)
				k.mu.Lock()
				k.info = info
				k.status = StatusIdle
				k.mu.Unlock()
				k.log.Info("kernel ready", "pid", inc.pid, "implementation", info.Implementation, "protocol", info.ProtocolVersion)
				return nil
			default:
			}
		}
		select {
		case <-p.signal:
		case <-inc.iopubSeen:
		case <-tick.C:
			if err := send(inc.shell); err != nil {
				return inc.startErr(sctx, err)
			}
			if inc.attached && controlAt.IsZero() {
				if err := send(inc.control); err != nil {
					return inc.startErr(sctx, err)
				}
			}
		case <-inc.dead:
			return inc.startErr(sctx, nil)
		case <-sctx.Done():
			return inc.startErr(sctx, nil)
		}
	}
}

// attachBusyWait is how long an attached kernel whose control channel
// answered may keep its shell silent before we take it as busy. An idle
// ipykernel ignores SIGINT, so a wrong guess on a slow machine costs nothing.
const attachBusyWait = time.Second

// interrupt interrupts the kernel without waiting for an answer: an
// interrupt_request on control in message mode, else the platform's signal.
func (inc *incarnation) interrupt() error {
	if inc.k.spec.InterruptMode == "message" {
		return inc.send(inc.control, newHeader("interrupt_request", inc.k.session), nil, struct{}{})
	}
	return interruptProcess(inc.pid, inc.interruptEvent)
}

func (inc *incarnation) startErr(sctx context.Context, err error) error {
	select {
	case <-inc.dead:
		// Let the process reaper record the exit status and stderr.
		select {
		case <-inc.exited:
		case <-time.After(time.Second):
		}
		return startDeathErr(inc)
	default:
	}
	if sctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%w after %s (pid %d)", ErrStartTimeout, inc.k.opts.StartTimeout, inc.pid)
	}
	if sctx.Err() != nil {
		return fmt.Errorf("kernel start: %w", sctx.Err())
	}
	return err
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
