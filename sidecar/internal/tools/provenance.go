package tools

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/nbsync"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
)

// Provenance: per cell, who created it, last edited it and last ran it
// (agent or human, when, which tool call), kept in the sidecar — never as
// edits in the notebook, so nothing lands on VS Code's undo stack. Agent
// edits are recorded by the edit path; human edits are noticed when the
// sidecar next reads the notebook (a cell it did not know, a source it did
// not write); runs come from the kernel session's execution history.

// ProvEvent is one provenance fact.
type ProvEvent struct {
	By      string    `json:"by" jsonschema:"agent | human"`
	At      time.Time `json:"at"`
	Tool    string    `json:"tool,omitempty" jsonschema:"the tool call (agent edits), or the run's task id"`
	Session string    `json:"session,omitempty" jsonschema:"the agent session that made the call"`
	Noticed bool      `json:"noticed,omitempty" jsonschema:"true when the sidecar noticed a human change on its next read (At is then an upper bound)"`
}

// CellProvenance is what the sidecar knows of one cell's history.
type CellProvenance struct {
	Created *ProvEvent `json:"created,omitempty"`
	Edited  *ProvEvent `json:"last_edited,omitempty"`
	Ran     *ProvEvent `json:"last_ran,omitempty"`
}

type provNotebook struct {
	version int               // newest editor buffer version observed (0 for files)
	known   map[string]string // cell id → source hash as last seen or written
	cells   map[string]*CellProvenance
}

type provStore struct {
	mu  sync.Mutex
	nbs map[string]*provNotebook
}

func newProvStore() *provStore { return &provStore{nbs: map[string]*provNotebook{}} }

func (c *Core) prov() *provStore { return c.provs }

func (s *provStore) notebook(path string) *provNotebook {
	p := s.nbs[path]
	if p == nil {
		p = &provNotebook{cells: map[string]*CellProvenance{}}
		s.nbs[path] = p
	}
	return p
}

func (p *provNotebook) cell(id string) *CellProvenance {
	c := p.cells[id]
	if c == nil {
		c = &CellProvenance{}
		p.cells[id] = c
	}
	return c
}

// observe compares a notebook the sidecar read with what it knew: new cells
// and changed sources it did not write are a human's (noticed now). The
// first read of a notebook is the baseline. Older buffer versions than one
// already seen are ignored (a stale attached snapshot is not a revert).
func (s *provStore) observe(ld *Loaded) {
	if ld == nil || ld.NB == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.nbs[ld.Path]
	first := p == nil
	p = s.notebook(ld.Path)
	if ld.Source != SourceDisk {
		if ld.Version < p.version {
			return
		}
		p.version = ld.Version
	}
	now := time.Now().UTC()
	seen := make(map[string]bool, ld.NB.Len())
	for _, c := range ld.NB.Cells() {
		seen[c.ID] = true
		h := hashOf(c.Source)
		old, ok := p.known[c.ID]
		switch {
		case first:
		case !ok:
			if cp := p.cell(c.ID); cp.Created == nil {
				cp.Created = &ProvEvent{By: "human", At: now, Noticed: true}
			}
		case old != h:
			p.cell(c.ID).Edited = &ProvEvent{By: "human", At: now, Noticed: true}
		}
		if p.known == nil {
			p.known = map[string]string{}
		}
		p.known[c.ID] = h
	}
	for id := range p.known {
		if !seen[id] {
			delete(p.known, id)
		}
	}
}

// agentEdit records an agent's edit (tool = the tool call) and what the
// notebook looks like after it, so the change is not taken for a human's.
func (s *provStore) agentEdit(path string, next *notebookmodel.Notebook, cellID, tool, session string, created bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.notebook(path)
	if p.known == nil {
		p.known = map[string]string{}
	}
	clear(p.known)
	for _, c := range next.Cells() {
		p.known[c.ID] = hashOf(c.Source)
	}
	if cellID == "" || tool == "" {
		return
	}
	ev := &ProvEvent{By: "agent", At: time.Now().UTC(), Tool: tool, Session: session}
	cp := p.cell(cellID)
	if created {
		cp.Created = ev
	} else {
		cp.Edited = ev
	}
}

// Provenance returns what the sidecar knows of one cell, runs included.
func (c *Call) Provenance(path, cellID string) *CellProvenance {
	s := c.Core.prov()
	s.mu.Lock()
	var out CellProvenance
	if p := s.nbs[path]; p != nil && p.cells[cellID] != nil {
		out = *p.cells[cellID]
	}
	s.mu.Unlock()
	if sess := c.Core.Sessions.Get(path); sess != nil {
		for _, e := range sess.Executions() {
			if e.CellID != cellID {
				continue
			}
			st := e.State()
			at := st.StartedAt
			if at.IsZero() {
				at = st.QueuedAt
			}
			if out.Ran == nil || at.After(out.Ran.At) {
				out.Ran = &ProvEvent{By: e.Origin, At: at.UTC(), Tool: "task " + e.ID}
			}
		}
	}
	if out.Created == nil && out.Edited == nil && out.Ran == nil {
		return nil
	}
	return &out
}

// provenanceLines is the outline's compact view: one line per cell the
// sidecar has a record of.
func (c *Call) provenanceLines(path string, nb *notebookmodel.Notebook) map[string]string {
	ids := make([]string, 0, nb.Len())
	for _, cell := range nb.Cells() {
		ids = append(ids, cell.ID)
	}
	return c.Core.ProvenanceLines(path, ids)
}

// ProvenanceLines is one line per given cell of path the sidecar has a record
// of ("created by agent 10:02:03Z (insert_cell); ran by human …"), nil when none.
// It reads no notebook and records nothing in any agent's view.
func (core *Core) ProvenanceLines(path string, cellIDs []string) map[string]string {
	c := &Call{Core: core}
	out := map[string]string{}
	for _, id := range cellIDs {
		p := c.Provenance(path, id)
		if p == nil {
			continue
		}
		var parts []string
		add := func(what string, e *ProvEvent) {
			if e == nil {
				return
			}
			s := fmt.Sprintf("%s by %s %s", what, e.By, e.At.Format("15:04:05Z"))
			if e.Tool != "" {
				s += " (" + e.Tool + ")"
			}
			parts = append(parts, s)
		}
		add("created", p.Created)
		add("edited", p.Edited)
		add("ran", p.Ran)
		out[id] = strings.Join(parts, "; ")
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// RunStamp is the sync stamp of a finished run of a cell (the value kept
// under "mcp-jupyter" in its metadata), or nil while it runs or without a
// cell. The serve door sends it with a person's final execution/state; the
// extension writes it when the notebook is saved, so a person's run adds no
// edit (no undo step) to the buffer.
func RunStamp(s *session.Session, e *session.Execution) json.RawMessage {
	if e == nil || e.CellID == "" {
		return nil
	}
	st := e.State()
	if !st.Done() {
		return nil
	}
	b, err := json.Marshal(nbsync.StampFor(nbsync.Run{Code: e.Code, Origin: e.Origin, Status: st.Status, ExecutionCount: st.ExecutionCount}, kernelID(s)))
	if err != nil {
		return nil
	}
	return b
}
