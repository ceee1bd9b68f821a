package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

// Options tune Start and Attach. Zero values get defaults.
type Options struct {
	Logger *slog.Logger
	// StartTimeout bounds start → kernel_info reply. Default 60s.
	StartTimeout time.Duration
	// PollInterval between liveness checks of the kernel over REST (a
	// culled or deleted kernel is noticed this way). Default 3s.
	PollInterval time.Duration
	// ReconnectTimeout: a dropped WebSocket is re-dialled (same session
	// id, so the server replays what it buffered) for this long before the
	// kernel is declared unreachable. Default 30s.
	ReconnectTimeout time.Duration
	// InterruptGrace: a timed-out execution that the interrupt did not stop
	// within this long gets the kernel restarted. Default 5s.
	InterruptGrace time.Duration
	// Path is the kernel's working directory, relative to the server root.
	Path string
	// JSONFraming skips the v1 binary subprotocol and uses the legacy JSON
	// framing (also what is used when the server does not offer v1).
	JSONFraming bool
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 3 * time.Second
	}
	if o.ReconnectTimeout <= 0 {
		o.ReconnectTimeout = 30 * time.Second
	}
	if o.InterruptGrace <= 0 {
		o.InterruptGrace = 5 * time.Second
	}
}

// Kernel is a kernel running on a Jupyter Server, reached over its REST API
// and its channels WebSocket. It implements kernel.Conn.
type Kernel struct {
	c       *Client
	id      string
	name    string
	session string
	opts    Options
	log     *slog.Logger
	ctx     context.Context // lives until Shutdown/Detach/death
	cancel  context.CancelFunc

	sendMu sync.Mutex

	mu         sync.Mutex
	ws         *websocket.Conn
	v1         bool
	up         chan struct{} // closed while a WebSocket is connected
	status     kernel.Status
	info       kernel.KernelInfo
	pend       map[string]*pending
	epoch      *epoch // the current incarnation of the kernel process
	done       chan struct{}
	err        error
	reconnects int
	reconnC    chan struct{} // closed (and replaced) at each reconnect
}

var _ kernel.Conn = (*Kernel)(nil)

// epoch is one incarnation of the kernel process: it ends (ch closed, err
// set) when the kernel is restarted, by us or by the server after a death.
type epoch struct {
	ch  chan struct{}
	err error
}

type pending struct {
	mu     sync.Mutex
	msgs   []kernel.Message
	signal chan struct{}
}

func (p *pending) push(m kernel.Message) {
	p.mu.Lock()
	p.msgs = append(p.msgs, m)
	p.mu.Unlock()
	select {
	case p.signal <- struct{}{}:
	default:
	}
}

func (p *pending) take() []kernel.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.msgs
	p.msgs = nil
	return m
}

// Start asks the server for a new kernel of the named kernelspec ("" = the
// server's default) and connects to it.
func Start(ctx context.Context, c *Client, name string, opts Options) (*Kernel, error) {
	opts.defaults()
	sctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	if name != "" {
		if _, specs, err := c.KernelSpecs(sctx); err != nil {
			return nil, fmt.Errorf("start remote kernel: %w", err)
		} else if _, ok := specs[name]; !ok {
			names := make([]string, 0, len(specs))
			for n := range specs {
				names = append(names, n)
			}
			return nil, fmt.Errorf("start remote kernel: %w: kernelspec %q (the server has %v)", ErrNotFound, name, names)
		}
	}
	m, err := c.StartKernel(sctx, name, opts.Path)
	if err != nil {
		return nil, err
	}
	k, err := connect(sctx, c, m, opts)
	if err != nil {
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = c.Delete(dctx, m.ID)
		dcancel()
		return nil, err
	}
	return k, nil
}

// Attach connects to a kernel already running on the server (one a person
// started in JupyterLab, or ours from an earlier sidecar). Shutdown stops
// it; Detach only lets go.
func Attach(ctx context.Context, c *Client, id string, opts Options) (*Kernel, error) {
	opts.defaults()
	sctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	m, err := c.Kernel(sctx, id)
	if err != nil {
		return nil, fmt.Errorf("attach to remote kernel %s: %w", id, err)
	}
	return connect(sctx, c, m, opts)
}

func connect(ctx context.Context, c *Client, m KernelModel, opts Options) (*Kernel, error) {
	kctx, kcancel := context.WithCancel(context.Background())
	k := &Kernel{
		c: c, id: m.ID, name: m.Name, session: newID(), opts: opts,
		log: opts.Logger.With("kernel", m.ID, "server", c.Base()),
		ctx: kctx, cancel: kcancel,
		up:      make(chan struct{}),
		status:  kernel.StatusStarting,
		pend:    map[string]*pending{},
		epoch:   &epoch{ch: make(chan struct{})},
		reconnC: make(chan struct{}),
		done:    make(chan struct{}),
	}
	if err := k.dial(ctx); err != nil {
		kcancel()
		return nil, fmt.Errorf("connect to remote kernel %s: %w", m.ID, err)
	}
	go k.readLoop()
	go k.poll()
	info, err := k.kernelInfo(ctx)
	if err != nil {
		k.cancel()
		k.closeWS()
		return nil, fmt.Errorf("remote kernel %s did not answer kernel_info: %w", m.ID, err)
	}
	k.mu.Lock()
	k.info = info
	if k.status == kernel.StatusStarting {
		k.status = kernel.StatusIdle
	}
	k.mu.Unlock()
	return k, nil
}

// ID is the kernel's id on the server.
func (k *Kernel) ID() string { return k.id }

// Name is the kernelspec name the server reports.
func (k *Kernel) Name() string { return k.name }

// Server is the server's base URL (no token).
func (k *Kernel) Server() string { return k.c.Base() }

// Framing is "v1" (binary subprotocol) or "json" (legacy).
func (k *Kernel) Framing() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.v1 {
		return "v1"
	}
	return "json"
}

// Reconnects counts re-dialled WebSockets.
func (k *Kernel) Reconnects() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reconnects
}

func (k *Kernel) dial(ctx context.Context) error {
	u := k.c.endpoint("api/kernels/"+url.PathEscape(k.id)+"/channels", true) + "?session_id=" + url.QueryEscape(k.session)
	hc := &http.Client{Transport: k.c.hc.Transport}
	do := &websocket.DialOptions{HTTPClient: hc, HTTPHeader: k.c.header()}
	if !k.opts.JSONFraming {
		do.Subprotocols = []string{Subprotocol}
	}
	ws, resp, err := websocket.Dial(ctx, u, do)
	if err != nil {
		if resp != nil {
			switch resp.StatusCode {
			case http.StatusUnauthorized, http.StatusForbidden:
				return fmt.Errorf("%w (websocket: HTTP %d); check the token", ErrUnauthorized, resp.StatusCode)
			case http.StatusNotFound:
				return fmt.Errorf("%w: kernel %s", ErrNotFound, k.id)
			}
		}
		return fmt.Errorf("websocket: %w", stripURLErr(err))
	}
	ws.SetReadLimit(512 << 20)
	k.mu.Lock()
	k.ws = ws
	k.v1 = ws.Subprotocol() == Subprotocol
	close(k.up)
	k.mu.Unlock()
	return nil
}

// markDown makes senders wait for the next connection once ws failed. up is
// replaced only while it is closed: a sender already waiting on the open one
// is then released by the next dial, which closes exactly that channel.
func (k *Kernel) markDown(ws *websocket.Conn) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ws != ws {
		return
	}
	select {
	case <-k.up:
		k.up = make(chan struct{})
	default:
	}
}

func (k *Kernel) closeWS() {
	k.mu.Lock()
	ws := k.ws
	k.mu.Unlock()
	if ws != nil {
		_ = ws.CloseNow()
	}
}

// dropConnection closes the WebSocket as a network fault would (tests).
func (k *Kernel) dropConnection() { k.closeWS() }

func (k *Kernel) readLoop() {
	for {
		k.mu.Lock()
		ws, v1 := k.ws, k.v1
		k.mu.Unlock()
		typ, data, err := ws.Read(k.ctx)
		if err != nil {
			if k.ctx.Err() != nil {
				return
			}
			k.log.Warn("websocket dropped; reconnecting", "err", err)
			if !k.reconnect(ws) {
				return
			}
			continue
		}
		var m kernel.Message
		switch {
		case v1:
			m, err = decodeV1(data)
		case typ == websocket.MessageText:
			m, err = decodeJSON(data)
		default:
			m, err = decodeLegacyBinary(data)
		}
		if err != nil {
			k.log.Warn("dropping undecodable message from the server", "err", err)
			continue
		}
		k.dispatch(m)
	}
}

// reconnect re-dials after a drop with the same session id, so that the
// server replays the messages it buffered meanwhile. false: give up (the
// kernel is dead or gone).
func (k *Kernel) reconnect(old *websocket.Conn) bool {
	k.markDown(old)
	_ = old.CloseNow()
	deadline := time.Now().Add(k.opts.ReconnectTimeout)
	delay := 100 * time.Millisecond
	var last error
	for time.Now().Before(deadline) {
		if k.ctx.Err() != nil {
			return false
		}
		ctx, cancel := context.WithTimeout(k.ctx, 10*time.Second)
		_, err := k.c.Kernel(ctx, k.id)
		if errors.Is(err, ErrNotFound) {
			cancel()
			k.die(fmt.Errorf("%w: the server no longer has kernel %s (shut down or culled)", kernel.ErrKernelDead, k.id))
			return false
		}
		if err == nil {
			err = k.dial(ctx)
		}
		cancel()
		if err == nil {
			k.mu.Lock()
			k.reconnects++
			close(k.reconnC)
			k.reconnC = make(chan struct{})
			k.mu.Unlock()
			k.log.Info("websocket reconnected")
			return true
		}
		last = err
		select {
		case <-time.After(delay):
		case <-k.ctx.Done():
			return false
		}
		if delay < 2*time.Second {
			delay *= 2
		}
	}
	k.die(fmt.Errorf("%w: lost the connection to %s and could not reconnect within %s: %v", kernel.ErrKernelDead, k.c.Base(), k.opts.ReconnectTimeout, last))
	return false
}

// poll notices a kernel the server no longer has (culled, deleted by
// someone else) even while the WebSocket stays open.
func (k *Kernel) poll() {
	t := time.NewTicker(k.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-k.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(k.ctx, 10*time.Second)
		_, err := k.c.Kernel(ctx, k.id)
		cancel()
		if errors.Is(err, ErrNotFound) {
			k.die(fmt.Errorf("%w: the server no longer has kernel %s (shut down or culled)", kernel.ErrKernelDead, k.id))
			return
		}
		// A half-open connection (a dropped network path) reads nothing and
		// errors never: a ping that gets no pong closes it, and the read loop
		// reconnects.
		k.mu.Lock()
		ws, up := k.ws, k.up
		k.mu.Unlock()
		select {
		case <-up:
		default:
			continue // reconnecting
		}
		ctx, cancel = context.WithTimeout(k.ctx, 20*time.Second)
		err = ws.Ping(ctx)
		cancel()
		if err != nil && k.ctx.Err() == nil {
			k.log.Warn("websocket ping unanswered; reconnecting", "err", err)
			_ = ws.CloseNow()
		}
	}
}

func (k *Kernel) dispatch(m kernel.Message) {
	if m.Channel == "iopub" && m.Header.MsgType == "status" {
		switch st := executionState(m.Content); st {
		case "busy":
			k.setStatus(kernel.StatusBusy)
		case "idle":
			k.setStatus(kernel.StatusIdle)
		case "starting":
			k.setStatus(kernel.StatusStarting)
		case "restarting":
			// Only the server's auto-restarter says this (a restart through
			// the REST API does not): the kernel process died.
			k.endEpoch(fmt.Errorf("%w: the kernel died and the server restarted it", kernel.ErrKernelDead))
		case "dead":
			k.die(fmt.Errorf("%w: the server reports the kernel dead (restart failed)", kernel.ErrKernelDead))
		}
	}
	k.mu.Lock()
	p := k.pend[m.ParentHeader.MsgID]
	k.mu.Unlock()
	if p != nil {
		p.push(m)
	}
}

func (k *Kernel) setStatus(s kernel.Status) {
	k.mu.Lock()
	if k.status != kernel.StatusDead {
		k.status = s
	}
	k.mu.Unlock()
}

// endEpoch fails every execution of the current incarnation; executions
// sent from now on belong to the next one.
func (k *Kernel) endEpoch(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.epoch
	e.err = err
	close(e.ch)
	k.epoch = &epoch{ch: make(chan struct{})}
}

func (k *Kernel) die(err error) {
	k.mu.Lock()
	select {
	case <-k.done:
		k.mu.Unlock()
		return
	default:
	}
	k.err = err
	k.status = kernel.StatusDead
	close(k.done)
	k.mu.Unlock()
	k.log.Warn("remote kernel dead", "err", err)
	k.cancel()
	k.closeWS()
}

func (k *Kernel) register(id string) *pending {
	p := &pending{signal: make(chan struct{}, 1)}
	k.mu.Lock()
	k.pend[id] = p
	k.mu.Unlock()
	return p
}

func (k *Kernel) unregister(id string) {
	k.mu.Lock()
	delete(k.pend, id)
	k.mu.Unlock()
}

// send writes one message, waiting for a connection while reconnecting.
func (k *Kernel) send(ctx context.Context, channel string, h kernel.Header, parent *kernel.Header, content any) error {
	hb, err := json.Marshal(h)
	if err != nil {
		return err
	}
	pb := []byte("{}")
	if parent != nil {
		if pb, err = json.Marshal(parent); err != nil {
			return err
		}
	}
	cb, err := json.Marshal(content)
	if err != nil {
		return fmt.Errorf("encode %s: %w", h.MsgType, err)
	}
	md := []byte("{}")
	for {
		k.mu.Lock()
		up, ws, v1 := k.up, k.ws, k.v1
		k.mu.Unlock()
		select {
		case <-up:
		case <-k.done:
			return k.Err()
		case <-ctx.Done():
			return ctx.Err()
		}
		var typ websocket.MessageType
		var data []byte
		if v1 {
			typ, data = websocket.MessageBinary, encodeV1(channel, hb, pb, md, cb)
		} else {
			typ = websocket.MessageText
			data, err = json.Marshal(wireMsg{Header: hb, ParentHeader: pb, Metadata: md, Content: cb, Channel: channel})
			if err != nil {
				return err
			}
		}
		k.sendMu.Lock()
		err = ws.Write(ctx, typ, data)
		k.sendMu.Unlock()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || k.ctx.Err() != nil {
			return fmt.Errorf("send %s: %w", h.MsgType, err)
		}
		// The connection dropped under us: the read loop reconnects; retry.
		k.markDown(ws)
		_ = ws.CloseNow()
	}
}

func (k *Kernel) kernelInfo(ctx context.Context) (kernel.KernelInfo, error) {
	for {
		h := newHeader("kernel_info_request", k.session)
		p := k.register(h.MsgID)
		if err := k.send(ctx, "shell", h, nil, map[string]any{}); err != nil {
			k.unregister(h.MsgID)
			return kernel.KernelInfo{}, err
		}
		t := time.NewTimer(5 * time.Second)
		var info *kernel.KernelInfo
		var idleWait <-chan time.Time
		idle := false // iopub and shell are separate sockets: either may come first
		for again := false; !again; {
			select {
			case <-p.signal:
				for _, m := range p.take() {
					if m.Channel == "shell" && m.Header.MsgType == "kernel_info_reply" && info == nil {
						info = &kernel.KernelInfo{}
						_ = json.Unmarshal(m.Content, info)
						info.Raw = m.Content
						// Its status:idle follows on iopub: wait for it (briefly)
						// so Status is idle, not the busy of this very request.
						idleWait = time.After(5 * time.Second)
					}
					if m.Channel == "iopub" && m.Header.MsgType == "status" && executionState(m.Content) == "idle" {
						idle = true
					}
					if idle && info != nil {
						t.Stop()
						k.unregister(h.MsgID)
						return *info, nil
					}
				}
			case <-idleWait:
				t.Stop()
				k.unregister(h.MsgID)
				k.setStatus(kernel.StatusIdle)
				return *info, nil
			case <-t.C:
				if info != nil {
					continue
				}
				again = true // a kernel still starting may have missed it: ask again
			case <-k.done:
				t.Stop()
				k.unregister(h.MsgID)
				return kernel.KernelInfo{}, k.Err()
			case <-ctx.Done():
				t.Stop()
				k.unregister(h.MsgID)
				return kernel.KernelInfo{}, ctx.Err()
			}
		}
		k.unregister(h.MsgID)
	}
}

// Status of the kernel as its last status message said.
func (k *Kernel) Status() kernel.Status {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.status
}

// Info is the kernel_info_reply of the connection.
func (k *Kernel) Info() kernel.KernelInfo {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.info
}

// Done is closed when the kernel died, is gone from the server, or was shut down.
func (k *Kernel) Done() <-chan struct{} { return k.done }

// Err is why the kernel is done (nil after a clean Shutdown or Detach).
func (k *Kernel) Err() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.err
}

// PID is 0: the process lives on another machine.
func (k *Kernel) PID() int { return 0 }

// Interrupt asks the server to interrupt the kernel.
func (k *Kernel) Interrupt(ctx context.Context) error {
	if err := k.c.Interrupt(ctx, k.id); err != nil {
		return fmt.Errorf("interrupt remote kernel: %w", err)
	}
	return nil
}

// Restart asks the server to restart the kernel; running executions fail
// with ErrRestarted.
func (k *Kernel) Restart(ctx context.Context) error {
	select {
	case <-k.done:
		return fmt.Errorf("restart: %w", k.Err())
	default:
	}
	_, err := k.c.Restart(ctx, k.id)
	if err != nil {
		return fmt.Errorf("restart remote kernel: %w", err)
	}
	k.endEpoch(fmt.Errorf("%w: %w", kernel.ErrKernelDead, kernel.ErrRestarted))
	info, err := k.kernelInfo(ctx)
	if err != nil {
		return fmt.Errorf("restart remote kernel: not ready: %w", err)
	}
	k.mu.Lock()
	k.info = info
	k.mu.Unlock()
	return nil
}

// Shutdown deletes the kernel on the server and closes the connection.
func (k *Kernel) Shutdown(ctx context.Context) error {
	select {
	case <-k.done:
		return nil
	default:
	}
	err := k.c.Delete(ctx, k.id)
	if errors.Is(err, ErrNotFound) {
		err = nil
	}
	k.stop(nil)
	if err != nil {
		return fmt.Errorf("shut down remote kernel: %w", err)
	}
	return nil
}

// Detach closes the connection and leaves the kernel running on the server.
func (k *Kernel) Detach() { k.stop(nil) }

func (k *Kernel) stop(err error) {
	k.mu.Lock()
	select {
	case <-k.done:
		k.mu.Unlock()
		return
	default:
	}
	k.err = err
	k.status = kernel.StatusDead
	close(k.done)
	ws := k.ws
	k.mu.Unlock()
	k.cancel()
	if ws != nil {
		_ = ws.Close(websocket.StatusNormalClosure, "")
		_ = ws.CloseNow()
	}
}

func executionState(content json.RawMessage) string {
	var c struct {
		ExecutionState string `json:"execution_state"`
	}
	_ = json.Unmarshal(content, &c)
	return c.ExecutionState
}
