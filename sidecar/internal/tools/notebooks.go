package tools

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/workspace"
)

// Where a notebook view came from.
const (
	SourceBuffer = "buffer" // the snapshot the caller attached
	SourceEditor = "editor" // fetched from the open editor (editor/snapshot)
	SourceDisk   = "disk"   // the .ipynb file (headless, or not open)
)

// ErrEditConflict is returned (wrapped) when an edit would overwrite changes
// made elsewhere since the notebook was read.
var ErrEditConflict = errors.New("notebook changed since it was read")

// ErrNotebookNotFound is returned (wrapped) when the notebook file does not exist.
var ErrNotebookNotFound = errors.New("notebook not found")

// Loaded is one view of a notebook plus where it came from.
type Loaded struct {
	Path    string
	NB      *notebookmodel.Notebook
	Source  string
	Version int    // buffer version (editor views)
	Hash    string // content hash of the file (disk views)
	editor  Editor
}

// LoadNotebook returns the truest view of the notebook: the caller's buffer,
// else the open editor's buffer, else the file.
func (c *Call) LoadNotebook(ctx context.Context, path string) (*Loaded, error) {
	if c.Snapshot != nil && samePath(c.Snapshot.Path, path) {
		ld := &Loaded{Path: path, NB: notebookmodel.FromSnapshot(*c.Snapshot), Source: SourceBuffer, Version: c.Snapshot.Version, editor: c.Core.currentEditor()}
		c.Core.prov().observe(ld)
		return ld, nil
	}
	if ed := c.Core.currentEditor(); ed != nil {
		snap, err := ed.Snapshot(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("read the open buffer of %s: %w", path, err)
		}
		if snap != nil {
			ld := &Loaded{Path: path, NB: notebookmodel.FromSnapshot(*snap), Source: SourceEditor, Version: snap.Version, editor: ed}
			c.Core.prov().observe(ld)
			return ld, nil
		}
	}
	if c.EditorOnly {
		return nil, fmt.Errorf("%w: %s", ErrNotOpen, path)
	}
	data, err := workspace.ReadRegular(path, workspace.ReadOptions{Max: notebookmodel.MaxBytes})
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s does not exist (paths are relative to the workspace folder %s)", ErrNotebookNotFound, path, firstRoot(c))
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	nb, h, err := c.Core.disk.parse(path, data)
	if err != nil {
		return nil, fmt.Errorf("%s is not a readable notebook: %w", path, err)
	}
	c.Core.disk.seen(path, h)
	ld := &Loaded{Path: path, NB: nb, Source: SourceDisk, Hash: h}
	c.Core.prov().observe(ld)
	return ld, nil
}

func firstRoot(c *Call) string {
	if r := c.Core.Roots().List(); len(r) > 0 {
		return r[0]
	}
	return "(none)"
}

func samePath(a, b string) bool {
	if a == b {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}
