package remote

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

// lostCheck: after a reconnect, how long an execution hears nothing before
// it asks the server whether the kernel is idle (its end lost).
const lostCheck = 3 * time.Second

type inputAnswer struct {
	parent kernel.Header
	value  string
	err    error
}

// Execute sends an execute_request and returns after its execute_reply and
// its iopub status:idle. iopub messages reach h.OnIOPub in order, each
// once: a message the server replays after a reconnect is recognised by its
// msg_id and not delivered again.
func (k *Kernel) Execute(ctx context.Context, req kernel.ExecuteRequest, h kernel.Handlers) (*kernel.ExecuteReply, error) {
	select {
	case <-k.done:
		return nil, fmt.Errorf("execute: %w", k.Err())
	default:
	}
	k.mu.Lock()
	ep, reconnC := k.epoch, k.reconnC
	k.mu.Unlock()
	ue := req.UserExpressions
	if ue == nil {
		ue = map[string]string{}
	}
	content := map[string]any{
		"code": req.Code, "silent": req.Silent, "store_history": req.StoreHistory,
		"user_expressions": ue, "allow_stdin": req.AllowStdin && h.OnInput != nil, "stop_on_error": req.StopOnError,
	}
	hdr := newHeader("execute_request", k.session)
	p := k.register(hdr.MsgID)
	defer k.unregister(hdr.MsgID)
	if err := k.send(ctx, "shell", hdr, nil, content); err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}

	var (
		reply     *kernel.ExecuteReply
		idle      bool
		timedOut  bool
		timeoutC  <-chan time.Time
		graceC    <-chan time.Time
		seen      = map[string]bool{}
		inputDone = make(chan inputAnswer, 4)
		// After a reconnect: checkC probes whether the cell ended while we
		// were away without the server replaying its end to us.
		reconnected bool
		checkC      <-chan time.Time
		lastMsg     = time.Now()
	)
	if req.Timeout > 0 {
		t := time.NewTimer(req.Timeout)
		defer t.Stop()
		timeoutC = t.C
	}
	inputCtx, cancelInput := context.WithCancel(ctx)
	defer cancelInput()

	deliver := func() {
		for _, m := range p.take() {
			lastMsg = time.Now()
			if m.Header.MsgID != "" {
				if seen[m.Header.MsgID] {
					continue
				}
				seen[m.Header.MsgID] = true
			}
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
				var ir kernel.InputRequest
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
	}
	for {
		deliver()
		if reply != nil && idle {
			if timedOut {
				return reply, fmt.Errorf("execute: %w after %s (interrupted)", kernel.ErrTimeout, req.Timeout)
			}
			return reply, nil
		}
		select {
		case <-p.signal:
		case <-reconnC:
			k.mu.Lock()
			reconnC = k.reconnC
			k.mu.Unlock()
			reconnected = true
			checkC = time.After(lostCheck)
		case <-checkC:
			checkC = time.After(lostCheck)
			if !reconnected || time.Since(lastMsg) < lostCheck {
				continue
			}
			if idle && reply == nil {
				return nil, fmt.Errorf("execute: %w: the cell ended (status idle) but its execute_reply never came; another client is probably connected to this kernel, so the server kept no buffer for us", ErrLostAcrossReconnect)
			}
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			m, err := k.c.Kernel(cctx, k.id)
			cancel()
			if err == nil && m.ExecutionState == "idle" {
				// Idle on the server, silent to us: the end went to the old connection.
				deliver()
				if reply != nil && idle {
					continue
				}
				return nil, fmt.Errorf("execute: %w: the kernel is idle but the end of this cell never reached us; its outputs after the drop may be missing", ErrLostAcrossReconnect)
			}
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
			if err := k.send(ctx, "stdin", ih, &a.parent, map[string]any{"value": a.value}); err != nil {
				k.log.Warn("send input_reply", "err", err)
			}
		case <-ep.ch:
			deliver()
			k.mu.Lock()
			err := ep.err
			k.mu.Unlock()
			if timedOut {
				return nil, fmt.Errorf("execute: %w after %s: %v", kernel.ErrTimeout, req.Timeout, err)
			}
			return nil, fmt.Errorf("execute: %w", err)
		case <-k.done:
			deliver()
			err := k.Err()
			if err == nil {
				err = fmt.Errorf("%w: shut down", kernel.ErrKernelDead)
			}
			if timedOut {
				return nil, fmt.Errorf("execute: %w after %s: %v", kernel.ErrTimeout, req.Timeout, err)
			}
			return nil, fmt.Errorf("execute: %w", err)
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
			if rerr := k.Restart(ctx); rerr != nil {
				return nil, fmt.Errorf("execute: %w after %s; interrupt did not take and restart failed: %v", kernel.ErrTimeout, req.Timeout, rerr)
			}
			return nil, fmt.Errorf("execute: %w after %s; interrupt did not take, kernel restarted", kernel.ErrTimeout, req.Timeout)
		}
	}
}

func parseExecuteReply(content json.RawMessage) *kernel.ExecuteReply {
	var c struct {
		Status          string          `json:"status"`
		ExecutionCount  int             `json:"execution_count"`
		Ename           string          `json:"ename"`
		Evalue          string          `json:"evalue"`
		Traceback       []string        `json:"traceback"`
		UserExpressions json.RawMessage `json:"user_expressions"`
	}
	_ = json.Unmarshal(content, &c)
	return &kernel.ExecuteReply{Status: c.Status, ExecutionCount: c.ExecutionCount, Ename: c.Ename, Evalue: c.Evalue,
		Traceback: c.Traceback, UserExpressions: c.UserExpressions, Raw: content}
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func newHeader(msgType, session string) kernel.Header {
	return kernel.Header{
		MsgID: newID(), MsgType: msgType, Session: session, Username: "mcp-jupyter",
		Date: time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"), Version: "5.4",
	}
}
