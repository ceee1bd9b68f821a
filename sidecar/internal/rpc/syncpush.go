package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/protocol"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/nbsync"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

// DefaultSyncDelay is how long the sync checker gathers triggers before it
// checks: a burst of finished runs or keystroke-sized buffer changes costs
// one check per notebook and window, not one per trigger.
const DefaultSyncDelay = 300 * time.Millisecond

// syncPush tells the extension when a notebook's kernel state and its live
// buffer drift apart or come back together (sync/status). Triggers only mark
// a notebook as due; one goroutine checks due notebooks after a quiet delay,
// so no request waits for a check, and a status equal to the last one sent is
// not sent again.
type syncPush struct {
	s     *Server
	delay time.Duration
	wake  chan struct{}

	mu     sync.Mutex
	due    map[string]bool                    // notebook → forced (true) or only if its buffer changed
	bufs   map[string]*notebookmodel.Snapshot // latest buffer seen per notebook since the last round
	digest map[string]string                  // digest of the buffer the last check of the notebook used
	sent   map[string]protocol.SyncStatusParams
	// restarting notebooks are not checked: mid-restart the old runs still
	// count, and a passing "in sync" would only flicker.
	restarting map[string]bool
}

func newSyncPush(s *Server, delay time.Duration) *syncPush {
	if delay <= 0 {
		delay = DefaultSyncDelay
	}
	return &syncPush{s: s, delay: delay, wake: make(chan struct{}, 1),
		due: map[string]bool{}, bufs: map[string]*notebookmodel.Snapshot{}, digest: map[string]string{}, sent: map[string]protocol.SyncStatusParams{}, restarting: map[string]bool{}}
}

// schedule asks for a check of the notebook in the next round.
func (p *syncPush) schedule(path string) {
	p.mu.Lock()
	p.due[path] = true
	p.mu.Unlock()
	p.poke()
}

// sawBuffer notes a live buffer that came by (a request's snapshot or an
// editor/snapshot answer): the notebook is checked if the buffer differs from
// the one its last check used. The digest is computed in the round, not here.
func (p *syncPush) sawBuffer(snap *notebookmodel.Snapshot) {
	if snap == nil || snap.Path == "" {
		return
	}
	p.mu.Lock()
	p.bufs[snap.Path] = snap
	if _, ok := p.due[snap.Path]; !ok {
		p.due[snap.Path] = false
	}
	p.mu.Unlock()
	p.poke()
}

// kernelStatus follows the notebook's kernel status (in event order) and
// schedules a check when it settles: started, restarted, re-attached or dead,
// the state the notebook shows may be gone.
func (p *syncPush) kernelStatus(path, status string) {
	switch status {
	case string(kernel.StatusBusy):
		return
	case "restarting":
		p.mu.Lock()
		p.restarting[path] = true
		p.mu.Unlock()
		return
	}
	p.mu.Lock()
	delete(p.restarting, path)
	p.mu.Unlock()
	p.schedule(path)
}

func (p *syncPush) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run checks due notebooks, one round per delay at most, until ctx ends.
func (p *syncPush) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		// The first trigger opens the window; later ones join it.
		timer.Reset(p.delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		p.mu.Lock()
		due, bufs := p.due, p.bufs
		p.due, p.bufs = map[string]bool{}, map[string]*notebookmodel.Snapshot{}
		p.mu.Unlock()
		for path, forced := range due {
			p.check(ctx, path, forced, bufs[path])
		}
	}
}

// check recomputes the notebook's sync status and sends it if it changed.
func (p *syncPush) check(ctx context.Context, path string, forced bool, seen *notebookmodel.Snapshot) {
	if ctx.Err() != nil {
		return
	}
	p.mu.Lock()
	lastDigest, checked := p.digest[path]
	restarting := p.restarting[path]
	p.mu.Unlock()
	if restarting {
		return // the end of the restart schedules a check
	}
	if !forced && checked && seen != nil && seen.Digest() == lastDigest {
		return // the buffer the last check used: nothing new
	}
	sess := p.s.core.Sessions.Get(path)
	if sess == nil {
		// No kernel, no state to drift: lift a warning that is still up.
		p.send(ctx, path, protocol.SyncStatusParams{NotebookPath: path, Reason: "the notebook has no kernel", DirtyCells: []string{}}, true)
		p.forget(path)
		return
	}
	if busy(sess) {
		// The end of the last run schedules the check that counts. Checking
		// earlier would flicker: every step of a burst (run all, a sync), or
		// "edited" for the very cell whose new code is running.
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	snap, err := p.s.fetchSnapshot(cctx, path)
	if err != nil {
		p.s.logger.Debug("sync check: read the open buffer", "notebook", path, "err", err)
		return
	}
	if snap == nil {
		return // not open in the editor: nobody to tell
	}
	named := *snap
	named.Path = path // the tool core must take this buffer for the notebook, however the extension spells the path
	snap = &named
	args, _ := json.Marshal(map[string]string{"notebook_path": path})
	out, err := p.s.reg.Invoke(cctx, &tools.Call{Core: p.s.core, Snapshot: snap}, "detect_sync_needed", args)
	if err != nil {
		if !errors.Is(err, tools.ErrNoKernel) {
			p.s.logger.Debug("sync check: detect_sync_needed", "notebook", path, "err", err)
		}
		return
	}
	rep, ok := out.(nbsync.Report)
	if !ok {
		p.s.logger.Error("sync check: detect_sync_needed answered an unexpected type", "type", reflect.TypeOf(out).String())
		return
	}
	p.mu.Lock()
	p.digest[path] = snap.Digest()
	p.mu.Unlock()
	st := protocol.SyncStatusParams{NotebookPath: path, SyncNeeded: rep.SyncNeeded, Reason: rep.Reason, DirtyCells: []string{}}
	for _, d := range rep.DirtyCells {
		st.DirtyCells = append(st.DirtyCells, d.CellID)
	}
	p.send(ctx, path, st, false)
}

// send notifies the status unless it equals the last one sent. Before any
// status the extension assumes the notebook is in sync, so an in-sync first
// status is not sent. onlyToClear sends a status only to lift a warning.
func (p *syncPush) send(ctx context.Context, path string, st protocol.SyncStatusParams, onlyToClear bool) {
	p.mu.Lock()
	last, had := p.sent[path]
	switch {
	case onlyToClear && (!had || !last.SyncNeeded):
		p.mu.Unlock()
		return
	case !had && !st.SyncNeeded:
		p.sent[path] = st
		p.mu.Unlock()
		return
	case had && reflect.DeepEqual(last, st):
		p.mu.Unlock()
		return
	}
	p.sent[path] = st
	p.mu.Unlock()
	if err := p.s.conn.Notify(ctx, protocol.MethodSyncStatus, st); err != nil {
		p.s.logger.Debug("sync/status not sent", "notebook", path, "err", err)
	}
}

func (p *syncPush) forget(path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.digest, path)
	delete(p.sent, path)
}

// busy reports whether runs wait in the session's queue or run.
func busy(s *session.Session) bool {
	for _, e := range s.Executions() {
		if st := e.State().Status; st == session.StatusQueued || st == session.StatusRunning {
			return true
		}
	}
	return false
}
