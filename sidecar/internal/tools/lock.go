package tools

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
)

// LockMetadataKey is the cell metadata key a person sets to lock a cell
// against agent edits (VS Code: "Lock Cell Against Agent Edits"):
// {"by": "who", "at": "RFC 3339 time"}.
const LockMetadataKey = "mcp-jupyter-lock"

// ErrCellLocked refuses an agent's edit of a cell a person locked.
var ErrCellLocked = errors.New("cell locked against agent edits")

type cellLock struct {
	By string `json:"by"`
	At string `json:"at"`
}

// lockOf returns the cell's lock, if a person set one.
func lockOf(metadata json.RawMessage) (cellLock, bool) {
	var m map[string]json.RawMessage
	if len(metadata) == 0 || json.Unmarshal(metadata, &m) != nil {
		return cellLock{}, false
	}
	raw, ok := m[LockMetadataKey]
	if !ok || string(raw) == "null" || string(raw) == "false" {
		return cellLock{}, false
	}
	var l cellLock
	_ = json.Unmarshal(raw, &l) // any other value still locks
	return l, true
}

// refuseLocked refuses an edit that changes, deletes or moves a locked cell of nb.
func refuseLocked(nb *notebookmodel.Notebook, e notebookmodel.Edit) error {
	switch e.Op {
	case notebookmodel.EditReplaceSource, notebookmodel.EditDelete, notebookmodel.EditMove:
	default:
		return nil
	}
	cell, err := nb.Resolve(e.Ref)
	if err != nil {
		return nil // Apply reports it
	}
	return lockedErr(cell)
}

// lockedErr refuses an edit of cell when a person locked it, saying who and when.
func lockedErr(cell notebookmodel.Cell) error {
	l, ok := lockOf(cell.Metadata)
	if !ok {
		return nil
	}
	who := l.By
	if who == "" {
		who = "a person"
	}
	when := ""
	if l.At != "" {
		when = " on " + l.At
	}
	return fmt.Errorf("%w: cell %s (index %d) was locked by %s%s; nothing was changed. Ask them to unlock it, or propose the change in a new cell", ErrCellLocked, cell.ID, cell.Index, who, when)
}
