package tools

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
)

// The agent's view: per agent session and notebook, the ordered cell ids the
// last answer that showed positions (outline, edit result, refusal) gave it,
// and per cell the source hash it last saw (outline, read, search, edit). An
// index-only reference is read through the view: the index names the cell the
// agent saw there, wherever it is now; a cell that is gone is refused with the
// fresh outline. An edit to a cell whose source changed since the agent last
// saw it is refused with its current text (cell-level merge), while edits to
// other cells apply whatever else changed.
//
// Call.Agent names the session (the doors set it: one per MCP session,
// attach connection or stdio process; one shared view for the extension's
// language-model tools). Calls without an Agent (bookkeeping such as run
// stamps) neither read nor change any view.

type viewKey struct{ agent, path string }

// agentView is what one agent session was last shown of one notebook.
type agentView struct {
	order []string          // cell ids by index, as last shown
	seen  map[string]string // cell id → source hash last shown
}

type viewStore struct {
	mu    sync.Mutex
	views map[viewKey]*agentView
}

func newViewStore() *viewStore { return &viewStore{views: map[viewKey]*agentView{}} }

// get returns a copy of the view, or nil when the agent has none yet.
func (s *viewStore) get(agent, path string) *agentView {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.views[viewKey{agent, path}]
	if v == nil {
		return nil
	}
	cp := &agentView{order: append([]string(nil), v.order...), seen: make(map[string]string, len(v.seen))}
	for k, h := range v.seen {
		cp.seen[k] = h
	}
	return cp
}

// showAll records that the agent was shown every cell of nb (positions and hashes).
func (s *viewStore) showAll(agent, path string, nb *notebookmodel.Notebook) {
	order := make([]string, 0, nb.Len())
	seen := make(map[string]string, nb.Len())
	for _, c := range nb.Cells() {
		order = append(order, c.ID)
		seen[c.ID] = hashOf(c.Source)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.views[viewKey{agent, path}] = &agentView{order: order, seen: seen}
}

// showCell records that the agent saw one cell's source (a read, a search
// hit): its hash, not a new order.
func (s *viewStore) showCell(agent, path, id, source string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := viewKey{agent, path}
	v := s.views[k]
	if v == nil {
		v = &agentView{seen: map[string]string{}}
		s.views[k] = v
	}
	v.seen[id] = hashOf(source)
}

func hashOf(source string) string { return contentHash([]byte(source)) }

// seeAll records nb as shown to this call's agent (no-op without an agent).
func (c *Call) seeAll(path string, nb *notebookmodel.Notebook) {
	if c.Agent != "" && nb != nil {
		c.Core.views.showAll(c.Agent, path, nb)
	}
}

func (c *Call) seeCell(path string, cell notebookmodel.Cell) {
	if c.Agent != "" {
		c.Core.views.showCell(c.Agent, path, cell.ID, cell.Source)
	}
}

func (c *Call) view(path string) *agentView {
	if c.Agent == "" {
		return nil
	}
	return c.Core.views.get(c.Agent, path)
}

// refusal is a stale-view refusal carrying nb's fresh outline, which thereby
// counts as shown to the agent.
func (c *Call) refusal(path string, nb *notebookmodel.Notebook, ref notebookmodel.CellRef, format string, a ...any) error {
	c.seeAll(path, nb)
	return staleError(&notebookmodel.StaleViewError{Ref: ref, Reason: fmt.Sprintf(format, a...), Version: nb.Version(), Outline: nb.Outline()})
}

// resolveErr turns a Resolve failure into the answer the agent gets: a
// stale view carries the outline and records it as shown.
func (c *Call) resolveErr(path string, nb *notebookmodel.Notebook, err error) error {
	if errors.Is(err, notebookmodel.ErrStaleView) {
		c.seeAll(path, nb)
	}
	return staleError(err)
}

// Target is the cell a reference resolved to, and a note for the agent when
// its reference was read through its view.
type Target struct {
	Cell notebookmodel.Cell
	Note string
}

// ResolveCell finds the cell an agent's (index, cell_id) reference means in
// the current document nb, through the agent's view:
//   - cell_id given: that cell, wherever it is now (when the index agrees
//     with the view or no index is given); an index contradicting both the
//     view and the document is refused with the outline.
//   - index only: the cell the agent saw at that index, wherever it is now;
//     refused with the fresh outline when that cell is gone.
//   - no view yet: the current document decides, and the answer is recorded.
func (c *Call) ResolveCell(path string, nb *notebookmodel.Notebook, index *int, cellID string) (Target, error) {
	if index == nil && cellID == "" {
		return Target{}, fmt.Errorf("%w: give index or cell_id (see get_notebook_outline)", ErrBadArguments)
	}
	v := c.view(path)
	ref := notebookmodel.CellRef{Index: index, CellID: cellID}
	if v != nil && len(v.order) > 0 && index != nil {
		i := *index
		switch {
		case cellID != "":
			if i >= 0 && i < len(v.order) && v.order[i] == cellID {
				ref = notebookmodel.CellRef{CellID: cellID} // consistent with what the agent saw
			}
		case i < 0 || i >= len(v.order):
			return Target{}, c.refusal(path, nb, ref, "index %d is outside the %d cells of the outline you last saw", i, len(v.order))
		default:
			id := v.order[i]
			if nb.IndexOf(id) < 0 {
				return Target{}, c.refusal(path, nb, ref, "the cell you saw at index %d (id %q) no longer exists", i, id)
			}
			ref = notebookmodel.CellRef{CellID: id}
		}
	}
	cell, err := nb.Resolve(ref)
	if err != nil {
		return Target{}, c.resolveErr(path, nb, err)
	}
	t := Target{Cell: cell}
	if index != nil && *index != cell.Index {
		if cellID != "" {
			t.Note = fmt.Sprintf("cell %s is now at index %d (you gave index %d)", cell.ID, cell.Index, *index)
		} else {
			t.Note = fmt.Sprintf("index %d is cell %s as you last saw it, now at index %d", *index, cell.ID, cell.Index)
		}
	}
	return t, nil
}

// InsertPosition turns an agent's insert index (a position in its view) into
// a position in nb: the new cell takes the place of the cell the agent saw at
// that index (or follows the one it saw before it).
func (c *Call) InsertPosition(path string, nb *notebookmodel.Notebook, at int) (int, string, error) {
	n := nb.Len()
	v := c.view(path)
	if v == nil || len(v.order) == 0 {
		if at < 0 || at > n {
			return 0, "", fmt.Errorf("%w: index %d out of range: the notebook has %d cells, insert at 0…%d", ErrBadArguments, at, n, n)
		}
		return at, "", nil
	}
	m := len(v.order)
	if at < 0 || at > m {
		return 0, "", fmt.Errorf("%w: index %d out of range: the outline you last saw has %d cells, insert at 0…%d", ErrBadArguments, at, m, m)
	}
	pos := -1
	if at < m {
		if j := nb.IndexOf(v.order[at]); j >= 0 {
			pos = j
		}
	}
	if pos < 0 && at > 0 {
		if j := nb.IndexOf(v.order[at-1]); j >= 0 {
			pos = j + 1
		}
	}
	if pos < 0 {
		return 0, "", c.refusal(path, nb, notebookmodel.CellRef{Index: &at}, "the cells around index %d of the outline you last saw are gone", at)
	}
	note := ""
	if pos != at {
		note = fmt.Sprintf("index %d of the outline you last saw is index %d now", at, pos)
	}
	return pos, note, nil
}

// MovePosition turns a move's to_index (the index the agent wants the cell to
// have, in its view) into one in nb: next to the same neighbour.
func (c *Call) MovePosition(path string, nb *notebookmodel.Notebook, id string, to int) (int, string, error) {
	n := nb.Len()
	v := c.view(path)
	if v == nil || len(v.order) == 0 || indexIn(v.order, id) < 0 {
		if to < 0 || to >= n {
			return 0, "", fmt.Errorf("%w: to_index %d out of range 0…%d", ErrBadArguments, to, n-1)
		}
		return to, "", nil
	}
	if to < 0 || to >= len(v.order) {
		return 0, "", fmt.Errorf("%w: to_index %d out of range 0…%d of the outline you last saw", ErrBadArguments, to, len(v.order)-1)
	}
	rest := make([]string, 0, len(v.order))
	for _, x := range v.order {
		if x != id {
			rest = append(rest, x)
		}
	}
	cur := make([]string, 0, n)
	for _, cell := range nb.Cells() {
		if cell.ID != id {
			cur = append(cur, cell.ID)
		}
	}
	pos := -1
	if to > 0 {
		if j := indexIn(cur, rest[to-1]); j >= 0 {
			pos = j + 1
		}
	}
	if pos < 0 && to < len(rest) {
		if j := indexIn(cur, rest[to]); j >= 0 {
			pos = j
		}
	}
	if pos < 0 {
		if to == 0 {
			pos = 0
		} else {
			return 0, "", c.refusal(path, nb, notebookmodel.CellRef{CellID: id}, "the cells around to_index %d of the outline you last saw are gone", to)
		}
	}
	note := ""
	if pos != to {
		note = fmt.Sprintf("to_index %d of the outline you last saw is index %d now", to, pos)
	}
	return pos, note, nil
}

func indexIn(ids []string, id string) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}

// unchanged refuses an edit of cell when its source changed since the agent
// last saw it (cell-level merge): the refusal carries the current text, which
// thereby counts as seen.
func (c *Call) unchanged(path string, cell notebookmodel.Cell, what string) error {
	if err := lockedErr(cell); err != nil {
		return err // the person's lock says more than "re-read it"
	}
	v := c.view(path)
	if v == nil {
		return nil
	}
	h, ok := v.seen[cell.ID]
	if !ok || h == hashOf(cell.Source) {
		return nil
	}
	c.seeCell(path, cell)
	return fmt.Errorf("%w: cell %s (index %d) was changed by someone else since you last read it; nothing was written. Its current source is:\n%s\n— %s again against this text if it still applies",
		ErrEditConflict, cell.ID, cell.Index, fence(cell.Source), what)
}

func fence(s string) string {
	f := "```"
	for strings.Contains(s, f) {
		f += "`"
	}
	return f + "\n" + s + "\n" + f
}
