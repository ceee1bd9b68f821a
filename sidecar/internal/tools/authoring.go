package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel/kernelspec"
)

// EditSourceIn are edit_cell_source's arguments.
type EditSourceIn struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	CellID       string `json:"cell_id,omitempty" jsonschema:"id of the cell to change (preferred)"`
	Index        *int   `json:"index,omitempty" jsonschema:"0-based index of the cell to change"`
	OldString    string `json:"old_string" jsonschema:"exact text to replace, as it is in the cell (whitespace included)"`
	NewString    string `json:"new_string" jsonschema:"the replacement text"`
	ReplaceAll   bool   `json:"replace_all,omitempty" jsonschema:"replace every occurrence; otherwise old_string must occur exactly once"`
}

// EditSourceOut is an applied edit_cell_source: the edit and the changed lines.
type EditSourceOut struct {
	EditOut
	Replaced int    `json:"replaced" jsonschema:"how many occurrences were replaced"`
	Changed  string `json:"changed" jsonschema:"the cell's changed lines with a line of context, as the cell reads now"`
}

func editCellSource(ctx context.Context, c *Call, in EditSourceIn) (EditSourceOut, error) {
	if in.OldString == "" {
		return EditSourceOut{}, fmt.Errorf("%w: old_string is empty: give the exact text to replace (propose_edit replaces a whole cell)", ErrBadArguments)
	}
	var replaced int
	var after, note string
	var firstAt int
	out, err := c.edit(ctx, in.NotebookPath, func(ld *Loaded) (notebookmodel.Edit, error) {
		// Through the agent's view like every index; no whole-cell merge check:
		// old_string still matching uniquely is the guard, so a human's change
		// elsewhere in the cell does not refuse the edit.
		t, err := c.ResolveCell(ld.Path, ld.NB, in.Index, in.CellID)
		if err != nil {
			return notebookmodel.Edit{}, err
		}
		cell := t.Cell
		note = t.Note
		n := strings.Count(cell.Source, in.OldString)
		switch {
		case n == 0:
			return notebookmodel.Edit{}, fmt.Errorf("%w: old_string does not occur in cell %d (%s); nothing was changed. Its current source:\n%s", ErrEditConflict, cell.Index, cell.ID, cell.Source)
		case n > 1 && !in.ReplaceAll:
			return notebookmodel.Edit{}, fmt.Errorf("%w: old_string occurs %d times in cell %d (%s); nothing was changed. Include more surrounding text to make it unique, or pass replace_all", ErrBadArguments, n, cell.Index, cell.ID)
		}
		replaced = n
		firstAt = strings.Index(cell.Source, in.OldString)
		if in.ReplaceAll {
			after = strings.ReplaceAll(cell.Source, in.OldString, in.NewString)
		} else {
			after = strings.Replace(cell.Source, in.OldString, in.NewString, 1)
		}
		return notebookmodel.Edit{Op: notebookmodel.EditReplaceSource, Ref: notebookmodel.CellRef{CellID: cell.ID}, Source: after}, nil
	})
	if err != nil {
		return EditSourceOut{}, err
	}
	out.Note = note
	// A line edit answers with the changed lines and the cells right around
	// the edited one, never the whole outline.
	near := out.Cells[:0:0]
	for _, e := range out.Cells {
		if e.Index >= out.Index-editNeighbours && e.Index <= out.Index+editNeighbours {
			near = append(near, e)
		}
	}
	out.Cells = near
	return EditSourceOut{EditOut: out, Replaced: replaced, Changed: changedLines(after, firstAt, len(in.NewString))}, nil
}

// changedLines shows the lines of src from the one holding byte at to the one
// holding at+n, with one line of context either side, numbered from 1.
func changedLines(src string, at, n int) string {
	lines := strings.SplitAfter(src, "\n")
	first, last, off := 0, 0, 0
	for i, l := range lines {
		if off <= at {
			first = i
		}
		if off <= at+n {
			last = i
		}
		off += len(l)
	}
	first, last = max(first-1, 0), min(last+1, len(lines)-1)
	var b strings.Builder
	for i := first; i <= last; i++ {
		fmt.Fprintf(&b, "%4d  %s", i+1, strings.TrimSuffix(lines[i], "\n"))
		if i < last {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// NewNotebookCell is one cell of create_notebook.
type NewNotebookCell struct {
	Type    string `json:"type,omitempty" jsonschema:"code (default), markdown or raw"`
	Content string `json:"content" jsonschema:"the cell's text"`
}

// CreateNotebookIn are create_notebook's arguments.
type CreateNotebookIn struct {
	NotebookPath string            `json:"notebook_path" jsonschema:"path of the new .ipynb file (inside the workspace; never overwritten)"`
	Cells        []NewNotebookCell `json:"cells,omitempty" jsonschema:"the first cells, in order (default: none)"`
	Kernel       string            `json:"kernel,omitempty" jsonschema:"kernelspec name written into the notebook's metadata (default python3)"`
}

// CreateNotebookOut is a created notebook.
type CreateNotebookOut struct {
	NotebookPath string                       `json:"notebook_path"`
	Kernelspec   string                       `json:"kernelspec"`
	Cells        []notebookmodel.OutlineEntry `json:"cells"`
	OpenedBeside bool                         `json:"opened_beside,omitempty" jsonschema:"true when VS Code opened it beside the person's editor"`
}

// NotebookOpener is an Editor that can show a notebook (the VS Code extension).
type NotebookOpener interface {
	// OpenNotebook shows path beside the person's editor without taking the focus.
	OpenNotebook(ctx context.Context, path string) (bool, error)
}

// ErrExists refuses to overwrite a file.
var ErrExists = errors.New("already exists")

func createNotebook(ctx context.Context, c *Call, in CreateNotebookIn) (CreateNotebookOut, error) {
	path, err := c.ResolvePath(in.NotebookPath)
	if err != nil {
		return CreateNotebookOut{}, err
	}
	if !strings.EqualFold(filepath.Ext(path), ".ipynb") {
		return CreateNotebookOut{}, fmt.Errorf("%w: notebook_path %q must end in .ipynb", ErrBadArguments, in.NotebookPath)
	}
	if _, err := os.Lstat(path); err == nil {
		return CreateNotebookOut{}, fmt.Errorf("%w: %s %w; nothing was written (edit it with the cell tools, or choose another name)", ErrBadArguments, path, ErrExists)
	}
	name := in.Kernel
	if name == "" {
		name = "python3"
	}
	spec := map[string]any{"name": name, "display_name": "Python 3 (ipykernel)", "language": "python"}
	if found, err := kernelspec.Find(name, kernelspec.SearchOptions{Getenv: os.Getenv}); err == nil {
		spec["display_name"], spec["language"] = found.DisplayName, found.Language
	} else if in.Kernel != "" && !strings.EqualFold(name, "python3") {
		return CreateNotebookOut{}, fmt.Errorf("%w: kernel %q: %v (list_environments shows the installed kernelspecs)", ErrBadArguments, name, err)
	}
	doc, _ := json.Marshal(map[string]any{
		"nbformat": 4, "nbformat_minor": 5, "cells": []any{},
		"metadata": map[string]any{"kernelspec": spec, "language_info": map[string]any{"name": spec["language"]}},
	})
	nb, err := notebookmodel.Parse(doc)
	if err != nil {
		return CreateNotebookOut{}, fmt.Errorf("create notebook: %w", err)
	}
	for i, cell := range in.Cells {
		kind, _, err := cellKind(cell.Type)
		if err != nil {
			return CreateNotebookOut{}, fmt.Errorf("cells[%d]: %w", i, err)
		}
		if nb, _, err = nb.Apply(notebookmodel.Edit{Op: notebookmodel.EditAppend, Cells: []notebookmodel.NewCell{{Type: kind, Source: cell.Content}}}); err != nil {
			return CreateNotebookOut{}, fmt.Errorf("cells[%d]: %w", i, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return CreateNotebookOut{}, fmt.Errorf("create %s: %w", path, err)
	}
	if err := createExclusive(path, nb.Bytes()); err != nil {
		return CreateNotebookOut{}, err
	}
	c.Core.disk.seen(path, contentHash(nb.Bytes()))
	out := CreateNotebookOut{NotebookPath: path, Kernelspec: name, Cells: nb.Outline()}
	if out.Cells == nil {
		out.Cells = []notebookmodel.OutlineEntry{}
	}
	if o, ok := c.Core.currentEditor().(NotebookOpener); ok && o != nil {
		// The file is written either way; a failure to show it is only noted in the log.
		if opened, err := o.OpenNotebook(ctx, path); err == nil {
			out.OpenedBeside = opened
		} else if c.Core.Logger != nil {
			c.Core.Logger.Warn("open the new notebook in the editor", "path", path, "err", err)
		}
	}
	return out, nil
}

// createExclusive writes data to a temp file beside path and links it into
// place: a reader never sees a half-written notebook, and a file that appeared
// meanwhile is never replaced (link fails on an existing name, unlike rename).
func createExclusive(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s %w; nothing was written", ErrBadArguments, path, ErrExists)
		}
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}
