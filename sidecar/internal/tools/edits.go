package tools

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

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

// AppendCellIn are append_cell's arguments.
type AppendCellIn struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	Source       string `json:"source" jsonschema:"the new cell's text"`
	CellType     string `json:"cell_type,omitempty" jsonschema:"code (default) | markdown | raw"`
}

// InsertCellIn are insert_cell's arguments.
type InsertCellIn struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	Index        *int   `json:"index,omitempty" jsonschema:"position the new cell takes (0 = first; the cell count = last)"`
	AfterCellID  string `json:"after_cell_id,omitempty" jsonschema:"insert right after this cell instead of at index"`
	Source       string `json:"source" jsonschema:"the new cell's text"`
	CellType     string `json:"cell_type,omitempty" jsonschema:"code (default) | markdown | raw"`
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
	Cells        []notebookmodel.OutlineEntry `json:"cells" jsonschema:"the notebook outline after the edit"`
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
	return "", "", fmt.Errorf("%w: cell_type %q: use code, markdown or raw", ErrBadArguments, t)
}

// edit loads the notebook, lets build compute the ops against it, and applies
// them: to the open buffer through the editor (undoable, refused when the
// buffer moved on), else atomically to the file (refused when it changed on
// disk since this server last read it).
func (c *Call) edit(ctx context.Context, rawPath string, build func(ld *Loaded) (notebookmodel.Edit, error)) (EditOut, error) {
	path, err := c.ResolvePath(rawPath)
	if err != nil {
		return EditOut{}, err
	}
	prevHash, hadHash := c.Core.disk.last(path)
	ld, err := c.LoadNotebook(ctx, path)
	if err != nil {
		return EditOut{}, err
	}
	if ld.Source == SourceDisk && hadHash && prevHash != ld.Hash {
		return EditOut{}, fmt.Errorf("%w: %s was modified on disk by another program since this server last read it; nothing was written. Call get_notebook_outline to see the current cells, then retry", ErrEditConflict, path)
	}
	e, err := build(ld)
	if err != nil {
		return EditOut{}, err
	}
	next, applied, err := ld.NB.Apply(e)
	if err != nil {
		return EditOut{}, staleError(fmt.Errorf("edit %s: %w", path, err))
	}
	ops := applied.Ops
	cellID := ""
	if e.Op != notebookmodel.EditDelete && len(applied.CellIDs) > 0 {
		cellID = applied.CellIDs[0]
	}
	out := EditOut{NotebookPath: path, CellID: cellID, Index: -1}
	if ld.Source == SourceDisk {
		if err := c.writeAtomic(path, ld.Hash, next.Bytes()); err != nil {
			return EditOut{}, err
		}
		out.AppliedVia = SourceDisk
	} else {
		ed := ld.editor
		if ed == nil {
			return EditOut{}, fmt.Errorf("%w: the notebook is open in an editor but no editor connection is available to apply the edit", ErrEditConflict)
		}
		res, err := ed.ApplyEdit(ctx, path, ld.Version, ops)
		if err != nil {
			return EditOut{}, fmt.Errorf("apply edit to the open buffer of %s: %w", path, err)
		}
		if !res.Applied {
			return EditOut{}, fmt.Errorf("%w: the editor refused the edit (%s; buffer version %d, expected %d). Call get_notebook_outline and retry", ErrEditConflict, res.Reason, res.Version, ld.Version)
		}
		out.AppliedVia = "editor"
		out.Version = res.Version
	}
	out.Cells = next.Outline()
	if out.Cells == nil {
		out.Cells = []notebookmodel.OutlineEntry{}
	}
	for _, e := range out.Cells {
		if e.ID == cellID && cellID != "" {
			out.Index = e.Index
		}
	}
	return out, nil
}

// writeAtomic replaces path with data through a temp file + rename, after
// checking that the file still has the content the edit was computed from.
func (c *Call) writeAtomic(path, baseHash string, data []byte) error {
	cur, err := workspace.ReadRegular(path, workspace.ReadOptions{Max: notebookmodel.MaxBytes})
	if err != nil {
		return fmt.Errorf("re-read %s before writing: %w", path, err)
	}
	if contentHash(cur) != baseHash {
		return fmt.Errorf("%w: %s changed on disk while the edit was computed; nothing was written. Call get_notebook_outline and retry", ErrEditConflict, path)
	}
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
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	c.Core.disk.seen(path, contentHash(data))
	return nil
}

func needRef(index *int, cellID string) (notebookmodel.CellRef, error) {
	if index == nil && cellID == "" {
		return notebookmodel.CellRef{}, fmt.Errorf("%w: give index or cell_id (see get_notebook_outline)", ErrBadArguments)
	}
	return notebookmodel.CellRef{Index: index, CellID: cellID}, nil
}

func proposeEdit(ctx context.Context, c *Call, in EditCellIn) (EditOut, error) {
	return c.edit(ctx, in.NotebookPath, func(ld *Loaded) (notebookmodel.Edit, error) {
		ref, err := needRef(in.Index, in.CellID)
		return notebookmodel.Edit{Op: notebookmodel.EditReplaceSource, Ref: ref, Source: in.NewContent}, err
	})
}

func newCell(source, cellType string) ([]notebookmodel.NewCell, error) {
	kind, _, err := cellKind(cellType)
	if err != nil {
		return nil, err
	}
	return []notebookmodel.NewCell{{Type: kind, Source: source}}, nil
}

func appendCell(ctx context.Context, c *Call, in AppendCellIn) (EditOut, error) {
	return c.edit(ctx, in.NotebookPath, func(ld *Loaded) (notebookmodel.Edit, error) {
		cells, err := newCell(in.Source, in.CellType)
		return notebookmodel.Edit{Op: notebookmodel.EditAppend, Cells: cells}, err
	})
}

func insertCell(ctx context.Context, c *Call, in InsertCellIn) (EditOut, error) {
	return c.edit(ctx, in.NotebookPath, func(ld *Loaded) (notebookmodel.Edit, error) {
		cells, err := newCell(in.Source, in.CellType)
		if err != nil {
			return notebookmodel.Edit{}, err
		}
		n := ld.NB.Len()
		var at int
		switch {
		case in.AfterCellID != "":
			cell, err := ld.NB.Resolve(notebookmodel.CellRef{CellID: in.AfterCellID})
			if err != nil {
				return notebookmodel.Edit{}, staleError(err)
			}
			at = cell.Index + 1
		case in.Index != nil:
			at = *in.Index
			if at < 0 || at > n {
				return notebookmodel.Edit{}, fmt.Errorf("%w: index %d out of range: the notebook has %d cells, insert at 0…%d", ErrBadArguments, at, n, n)
			}
		default:
			return notebookmodel.Edit{}, fmt.Errorf("%w: give index (the new cell's position) or after_cell_id; append_cell adds at the end", ErrBadArguments)
		}
		return notebookmodel.Edit{Op: notebookmodel.EditInsert, At: at, Cells: cells}, nil
	})
}

func deleteCell(ctx context.Context, c *Call, in CellIn) (EditOut, error) {
	return c.edit(ctx, in.NotebookPath, func(ld *Loaded) (notebookmodel.Edit, error) {
		ref, err := needRef(in.Index, in.CellID)
		return notebookmodel.Edit{Op: notebookmodel.EditDelete, Ref: ref}, err
	})
}

func moveCell(ctx context.Context, c *Call, in MoveCellIn) (EditOut, error) {
	return c.edit(ctx, in.NotebookPath, func(ld *Loaded) (notebookmodel.Edit, error) {
		ref, err := needRef(in.Index, in.CellID)
		if err != nil {
			return notebookmodel.Edit{}, err
		}
		if n := ld.NB.Len(); in.ToIndex < 0 || in.ToIndex >= n {
			return notebookmodel.Edit{}, fmt.Errorf("%w: to_index %d out of range 0…%d", ErrBadArguments, in.ToIndex, n-1)
		}
		return notebookmodel.Edit{Op: notebookmodel.EditMove, Ref: ref, ToIndex: in.ToIndex}, nil
	})
}
