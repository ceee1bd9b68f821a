package tools

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/workspace"
)

// EditCellIn are propose_edit's arguments.
type EditCellIn struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	Index        *int   `json:"index,omitempty" jsonschema:"0-based index of the cell to change; give cell_id too to be safe against edits"`
	CellID       string `json:"cell_id,omitempty" jsonschema:"id of the cell to change (preferred)"`
	NewContent   string `json:"new_content" jsonschema:"the cell's complete new source"`
}

// AppendCellIn are append_cell's arguments, named as the seed's API
// reference names them: append_cell(notebook_path, content, type).
type AppendCellIn struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	Content      string `json:"content" jsonschema:"the new cell's text"`
	Type         string `json:"type,omitempty" jsonschema:"code (default) | markdown | raw"`
}

// InsertCellIn are insert_cell's arguments: insert_cell(notebook_path,
// index, content) as the seed writes it, plus after_cell_id and type.
type InsertCellIn struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	Index        *int   `json:"index,omitempty" jsonschema:"position the new cell takes (0 = first; the cell count = last)"`
	AfterCellID  string `json:"after_cell_id,omitempty" jsonschema:"insert right after this cell instead of at index"`
	Content      string `json:"content" jsonschema:"the new cell's text"`
	Type         string `json:"type,omitempty" jsonschema:"code (default) | markdown | raw"`
}

// MoveCellIn are move_cell's arguments.
type MoveCellIn struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	Index        *int   `json:"index,omitempty" jsonschema:"0-based index of the cell to move"`
	CellID       string `json:"cell_id,omitempty" jsonschema:"id of the cell to move (preferred)"`
	ToIndex      int    `json:"to_index" jsonschema:"the index the cell has after the move"`
}

// EditOut reports an applied edit with the notebook's fresh outline.
type EditOut struct {
	NotebookPath string                       `json:"notebook_path"`
	AppliedVia   string                       `json:"applied_via" jsonschema:"editor (undoable edit in the open buffer) | disk (atomic file write)"`
	Version      int                          `json:"version" jsonschema:"buffer version after the edit (0 on disk)"`
	CellID       string                       `json:"cell_id,omitempty" jsonschema:"the cell the edit created or changed"`
	Index        int                          `json:"index" jsonschema:"its index after the edit (-1 when deleted)"`
	Cells        []notebookmodel.OutlineEntry `json:"cells" jsonschema:"the outline after the edit; of a large notebook only the cells around the edit (3 either side)"`
	CellCount    int                          `json:"cell_count" jsonschema:"cells in the notebook after the edit"`
	Note         string                       `json:"note,omitempty" jsonschema:"how an index you gave was read: the cell you saw there and where it is now"`
}

func cellKind(t string) (kind, lang string, err error) {
	switch t {
	case "", notebookmodel.KindCode:
		return notebookmodel.KindCode, "python", nil
	case notebookmodel.KindMarkdown:
		return notebookmodel.KindMarkdown, "markdown", nil
	case notebookmodel.KindRaw:
		return notebookmodel.KindRaw, "raw", nil
	}
	return "", "", fmt.Errorf("%w: type %q: use code, markdown or raw", ErrBadArguments, t)
}

// editAttempts bounds how often an edit is recomputed against a fresher
// document when someone else changed it between the read and the write.
const editAttempts = 5

// edit loads the notebook, lets build compute the ops against it, and applies
// them: to the open buffer through the editor (undoable, only at the buffer
// version the ops were computed for), else atomically to the file (only over
// the exact bytes they were computed from). When the document moved on in
// between, the edit is computed again against the fresh document: build
// resolves cells by id through the agent's view and refuses a cell that
// changed, so an edit lands on the cell the agent meant whatever else the
// human did (cell-level merge), and stale bytes are never written.
func (c *Call) edit(ctx context.Context, rawPath string, build func(ld *Loaded) (notebookmodel.Edit, error)) (EditOut, error) {
	path, err := c.ResolvePath(rawPath)
	if err != nil {
		return EditOut{}, err
	}
	for attempt := 0; ; attempt++ {
		var ld *Loaded
		if attempt == 0 {
			ld, err = c.LoadNotebook(ctx, path)
		} else {
			ld, err = c.loadCurrent(ctx, path)
		}
		if err != nil {
			return EditOut{}, err
		}
		out, next, err := c.applyOnce(ctx, path, ld, build)
		if errors.Is(err, errMovedOn) && attempt+1 < editAttempts {
			continue
		}
		if errors.Is(err, errMovedOn) {
			c.seeAll(path, ld.NB)
			return EditOut{}, fmt.Errorf("%w: %s kept changing while the edit was applied (%d attempts); nothing was written. Current outline:\n%s", ErrEditConflict, path, editAttempts, outlineText(ld.NB))
		}
		if err != nil {
			return EditOut{}, err
		}
		c.seeAll(path, next)
		c.Core.prov().agentEdit(path, next, out.CellID, c.tool, c.Agent, c.tool == "insert_cell" || c.tool == "append_cell")
		return out, nil
	}
}

// errMovedOn: the document changed between the read and the write; compute the edit again.
var errMovedOn = errors.New("document moved on")

func (c *Call) applyOnce(ctx context.Context, path string, ld *Loaded, build func(ld *Loaded) (notebookmodel.Edit, error)) (EditOut, *notebookmodel.Notebook, error) {
	e, err := build(ld)
	if err != nil {
		return EditOut{}, nil, err
	}
	if err := refuseLocked(ld.NB, e); err != nil {
		return EditOut{}, nil, err
	}
	next, applied, err := ld.NB.Apply(e)
	if err != nil {
		return EditOut{}, nil, c.resolveErr(path, ld.NB, fmt.Errorf("edit %s: %w", path, err))
	}
	ops := applied.Ops
	cellID := ""
	if e.Op != notebookmodel.EditDelete && len(applied.CellIDs) > 0 {
		cellID = applied.CellIDs[0]
	}
	out := EditOut{NotebookPath: path, CellID: cellID, Index: -1}
	if len(ops) == 0 {
		// Nothing changes (a move to where the cell already is): the editor
		// refuses an empty batch, and the file needs no write. A snapshot the
		// caller attached may be older than the buffer: decide on the buffer.
		if ld.Source == SourceBuffer {
			return EditOut{}, nil, errMovedOn
		}
		out.AppliedVia, out.Version = ld.Source, ld.Version
		if ld.Source != SourceDisk {
			out.AppliedVia = "editor"
		}
	} else if ld.Source == SourceDisk {
		if err := c.writeAtomic(path, ld.Hash, next.Bytes()); err != nil {
			return EditOut{}, nil, err
		}
		out.AppliedVia = SourceDisk
	} else {
		ed := ld.editor
		if ed == nil {
			return EditOut{}, nil, fmt.Errorf("%w: the notebook is open in an editor but no editor connection is available to apply the edit", ErrEditConflict)
		}
		res, err := ed.ApplyEdit(ctx, path, ld.Version, ops)
		if err != nil {
			return EditOut{}, nil, fmt.Errorf("apply edit to the open buffer of %s: %w", path, err)
		}
		if !res.Applied {
			if res.Version != ld.Version {
				return EditOut{}, nil, errMovedOn
			}
			return EditOut{}, nil, fmt.Errorf("%w: the editor refused the edit (%s; buffer version %d). Call get_notebook_outline and retry", ErrEditConflict, res.Reason, res.Version)
		}
		out.AppliedVia = "editor"
		out.Version = res.Version
	}
	out.neighbourhood(next, cellID, ops)
	return out, next, nil
}

// loadCurrent reads the notebook again, ignoring a snapshot the caller
// attached (it is older than the document that refused the edit).
func (c *Call) loadCurrent(ctx context.Context, path string) (*Loaded, error) {
	cc := *c
	cc.Snapshot = nil
	return cc.LoadNotebook(ctx, path)
}

func outlineText(nb *notebookmodel.Notebook) string {
	var lines []string
	for _, e := range nb.Outline() {
		lines = append(lines, fmt.Sprintf("  [%d] id=%s %s: %s", e.Index, e.ID, e.Type, e.Title))
	}
	return strings.Join(lines, "\n")
}

// writeAtomic replaces path with data through a temp file + rename, after
// checking that the file still has the content the edit was computed from.
func (c *Call) writeAtomic(path, baseHash string, data []byte) error {
	if c.Core.beforeWrite != nil {
		c.Core.beforeWrite(path)
	}
	// Writers inside this process (an agent's edit, a run stamp) take turns,
	// so each one's check and rename see the other's write.
	mu, _ := writeLocks.LoadOrStore(path, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// The check comes last, right before the rename: another program's write
	// during the (slow) fsync above is seen, and the edit is computed again.
	cur, err := workspace.ReadRegular(path, workspace.ReadOptions{Max: notebookmodel.MaxBytes})
	if err != nil {
		return fmt.Errorf("re-read %s before writing: %w", path, err)
	}
	if contentHash(cur) != baseHash {
		return errMovedOn // changed on disk while the edit was computed: nothing written, compute again
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	c.Core.disk.seen(path, contentHash(data))
	return nil
}

// writeLocks serializes this process's writes per notebook path.
var writeLocks sync.Map

func proposeEdit(ctx context.Context, c *Call, in EditCellIn) (EditOut, error) {
	c.tool = "propose_edit"
	note := ""
	out, err := c.edit(ctx, in.NotebookPath, func(ld *Loaded) (notebookmodel.Edit, error) {
		t, err := c.ResolveCell(ld.Path, ld.NB, in.Index, in.CellID)
		if err != nil {
			return notebookmodel.Edit{}, err
		}
		if err := c.unchanged(ld.Path, t.Cell, "call propose_edit"); err != nil {
			return notebookmodel.Edit{}, err
		}
		note = t.Note
		return notebookmodel.Edit{Op: notebookmodel.EditReplaceSource, Ref: notebookmodel.CellRef{CellID: t.Cell.ID}, Source: in.NewContent}, nil
	})
	out.Note = note
	return out, err
}

func newCell(source, cellType string) ([]notebookmodel.NewCell, error) {
	kind, _, err := cellKind(cellType)
	if err != nil {
		return nil, err
	}
	return []notebookmodel.NewCell{{Type: kind, Source: source}}, nil
}

func appendCell(ctx context.Context, c *Call, in AppendCellIn) (EditOut, error) {
	c.tool = "append_cell"
	return c.edit(ctx, in.NotebookPath, func(ld *Loaded) (notebookmodel.Edit, error) {
		cells, err := newCell(in.Content, in.Type)
		return notebookmodel.Edit{Op: notebookmodel.EditAppend, Cells: cells}, err
	})
}

func insertCell(ctx context.Context, c *Call, in InsertCellIn) (EditOut, error) {
	c.tool = "insert_cell"
	note := ""
	out, err := c.edit(ctx, in.NotebookPath, func(ld *Loaded) (notebookmodel.Edit, error) {
		cells, err := newCell(in.Content, in.Type)
		if err != nil {
			return notebookmodel.Edit{}, err
		}
		var at int
		switch {
		case in.AfterCellID != "":
			cell, err := ld.NB.Resolve(notebookmodel.CellRef{CellID: in.AfterCellID})
			if err != nil {
				return notebookmodel.Edit{}, c.resolveErr(ld.Path, ld.NB, err)
			}
			at = cell.Index + 1
		case in.Index != nil:
			if at, note, err = c.InsertPosition(ld.Path, ld.NB, *in.Index); err != nil {
				return notebookmodel.Edit{}, err
			}
		default:
			return notebookmodel.Edit{}, fmt.Errorf("%w: give index (the new cell's position) or after_cell_id; append_cell adds at the end", ErrBadArguments)
		}
		return notebookmodel.Edit{Op: notebookmodel.EditInsert, At: at, Cells: cells}, nil
	})
	out.Note = note
	return out, err
}

func deleteCell(ctx context.Context, c *Call, in CellIn) (EditOut, error) {
	c.tool = "delete_cell"
	note := ""
	out, err := c.edit(ctx, in.NotebookPath, func(ld *Loaded) (notebookmodel.Edit, error) {
		t, err := c.ResolveCell(ld.Path, ld.NB, in.Index, in.CellID)
		if err != nil {
			return notebookmodel.Edit{}, err
		}
		if err := c.unchanged(ld.Path, t.Cell, "call delete_cell"); err != nil {
			return notebookmodel.Edit{}, err
		}
		note = t.Note
		return notebookmodel.Edit{Op: notebookmodel.EditDelete, Ref: notebookmodel.CellRef{CellID: t.Cell.ID}}, nil
	})
	out.Note = note
	return out, err
}

func moveCell(ctx context.Context, c *Call, in MoveCellIn) (EditOut, error) {
	c.tool = "move_cell"
	note := ""
	out, err := c.edit(ctx, in.NotebookPath, func(ld *Loaded) (notebookmodel.Edit, error) {
		t, err := c.ResolveCell(ld.Path, ld.NB, in.Index, in.CellID)
		if err != nil {
			return notebookmodel.Edit{}, err
		}
		to, toNote, err := c.MovePosition(ld.Path, ld.NB, t.Cell.ID, in.ToIndex)
		if err != nil {
			return notebookmodel.Edit{}, err
		}
		note = strings.TrimPrefix(t.Note+"; "+toNote, "; ")
		note = strings.TrimSuffix(note, "; ")
		return notebookmodel.Edit{Op: notebookmodel.EditMove, Ref: notebookmodel.CellRef{CellID: t.Cell.ID}, ToIndex: to}, nil
	})
	out.Note = note
	return out, err
}
