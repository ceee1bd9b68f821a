package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
)

// Stage is how far a kernel start got. A healthy start passes them in this
// order (the last three may arrive in any order).
type Stage string

// Start stages.
const (
	StageSpawned   Stage = "process spawned"
	StageDialled   Stage = "sockets dialled"
	StageInfoSent  Stage = "kernel_info sent"
	StageInfoReply Stage = "kernel_info reply"
	StageHeartbeat Stage = "heartbeat"
	StageIOPub     Stage = "iopub welcome/status"
)

// Stages lists the start stages in order.
var Stages = []Stage{StageSpawned, StageDialled, StageInfoSent, StageInfoReply, StageHeartbeat, StageIOPub}

// StartAttempt records one kernel process launched by Start or Restart (or
// one Attach): which stages it reached and when, and why it stopped.
type StartAttempt struct {
	Attempt   int  // 1-based within one Start/Restart
	Restart   bool // launched by Restart
	Attached  bool // an Attach, not a launch
	Transport string
	PID       int
	Began     time.Time
	// Reached holds the time since Began of every stage reached.
	Reached map[Stage]time.Duration
	// Waiting says what the start waited on last ("dial hb", ...).
	Waiting string
	// Stuck is the first stage not reached when the attempt failed.
	Stuck    Stage
	Duration time.Duration // Began → ready or failure
	Err      error
	// Stderr is the kernel's last stderr lines.
	Stderr string
	// Early: given up at a stage deadline (no progress while the kernel
	// process sat idle), not at StartTimeout.
	Early bool
}

// Ready reports whether the attempt ended with a ready kernel.
func (a StartAttempt) Ready() bool { return a.Err == nil }

// firstMissing is the first stage of Stages not reached.
func (a StartAttempt) firstMissing() Stage {
	for _, s := range Stages {
		if _, ok := a.Reached[s]; !ok {
			return s
		}
	}
	return ""
}

// Progress is "process spawned +0.01s, sockets dialled +1.20s, ...".
func (a StartAttempt) Progress() string {
	var parts []string
	for _, s := range Stages {
		if d, ok := a.Reached[s]; ok {
			parts = append(parts, fmt.Sprintf("%s +%.2fs", s, d.Seconds()))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// StartError is a failed Start or Restart: the stage the last attempt
// stopped at, every attempt, and the kernel's stderr.
type StartError struct {
	Stage    Stage
	Attempts []StartAttempt
	Err      error // wraps ErrStartTimeout or ErrKernelDead, or a context error
}

func (e *StartError) Unwrap() error { return e.Err }

func (e *StartError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if len(e.Attempts) == 0 {
		return b.String()
	}
	last := e.Attempts[len(e.Attempts)-1]
	if e.Stage != "" {
		fmt.Fprintf(&b, "; stopped at stage %q", e.Stage)
		if last.Waiting != "" {
			fmt.Fprintf(&b, " (waiting for %s)", last.Waiting)
		}
		fmt.Fprintf(&b, "; reached: %s", last.Progress())
	}
	for _, a := range e.Attempts[:len(e.Attempts)-1] {
		how := "failed"
		if a.Early {
			how = "was stuck"
		}
		fmt.Fprintf(&b, "; attempt %d (pid %d) %s at stage %q after %.1fs and was retried on new ports", a.Attempt, a.PID, how, a.Stuck, a.Duration.Seconds())
	}
	if last.Stderr != "" {
		b.WriteString("; kernel stderr (last lines):\n")
		b.WriteString(last.Stderr)
	}
	return b.String()
}

// errStageStuck marks an attempt given up at a stage deadline.
var errStageStuck = errors.New("no progress")

// errPortTaken marks a live kernel that could not bind a port we gave it.
var errPortTaken = errors.New("a port picked for the kernel was taken before it bound it")

// addrInUse is how a kernel reports a port already bound (Python, libzmq).
const addrInUse = "Address already in use"

// startRecorder collects the stages of one attempt; the start loop, the
// dialer and the stage watchdog write it.
type startRecorder struct {
	mu       sync.Mutex
	a        StartAttempt
	deadline time.Time // the whole start's deadline
	early    bool      // stage deadline on
	seq      int       // bumped on each stage or dial: progress
	// portTaken: the kernel said a port we gave it is in use (ipykernel
	// lives on when only its heartbeat thread failed to bind).
	portTaken bool
	// activity: CPU run + run-queue time of the kernel over the stuck window.
	activity time.Duration
}

func newStartRecorder(deadline time.Time) *startRecorder {
	return &startRecorder{a: StartAttempt{Began: time.Now(), Reached: map[Stage]time.Duration{}}, deadline: deadline}
}

func (r *startRecorder) reach(s Stage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.a.Reached[s]; !ok {
		r.a.Reached[s] = time.Since(r.a.Began)
		r.seq++
	}
}

func (r *startRecorder) has(s Stage) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.a.Reached[s]
	return ok
}

// waiting records what the start waits on next; a change is progress.
func (r *startRecorder) waiting(w string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.a.Waiting != w {
		r.a.Waiting = w
		r.seq++
	}
}

func (r *startRecorder) waitingFor() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.a.Waiting
}

func (r *startRecorder) progress() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

func (r *startRecorder) snapshot() StartAttempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.a
	a.Reached = make(map[Stage]time.Duration, len(r.a.Reached))
	for s, d := range r.a.Reached {
		a.Reached[s] = d
	}
	return a
}

// stageTimeout is how long a start may sit at one stage, with the kernel
// process idle, before the attempt is given up as stuck.
func (o *Options) stageTimeout() time.Duration {
	if o.StageTimeout > 0 {
		return o.StageTimeout
	}
	d := o.StartTimeout / 4
	return min(max(d, 2*time.Second), 15*time.Second)
}

// launch starts a kernel process, connects the sockets and does the
// handshake, retrying on new ports when the kernel died of a port taken
// between our probe and its bind, and once when it was stuck at a stage.
func (k *Local) launch(ctx context.Context, restart bool) (*incarnation, error) {
	deadline := time.Now().Add(k.opts.StartTimeout)
	var attempts []StartAttempt
	stuckRetried, bindRetries := false, 0
	for n := 1; ; n++ {
		k.launches++
		rec := newStartRecorder(deadline)
		rec.a.Attempt, rec.a.Restart, rec.early = n, restart, true
		inc, err := k.launchOnce(ctx, rec)
		a := rec.snapshot()
		a.Duration = time.Since(a.Began)
		a.Err = err
		if inc != nil {
			a.Stderr = inc.stderrTail()
		}
		if err != nil {
			a.Stuck = a.firstMissing()
			a.Early = errors.Is(err, errStageStuck)
		}
		attempts = append(attempts, a)
		if k.opts.OnStartAttempt != nil {
			k.opts.OnStartAttempt(a)
		}
		if err == nil {
			k.log.Debug("kernel start stages", "pid", a.PID, "attempt", n, "stages", a.Progress())
			return inc, nil
		}
		switch {
		case ctx.Err() != nil:
		case a.Early && !stuckRetried:
			stuckRetried = true
			k.log.Warn("kernel start stuck; retrying once on new ports", "pid", a.PID, "stage", a.Stuck,
				"waiting", a.Waiting, "reached", a.Progress(), "stderr", a.Stderr)
			// The retry gets at least half a start timeout of its own.
			if d := time.Now().Add(k.opts.StartTimeout / 2); d.After(deadline) {
				deadline = d
			}
			continue
		case bindRetries < 2 && (errors.Is(err, errPortTaken) || errors.Is(err, ErrKernelDead) && strings.Contains(a.Stderr+err.Error(), addrInUse)):
			bindRetries++
			k.log.Info("kernel could not bind its ports; retrying on new ones", "attempt", n)
			continue
		}
		if inc == nil && len(attempts) == 1 && a.PID == 0 {
			return nil, err // never launched: a spawn error says it all
		}
		return nil, &StartError{Stage: a.Stuck, Attempts: attempts, Err: err}
	}
}

// launchOnce launches one kernel process. On failure the incarnation is
// returned stopped, for its stderr.
func (k *Local) launchOnce(ctx context.Context, rec *startRecorder) (*incarnation, error) {
	ci, releasePorts, err := newConnectionInfo(k.opts.Transport, k.opts.RuntimeDir, k.ipcBase(), string(k.sg.key), k.spec.Name)
	if err != nil {
		return nil, err
	}
	// Our other processes keep off these ports until the kernel bound them.
	defer releasePorts()
	rec.a.Transport = ci.Transport
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
	rec.a.PID = cmd.Process.Pid
	rec.reach(StageSpawned)

	ictx, cancel := context.WithCancel(context.Background())
	inc := &incarnation{
		k: k, ci: ci, cmd: cmd, pid: cmd.Process.Pid, interruptEvent: interruptEvent, ctx: ictx, cancel: cancel,
		exited: make(chan struct{}), dead: make(chan struct{}), iopubSeen: make(chan struct{}),
		pending: map[string]*pending{}, pipeR: []*os.File{outR, errR}, start: rec,
	}
	k.log.Info("kernel launched", "pid", inc.pid, "argv0", argv[0], "transport", ci.Transport, "attempt", rec.a.Attempt)
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
		// A stuck kernel gets no polite ladder: it would not answer it.
		inc.stop(context.Background(), false, errors.Is(err, errStageStuck) || errors.Is(err, errPortTaken))
		return inc, err
	}
	k.writeRecord(inc.pid, interruptEvent)
	inc.readers.Add(1)
	go inc.heartbeat()
	return inc, nil
}

// ipcBase names the ipc socket files of the next launch: every launch gets
// its own, so a retry never meets the files of the kernel it replaces.
func (k *Local) ipcBase() string {
	if k.launches <= 1 {
		return k.base
	}
	return fmt.Sprintf("%s-%d", k.base, k.launches)
}

// connect dials every socket, starts the readers and waits for the kernel:
// a kernel_info_reply, a heartbeat pong, and a first iopub message (proof
// the SUB subscription took, so no output of the first execution is lost).
// Once the kernel bound its first socket, a start that makes no progress for
// Options.StageTimeout while the kernel process uses no CPU is given up as
// stuck (errStageStuck) instead of waiting out StartTimeout.
func (inc *incarnation) connect(ctx context.Context) error {
	k := inc.k
	rec := inc.start
	if rec == nil { // Attach
		rec = newStartRecorder(time.Now().Add(k.opts.StartTimeout))
		rec.a.Attempt, rec.a.Attached, rec.a.PID, rec.a.Transport = 1, true, inc.pid, inc.ci.Transport
		inc.start = rec
	}
	sctx, scancel := context.WithDeadline(ctx, rec.deadline)
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
	// death, timeout or a stuck stage. A stopped kernel's listen backlog
	// still accepts the TCP connection, and zmq4 then waits for the ZMTP
	// greeting without a deadline: only closing the conn ends that wait.
	stuck := make(chan struct{})
	stopWatch := make(chan struct{})
	defer close(stopWatch)
	if rec.early && !inc.attached {
		go inc.watchStages(rec, stuck, stopWatch)
	}
	go func() {
		select {
		case <-sctx.Done():
		case <-inc.dead:
		case <-stuck:
		case <-stopWatch:
			return
		}
		inc.cancel()
		for _, t := range inc.trackers {
			t.closeAll()
		}
	}()
	fail := func(err error) error { return inc.startErr(sctx, stuck, err) }
	ci := inc.ci
	for i, d := range []struct {
		name string
		s    zmq4.Socket
		port int
	}{{"shell", inc.shell, ci.ShellPort}, {"stdin", inc.stdin, ci.StdinPort}, {"control", inc.control, ci.ControlPort}, {"iopub", inc.iopub, ci.IOPubPort}, {"hb", inc.hb, ci.HBPort}} {
		rec.waiting("dial " + d.name)
		// zmq4 retries a refused connection itself, but not a connection
		// reset during the greeting (a kernel still setting up): retry that.
		for {
			err := d.s.Dial(ci.endpoint(d.port))
			if err == nil {
				break
			}
			if sctx.Err() != nil || inc.ctx.Err() != nil {
				return fail(fmt.Errorf("dial %s: %w", d.name, err))
			}
			inc.trackers[i].closeAll() // the failed attempt's conn, which zmq4 leaks
			k.log.Debug("dial failed; retrying", "socket", d.name, "err", err)
			time.Sleep(20 * time.Millisecond)
		}
	}
	rec.reach(StageDialled)
	for _, r := range []struct {
		name string
		s    zmq4.Socket
	}{{"shell", inc.shell}, {"stdin", inc.stdin}, {"control", inc.control}, {"iopub", inc.iopub}} {
		inc.readers.Add(1)
		go inc.read(r.name, r.s)
	}
	// One ping before we call the kernel ready: a kernel whose heartbeat
	// thread failed (its port taken) would be declared dead later anyway.
	hbOK := make(chan struct{})
	inc.readers.Add(1)
	go func() {
		defer inc.readers.Done()
		if err := inc.hb.Send(zmq4.NewMsg([]byte("ping"))); err != nil {
			return
		}
		if _, err := inc.hb.Recv(); err == nil {
			close(hbOK)
		}
	}()

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
		err := inc.send(s, h, nil, struct{}{})
		if err == nil {
			rec.reach(StageInfoSent)
		}
		return err
	}
	if err := send(inc.shell); err != nil {
		return fail(err)
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
			return fail(err)
		}
	}
	iopubSeen, hbSeen := inc.iopubSeen, hbOK
	waiting := func() {
		var w []string
		for _, s := range []Stage{StageInfoReply, StageHeartbeat, StageIOPub} {
			if !rec.has(s) {
				w = append(w, string(s))
			}
		}
		rec.waiting(strings.Join(w, ", "))
	}
	waiting()
	for {
		for _, m := range p.take() {
			if m.Channel == "shell" && m.Header.MsgType == "kernel_info_reply" && reply == nil {
				mm := m
				reply = &mm
				rec.reach(StageInfoReply)
				waiting()
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
		if reply != nil && iopubSeen == nil && hbSeen == nil {
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
		}
		select {
		case <-p.signal:
		case <-iopubSeen:
			iopubSeen = nil
			rec.reach(StageIOPub)
			waiting()
		case <-hbSeen:
			hbSeen = nil
			rec.reach(StageHeartbeat)
			waiting()
		case <-tick.C:
			// Resend while unanswered, and while iopub is silent: each
			// request makes the kernel publish a status.
			if reply == nil || iopubSeen != nil {
				if err := send(inc.shell); err != nil {
					return fail(err)
				}
			}
			if inc.attached && controlAt.IsZero() {
				if err := send(inc.control); err != nil {
					return fail(err)
				}
			}
		case <-inc.dead:
			return fail(nil)
		case <-stuck:
			return fail(nil)
		case <-sctx.Done():
			return fail(nil)
		}
	}
}

// activity is what a kernel's processes did: CPU run + run-queue time, and
// bytes of storage I/O.
type activity struct {
	cpu time.Duration
	io  int64
}

// attachBusyWait is how long an attached kernel whose control channel
// answered may keep its shell silent before we take it as busy. An idle
// ipykernel ignores SIGINT, so a wrong guess on a slow machine costs nothing.
const attachBusyWait = time.Second

// watchStages closes stuck when, after the kernel bound its first socket,
// no stage was reached for the stage timeout and the kernel's processes
// neither ran, nor waited to run, nor did storage I/O meanwhile: slow,
// starved or reading a slow disk is fine, asleep and silent is stuck.
// Before the first bind the kernel imports its modules, which may take long:
// only StartTimeout bounds that. Without CPU accounting (not Linux) it never
// fires.
func (inc *incarnation) watchStages(rec *startRecorder, stuck chan<- struct{}, stop <-chan struct{}) {
	limit := inc.k.opts.stageTimeout()
	// Below this much CPU (used or waited for) over the limit a kernel is idle.
	idle := limit / 50
	t := time.NewTicker(min(limit/8, 250*time.Millisecond))
	defer t.Stop()
	lastSeq, lastAt := -1, time.Now()
	var last activity
	known := true
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		// The kernel's word is quicker than any deadline.
		if strings.Contains(inc.stderrTail(), addrInUse) {
			rec.mu.Lock()
			rec.portTaken = true
			rec.mu.Unlock()
			close(stuck)
			return
		}
		if !known {
			continue
		}
		if seq := rec.progress(); seq != lastSeq {
			lastSeq, lastAt = seq, time.Now()
			last, known = processTreeActivity(inc.pid)
			continue
		}
		if rec.waitingFor() == "dial shell" || time.Since(lastAt) < limit {
			continue
		}
		now, ok := processTreeActivity(inc.pid)
		if !ok {
			known = false // keep watching stderr only
			continue
		}
		if now.cpu-last.cpu >= idle || now.io-last.io >= 4096 {
			lastAt, last = time.Now(), now // busy: slow, not stuck
			continue
		}
		rec.mu.Lock()
		rec.activity = now.cpu - last.cpu
		rec.mu.Unlock()
		close(stuck)
		return
	}
}

func (inc *incarnation) startErr(sctx context.Context, stuck <-chan struct{}, err error) error {
	select {
	case <-inc.dead:
		// Let the process reaper record the exit status and stderr.
		select {
		case <-inc.exited:
		case <-time.After(time.Second):
		}
		if inc.attached {
			return startDeathErr(inc)
		}
		return inc.deathErr()
	default:
	}
	select {
	case <-stuck:
		inc.start.mu.Lock()
		taken, activity := inc.start.portTaken, inc.start.activity
		inc.start.mu.Unlock()
		if taken {
			return fmt.Errorf("%w (the kernel said %q; process %d)", errPortTaken, addrInUse, inc.pid)
		}
		a := inc.start.snapshot()
		return fmt.Errorf("%w: %w at stage %q for %s with process %d alive and asleep (%s on or waiting for a CPU)", ErrStartTimeout, errStageStuck,
			a.firstMissing(), inc.k.opts.stageTimeout(), inc.pid, activity.Round(time.Millisecond))
	default:
	}
	if sctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%w after %s (pid %d)", ErrStartTimeout, time.Since(inc.start.snapshot().Began).Round(100*time.Millisecond), inc.pid)
	}
	if sctx.Err() != nil {
		return fmt.Errorf("kernel start: %w", sctx.Err())
	}
	return err
}
