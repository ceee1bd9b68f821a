package tools

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/workspace"
)

// ErrNoKernel is returned (wrapped) when a tool needs a kernel the notebook does not have.
var ErrNoKernel = errors.New("no kernel for this notebook")

// ErrNotOpen is returned (wrapped) by an EditorOnly call when the notebook is
// not open in an editor.
var ErrNotOpen = errors.New("notebook is not open in an editor")

// ErrUnavailable is returned (wrapped) for an option this build cannot honour
// (e.g. docker_image where no container runtime is wired in).
var ErrUnavailable = errors.New("not available here")

// Editor is the live editor behind the extension door: it hands out buffer
// snapshots and applies edits as undoable WorkspaceEdits. The rpc door
// implements it with reverse calls (editor/snapshot, editor/applyEdit).
type Editor interface {
	// Snapshot returns the open buffer of the notebook, or nil when it is not open.
	Snapshot(ctx context.Context, notebookPath string) (*notebookmodel.Snapshot, error)
	// ApplyEdit applies ops to the open buffer if it is still at expectedVersion.
	ApplyEdit(ctx context.Context, notebookPath string, expectedVersion int, ops []notebookmodel.EditOp) (EditResult, error)
}

// EditResult is the editor's answer to ApplyEdit.
type EditResult struct {
	Applied bool   `json:"applied"`
	Version int    `json:"version"`
	Reason  string `json:"reason,omitempty"`
}

// Core is what every tool works with: the workspace, the kernel sessions, and
// where notebooks come from (the live editor when there is one, else disk).
type Core struct {
	Sessions *session.Manager
	Logger   *slog.Logger

	mu     sync.Mutex
	roots  *workspace.Roots
	editor Editor
	disk   *diskStore
	blobs  *blobStore
	views  *viewStore
	provs  *provStore

	beforeWrite func(path string) // test hook: runs between computing a disk edit and writing it

	observers    map[int]func(notebookPath string)
	nextObserver int

	editorStamps sync.Map // task id → true: an agent run of an open notebook, stamped by the editor at save
}

// StampedByEditor says whether the run taskID is an agent's run of a cell's own
// source in a notebook open in the editor: like a person's run, its sync stamp
// goes with its final state to the extension, which writes it when the
// notebook is saved (no metadata step on VS Code's undo stack).
func (c *Core) StampedByEditor(taskID string) bool {
	_, ok := c.editorStamps.Load(taskID)
	return ok
}

// NewCore wires a tool core. editor may be nil (headless).
func NewCore(roots *workspace.Roots, sessions *session.Manager, logger *slog.Logger) *Core {
	if logger == nil {
		logger = slog.Default()
	}
	return &Core{roots: roots, Sessions: sessions, Logger: logger, disk: newDiskStore(), blobs: newBlobStore(), views: newViewStore(), provs: newProvStore()}
}

// Roots returns the current workspace roots.
func (c *Core) Roots() *workspace.Roots {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.roots
}

// SetRoots replaces the workspace roots (the extension names them at initialize).
func (c *Core) SetRoots(r *workspace.Roots) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.roots = r
}

// SetEditor attaches (or, with nil, detaches) the live editor.
func (c *Core) SetEditor(e Editor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.editor = e
}

func (c *Core) currentEditor() Editor {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.editor
}

// Call carries what one tool invocation brings besides its arguments.
type Call struct {
	Core *Core
	// Snapshot is the live buffer the caller attached (extension door), if any.
	Snapshot *notebookmodel.Snapshot
	// Progress reports long work (run_cell, sync); nil when the caller did not ask.
	Progress func(progress, total float64, message string)
	// EditorOnly confines reads and edits to the open editor buffer: when the
	// notebook is not open, LoadNotebook fails with ErrNotOpen instead of
	// reading (and an edit writing) the file. For bookkeeping a person did not
	// ask for, which must never touch a file they closed without saving.
	EditorOnly bool
	// Agent names the agent session the call comes from (an MCP session, an
	// attach connection, the extension's language-model tools): index-only
	// cell references are read through what that session was shown (view.go).
	// Empty for bookkeeping calls, which neither use nor change any view.
	Agent string

	tool string // the tool an edit is made for (provenance); empty for bookkeeping
}

func (c *Call) progress(p, total float64, msg string) {
	if c.Progress != nil {
		c.Progress(p, total, msg)
	}
}

// ResolvePath confines a notebook path to the workspace.
func (c *Call) ResolvePath(p string) (string, error) {
	return c.Core.Roots().Resolve(p)
}

// SessionFor resolves a tool's notebook_path argument inside the workspace and
// returns the path with its running session.
func (c *Call) SessionFor(notebookPath string) (string, *session.Session, error) {
	path, err := c.ResolvePath(notebookPath)
	if err != nil {
		return "", nil, err
	}
	s, err := c.Session(path)
	return path, s, err
}

// Session returns the notebook's kernel session or an actionable ErrNoKernel.
func (c *Call) Session(notebookPath string) (*session.Session, error) {
	s := c.Core.Sessions.Get(notebookPath)
	if s == nil {
		return nil, noKernel(notebookPath)
	}
	return s, nil
}
