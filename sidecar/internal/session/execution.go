package session

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/output"
)

// Execution is one queued or finished cell run.
type Execution struct {
	ID     string // task id
	CellID string
	Origin string
	Code   string
	// Epoch is the session's restart count when the execution was queued:
	// executions of an earlier epoch left no state in the current kernel (sync).
	Epoch int

	s   *Session
	req Request
	log *output.Log

	mu      sync.Mutex
	state   ExecState
	changed chan struct{} // closed and replaced on every change: wakes long-polls
	done    chan struct{}
	input   *kernel.InputRequest
	inputCh chan string
}

// Chunk is what Read returns.
type Chunk struct {
	Ops   []output.Op `json:"ops"`
	Next  int         `json:"next"`
	Done  bool        `json:"done"`
	State ExecState   `json:"state"`
}

// State is a snapshot of the execution's state.
func (e *Execution) State() ExecState {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state
}

// Stats counts every output byte the kernel sent for this execution.
func (e *Execution) Stats() output.Stats { return e.log.Stats() }

// Outputs are the merged nbformat outputs so far (MIME bundles untouched).
func (e *Execution) Outputs() []json.RawMessage { return e.log.Outputs() }

// Read returns the ops from seq since on. When there are none yet and the
// execution is not done it waits up to wait for some (long-poll).
func (e *Execution) Read(ctx context.Context, since int, wait time.Duration) Chunk {
	var timer <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timer = t.C
	}
	for {
		e.mu.Lock()
		changed := e.changed
		st := e.state
		e.mu.Unlock()
		ops, next := e.log.Ops(since)
		done := st.Done()
		if len(ops) > 0 || done || wait <= 0 {
			return Chunk{Ops: ops, Next: next, Done: done, State: st}
		}
		select {
		case <-changed:
		case <-timer:
			return Chunk{Ops: ops, Next: next, Done: done, State: st}
		case <-ctx.Done():
			return Chunk{Ops: ops, Next: next, Done: done, State: st}
		}
	}
}

// Wait blocks until the execution finished.
func (e *Execution) Wait(ctx context.Context) (ExecState, error) {
	select {
	case <-e.done:
		return e.State(), nil
	case <-ctx.Done():
		return e.State(), fmt.Errorf("wait for %s: %w", e.ID, ctx.Err())
	}
}

// Done is closed when the execution finished.
func (e *Execution) Done() <-chan struct{} { return e.done }

// PendingInput is the kernel's input request waiting for an answer, nil when none.
func (e *Execution) PendingInput() *kernel.InputRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.input == nil {
		return nil
	}
	r := *e.input
	return &r
}

// SubmitInput answers the pending input request.
func (e *Execution) SubmitInput(value string) error {
	e.mu.Lock()
	ch := e.inputCh
	e.input, e.inputCh = nil, nil
	e.mu.Unlock()
	if ch == nil {
		return fmt.Errorf("input for %s: %w", e.ID, ErrNoPendingInput)
	}
	ch <- value
	e.notify()
	return nil
}

// awaitInput is the kernel's OnInput: it publishes the request and waits for
// SubmitInput (or the end of the execution).
func (e *Execution) awaitInput(ctx context.Context, req kernel.InputRequest) (string, error) {
	ch := make(chan string, 1)
	e.mu.Lock()
	r := req
	e.input, e.inputCh = &r, ch
	e.mu.Unlock()
	e.notify()
	e.s.m.emit(Event{NotebookPath: e.s.path, TaskID: e.ID, CellID: e.CellID, Origin: e.Origin, Kind: EventInput, Input: &r})
	var timeout <-chan time.Time
	if e.req.InputTimeout > 0 {
		t := time.NewTimer(e.req.InputTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case v := <-ch:
		return v, nil
	case <-timeout:
		e.mu.Lock()
		if e.inputCh == ch {
			e.input, e.inputCh = nil, nil
		}
		e.mu.Unlock()
		e.notify()
		return "", fmt.Errorf("no answer to %q within %s", req.Prompt, e.req.InputTimeout)
	case <-ctx.Done():
		e.mu.Lock()
		if e.inputCh == ch {
			e.input, e.inputCh = nil, nil
		}
		e.mu.Unlock()
		return "", ctx.Err()
	}
}

func (e *Execution) notify() {
	e.mu.Lock()
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()
}

func (e *Execution) finish(status string, count int, ename, evalue string) {
	e.mu.Lock()
	if e.state.Done() {
		e.mu.Unlock()
		return
	}
	e.state.Status = status
	if count > 0 {
		e.state.ExecutionCount = count
	}
	e.state.EndedAt = time.Now()
	e.state.Ename, e.state.Evalue = ename, evalue
	e.input, e.inputCh = nil, nil
	close(e.done)
	e.mu.Unlock()
	e.notify()
	e.s.emitState(e)
}
