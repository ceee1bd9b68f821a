package jsapi

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
)

// HandleMethods keep a notebook open across calls, so an editor sends its
// buffer once and then only its changes, and queries never re-send or
// re-parse an unchanged buffer:
//
//	open(snapshot: Snapshot) → {handle: number}
//	splice(handle, {start, deleteCount, cells: SnapshotCell[], version}) → {cells: number}
//	outlineOf(handle), searchOf(handle, query), readCellOf(handle, ref, opts?)
//	close(handle) → {closed: boolean}
//
// splice replaces deleteCount cells at start with cells (a changed cell is a
// splice of 1 with its new content); the model is rebuilt lazily, on the
// next query after a change.
var HandleMethods = []string{"open", "splice", "outlineOf", "searchOf", "readCellOf", "close"}

// Splice is splice's argument.
type Splice struct {
	Start       int                          `json:"start"`
	DeleteCount int                          `json:"deleteCount"`
	Cells       []notebookmodel.SnapshotCell `json:"cells"`
	// Version is the buffer version after the change.
	Version int `json:"version"`
}

// rawJSON is a result already encoded as JSON (Call sends it as is).
type rawJSON string

type openDoc struct {
	snap    notebookmodel.Snapshot
	nb      *notebookmodel.Notebook // nil after a change, until the next query
	outline rawJSON                 // the encoded outline, cached until the next change
}

func (d *openDoc) model() *notebookmodel.Notebook {
	if d.nb == nil {
		d.nb = notebookmodel.FromSnapshot(d.snap)
	}
	return d.nb
}

var handles = struct {
	sync.Mutex
	next int
	docs map[int]*openDoc
}{docs: map[int]*openDoc{}}

// maxHandles bounds the open documents (an editor that forgets to close).
const maxHandles = 4096

// callHandle serves HandleMethods; ok is false for any other method.
func callHandle(method string, args []string, arg func(int, any) error, need func(int) error) (res any, ok bool, err error) {
	switch method {
	case "open":
		var s notebookmodel.Snapshot
		if err := need(1); err != nil {
			return nil, true, err
		}
		if err := arg(0, &s); err != nil {
			return nil, true, err
		}
		handles.Lock()
		defer handles.Unlock()
		if len(handles.docs) >= maxHandles {
			return nil, true, fmt.Errorf("%w: %d notebooks open: close some first", errBadArgument, len(handles.docs))
		}
		handles.next++
		handles.docs[handles.next] = &openDoc{snap: s}
		return map[string]int{"handle": handles.next}, true, nil
	case "splice", "outlineOf", "searchOf", "readCellOf", "close":
	default:
		return nil, false, nil
	}
	if err := need(1); err != nil {
		return nil, true, err
	}
	var h int
	if err := arg(0, &h); err != nil {
		return nil, true, err
	}
	handles.Lock()
	defer handles.Unlock()
	d := handles.docs[h]
	if d == nil {
		return nil, true, fmt.Errorf("%w: no open notebook with handle %d (open it first)", errBadArgument, h)
	}
	switch method {
	case "close":
		delete(handles.docs, h)
		return map[string]bool{"closed": true}, true, nil
	case "splice":
		var sp Splice
		if err := need(2); err != nil {
			return nil, true, err
		}
		if err := arg(1, &sp); err != nil {
			return nil, true, err
		}
		n := len(d.snap.Cells)
		if sp.Start < 0 || sp.DeleteCount < 0 || sp.Start > n || sp.Start+sp.DeleteCount > n {
			return nil, true, fmt.Errorf("%w: splice %d+%d of %d cells", errBadArgument, sp.Start, sp.DeleteCount, n)
		}
		cells := make([]notebookmodel.SnapshotCell, 0, n-sp.DeleteCount+len(sp.Cells))
		cells = append(cells, d.snap.Cells[:sp.Start]...)
		cells = append(cells, sp.Cells...)
		cells = append(cells, d.snap.Cells[sp.Start+sp.DeleteCount:]...)
		d.snap.Cells, d.snap.Version, d.nb, d.outline = cells, sp.Version, nil, ""
		return map[string]int{"cells": len(cells)}, true, nil
	case "outlineOf":
		if d.outline == "" {
			b, err := json.Marshal(d.model().Outline())
			if err != nil {
				return nil, true, err
			}
			d.outline = rawJSON(b)
		}
		return d.outline, true, nil
	case "searchOf":
		var q notebookmodel.SearchQuery
		if err := need(2); err != nil {
			return nil, true, err
		}
		if err := arg(1, &q); err != nil {
			return nil, true, err
		}
		res, err := d.model().Search(q)
		return res, true, err
	default: // readCellOf
		var ref notebookmodel.CellRef
		var opts notebookmodel.ReadOptions
		if err := need(2); err != nil {
			return nil, true, err
		}
		if err := arg(1, &ref); err != nil {
			return nil, true, err
		}
		if err := arg(2, &opts); err != nil {
			return nil, true, err
		}
		res, err := d.model().ReadCell(ref, opts)
		return res, true, err
	}
}
