package tools

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/checkpoint"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/inspect"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/nbsync"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
)

// Kernel state tools: checkpoints, sync, inspection (helper S).

func init() {
	Extend(func(r *Registry) {
		Add(r, Meta{Name: "save_checkpoint", Title: "Save checkpoint", Destructive: true,
			Description: "Snapshot the kernel's variables to .mcp/checkpoints/<name> next to the notebook (signed, atomic, incremental: unchanged variables are not written again). Variables that cannot be saved are named with the reason; the rest are saved."},
			saveCheckpoint)
		Add(r, Meta{Name: "load_checkpoint", Title: "Load checkpoint",
			Description: "Restore the variables of a checkpoint into the notebook's kernel in seconds instead of re-running cells. The checkpoint's signature and every blob are verified first; a tampered or foreign checkpoint is refused and nothing is loaded.",
			Destructive: true},
			loadCheckpoint)
		Add(r, Meta{Name: "list_checkpoints", Title: "List checkpoints",
			Description: "List the checkpoints saved next to the notebook, newest first, with their variables and size; ones that fail verification are shown with the problem.",
			ReadOnly:    true, Idempotent: true},
			listCheckpoints)
		Add(r, Meta{Name: "delete_checkpoint", Title: "Delete checkpoint",
			Description: "Delete a checkpoint and the stored data no other checkpoint uses.", Destructive: true, Idempotent: true},
			deleteCheckpoint)
		Add(r, Meta{Name: "detect_sync_needed", Title: "Detect sync needed",
			Description: "Compare what the kernel ran with the notebook (live buffer if open): cells edited since they ran, never-run cells above cells that ran, deleted cells, a restarted kernel, cells showing results this kernel does not have. Returns sync_needed, a reason, the dirty cells and a recommendation.",
			ReadOnly:    true, Idempotent: true},
			detectSyncNeeded)
		Add(r, Meta{Name: "sync_state_from_disk", Title: "Sync kernel state",
			Description: "Rebuild the kernel state from the notebook: strategy incremental re-runs from the first dirty cell on; full restarts the kernel and re-runs every code cell; smart re-runs only dirty cells and the cells that use what they define. Stops at the first failing cell and names it.",
			Destructive: true, OpenWorld: true, InterruptOnCancel: true},
			syncStateFromDisk)
		Add(r, Meta{Name: "inspect_variable", Title: "Inspect variable",
			Description: "Describe a kernel variable safely (type, size, shape, dtype, a few values, DataFrame columns and head) without running any of the object's own code (no __repr__, properties or __getattr__).",
			ReadOnly:    true, Idempotent: true},
			inspectVariable)
	})
	ExtendKernelInfo(kernelInfoVariables)
}

// internalRunner runs helper code through the session's queue, silently and
// outside the history.
func internalRunner(s *session.Session) kernelpy.Runner {
	return func(ctx context.Context, code string) (string, error) {
		if !pythonKernel(s) { // neutral.go: Python helpers go to Python kernels only
			return "", fmt.Errorf("%s; %w", pythonOnly(s, "this (checkpoints, the variable inspector, the smart sync strategy's analysis)"), inspect.ErrUnsupported)
		}
		r, err := s.RunInternal(ctx, code)
		if err != nil {
			return "", err
		}
		if r.Status != "ok" {
			return r.Stdout, &kernelpy.PythonError{Ename: r.Ename, Evalue: r.Evalue, Traceback: r.Traceback}
		}
		return r.Stdout, nil
	}
}

var (
	keyMu sync.Mutex
	key   []byte
)

func checkpointKey() ([]byte, error) {
	keyMu.Lock()
	defer keyMu.Unlock()
	if key != nil {
		return key, nil
	}
	p, err := checkpoint.KeyPath()
	if err != nil {
		return nil, err
	}
	k, err := checkpoint.LoadKey(p)
	if err != nil {
		return nil, err
	}
	key = k
	return key, nil
}

func (c *Call) checkpointStore(notebookPath string) (string, *checkpoint.Store, error) {
	path, err := c.ResolvePath(notebookPath)
	if err != nil {
		return "", nil, err
	}
	k, err := checkpointKey()
	if err != nil {
		return "", nil, err
	}
	return path, checkpoint.ForNotebook(path, k), nil
}

// CheckpointIn names a checkpoint of a notebook.
type CheckpointIn struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file, absolute or relative to the first workspace folder"`
	Name         string `json:"name,omitempty" jsonschema:"checkpoint name (letters, digits, . _ -; default checkpoint)"`
}

// SaveCheckpointIn are save_checkpoint's arguments.
type SaveCheckpointIn struct {
	NotebookPath string   `json:"notebook_path" jsonschema:"path of the .ipynb file, absolute or relative to the first workspace folder"`
	Name         string   `json:"name,omitempty" jsonschema:"checkpoint name (letters, digits, . _ -; default checkpoint); saving under an existing name replaces it"`
	Variables    []string `json:"variables,omitempty" jsonschema:"save only these variables (default: all user variables)"`
	Full         bool     `json:"full,omitempty" jsonschema:"serialize every variable again even when it looks unchanged since the last save"`
}

// CheckpointVariableOut is one saved variable.
type CheckpointVariableOut struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Bytes      int64  `json:"bytes"`
	Serializer string `json:"serializer" jsonschema:"pickle or dill"`
}

// FailureOut is a variable that could not be saved or loaded.
type FailureOut struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// SaveCheckpointOut is save_checkpoint's answer.
type SaveCheckpointOut struct {
	Name       string                  `json:"name"`
	Path       string                  `json:"path" jsonschema:"the checkpoint folder"`
	Saved      []CheckpointVariableOut `json:"saved"`
	Failed     []FailureOut            `json:"failed"`
	Bytes      int64                   `json:"bytes"`
	Written    int                     `json:"written" jsonschema:"blobs written by this save"`
	Reused     int                     `json:"reused" jsonschema:"variables unchanged since the last save, not written again"`
	Message    string                  `json:"message"`
	Suggestion string                  `json:"suggestion,omitempty"`
}

func nameOr(n string) string {
	if n == "" {
		return "checkpoint"
	}
	return n
}

func failures(fs []checkpoint.Failure) []FailureOut {
	out := []FailureOut{}
	for _, f := range fs {
		out = append(out, FailureOut{Name: f.Name, Type: f.Type, Reason: f.Reason})
	}
	return out
}

// record is what built the saved state: the current kernel's finished runs
// (plus what a checkpoint loaded into it brought back).
func record(s *session.Session) []checkpoint.RecordEntry {
	var out []checkpoint.RecordEntry
	for _, r := range syncRecord(s).Runs {
		if r.Epoch != s.Restarts() || r.CellID == "" || r.Status == session.StatusQueued || r.Status == session.StatusRunning {
			continue
		}
		h := r.SourceHash
		if h == "" {
			h = nbsync.SourceHash(r.Code)
		}
		out = append(out, checkpoint.RecordEntry{CellID: r.CellID, SourceHash: h, Status: r.Status, ExecutionCount: r.ExecutionCount, Origin: r.Origin})
	}
	return out
}

func saveCheckpoint(ctx context.Context, c *Call, in SaveCheckpointIn) (SaveCheckpointOut, error) {
	path, st, err := c.checkpointStore(in.NotebookPath)
	if err != nil {
		return SaveCheckpointOut{}, err
	}
	s, err := c.Session(path)
	if err != nil {
		return SaveCheckpointOut{}, err
	}
	name := nameOr(in.Name)
	res, err := st.Save(ctx, internalRunner(s), name, checkpoint.SaveOptions{Names: in.Variables, Full: in.Full, Record: record(s), Restarts: s.Restarts()})
	if err != nil {
		return SaveCheckpointOut{}, err
	}
	out := SaveCheckpointOut{Name: name, Path: filepath.Join(st.Root(), name), Saved: []CheckpointVariableOut{}, Failed: failures(res.Manifest.Failed),
		Written: res.Written, Reused: res.Reused, Suggestion: res.Suggestion}
	for _, v := range res.Manifest.Variables {
		out.Saved = append(out.Saved, CheckpointVariableOut{Name: v.Name, Type: v.Type, Bytes: v.Size, Serializer: v.Serializer})
		if v.AliasOf == "" {
			out.Bytes += v.Size
		}
	}
	out.Message = fmt.Sprintf("Saved %d variable(s) to checkpoint %q (%s; %d written, %d unchanged).", len(out.Saved), name, human(out.Bytes), res.Written, res.Reused)
	if len(res.Manifest.Failed) > 0 {
		var names []string
		for _, f := range res.Manifest.Failed {
			names = append(names, f.String())
		}
		out.Message += "\nFAILED: The following variables cannot be saved: " + strings.Join(names, "; ") + "\nSuggestion: " + res.Suggestion
	}
	return out, nil
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// LoadCheckpointOut is load_checkpoint's answer.
type LoadCheckpointOut struct {
	Name    string       `json:"name"`
	Loaded  []string     `json:"loaded"`
	Failed  []FailureOut `json:"failed"`
	Message string       `json:"message"`
}

func loadCheckpoint(ctx context.Context, c *Call, in CheckpointIn) (LoadCheckpointOut, error) {
	path, st, err := c.checkpointStore(in.NotebookPath)
	if err != nil {
		return LoadCheckpointOut{}, err
	}
	s, err := c.Session(path)
	if err != nil {
		return LoadCheckpointOut{}, err
	}
	name := nameOr(in.Name)
	res, err := st.Load(ctx, internalRunner(s), name)
	if err != nil {
		if errors.Is(err, checkpoint.ErrNotFound) {
			return LoadCheckpointOut{}, fmt.Errorf("%w; list_checkpoints shows the saved ones", err)
		}
		return LoadCheckpointOut{}, err
	}
	rememberRestored(s, res.Manifest)
	out := LoadCheckpointOut{Name: name, Loaded: res.Loaded, Failed: failures(res.Failed)}
	if out.Loaded == nil {
		out.Loaded = []string{}
	}
	out.Message = fmt.Sprintf("Restored %d variable(s) from checkpoint %q saved %s: %s.", len(out.Loaded), name, res.Manifest.Created.Format("2006-01-02 15:04:05 MST"), strings.Join(out.Loaded, ", "))
	for _, f := range res.Failed {
		out.Message += fmt.Sprintf("\nNot restored: %s", f)
	}
	if len(res.Manifest.Failed) > 0 {
		var names []string
		for _, f := range res.Manifest.Failed {
			names = append(names, f.Name)
		}
		out.Message += "\nNot in the checkpoint (could not be saved): " + strings.Join(names, ", ") + "; recreate them by re-running their cells."
	}
	return out, nil
}

// ListCheckpointsOut is list_checkpoints' answer.
type ListCheckpointsOut struct {
	Checkpoints []checkpoint.Info `json:"checkpoints"`
}

func listCheckpoints(ctx context.Context, c *Call, in NotebookArg) (ListCheckpointsOut, error) {
	_, st, err := c.checkpointStore(in.NotebookPath)
	if err != nil {
		return ListCheckpointsOut{}, err
	}
	infos, err := st.List()
	if err != nil {
		return ListCheckpointsOut{}, err
	}
	return ListCheckpointsOut{Checkpoints: infos}, nil
}

// DeleteCheckpointOut is delete_checkpoint's answer.
type DeleteCheckpointOut struct {
	Deleted string `json:"deleted"`
}

func deleteCheckpoint(ctx context.Context, c *Call, in CheckpointIn) (DeleteCheckpointOut, error) {
	_, st, err := c.checkpointStore(in.NotebookPath)
	if err != nil {
		return DeleteCheckpointOut{}, err
	}
	name := nameOr(in.Name)
	if err := st.Delete(name); err != nil {
		return DeleteCheckpointOut{}, err
	}
	return DeleteCheckpointOut{Deleted: name}, nil
}

// kernelID names the running kernel process for stamps: a stamp of another
// process (or of this one before a restart) does not count as state.
func kernelID(s *session.Session) string {
	return fmt.Sprintf("pid%d.r%d", s.Kernel().PID(), s.Restarts())
}

// StampExecution writes the `mcp-jupyter` stamp (source hash, origin, kernel)
// of a finished execution into its cell's metadata through the edit path
// (the open buffer, else the file), so the sync record survives a sidecar
// restart. Exported for the run tools; sync_state_from_disk stamps its runs.
func (c *Call) StampExecution(ctx context.Context, notebookPath string, s *session.Session, e *session.Execution) error {
	if e.CellID == "" {
		return nil
	}
	st := e.State()
	stamp := nbsync.StampFor(nbsync.Run{Code: e.Code, Origin: e.Origin, Status: st.Status, ExecutionCount: st.ExecutionCount}, kernelID(s))
	_, err := c.edit(ctx, notebookPath, func(ld *Loaded) (notebookmodel.Edit, error) {
		ref := notebookmodel.CellRef{CellID: e.CellID}
		cell, err := ld.NB.Resolve(ref)
		if err != nil {
			return notebookmodel.Edit{}, err
		}
		md, err := nbsync.WithStamp(cell.Metadata, stamp)
		if err != nil {
			return notebookmodel.Edit{}, err
		}
		return notebookmodel.Edit{Op: notebookmodel.EditSetMetadata, Ref: ref, Metadata: md}, nil
	})
	return err
}

// restoredRuns remembers, per session, the execution record of the checkpoint
// last loaded into the current kernel: its cells' effects are back, so sync
// detection counts them as run (by source hash) until the next restart.
var (
	restoredMu   sync.Mutex
	restoredRuns = map[*session.Session]restored{}
)

type restored struct {
	epoch int
	at    time.Time
	runs  []nbsync.Run
}

func rememberRestored(s *session.Session, m checkpoint.Manifest) {
	r := restored{epoch: s.Restarts(), at: time.Now()}
	for _, e := range m.Record {
		r.runs = append(r.runs, nbsync.Run{CellID: e.CellID, SourceHash: e.SourceHash, Status: e.Status, ExecutionCount: e.ExecutionCount, Origin: e.Origin, Epoch: r.epoch})
	}
	restoredMu.Lock()
	defer restoredMu.Unlock()
	for old := range restoredRuns {
		if old.Kernel().Status() == kernel.StatusDead {
			delete(restoredRuns, old) // do not keep closed sessions alive
		}
	}
	restoredRuns[s] = r
}

// syncRecord turns the session history into the sync record.
func syncRecord(s *session.Session) nbsync.Record {
	rec := nbsync.Record{Epoch: s.Restarts(), KernelID: kernelID(s)}
	restoredMu.Lock()
	r, ok := restoredRuns[s]
	restoredMu.Unlock()
	pending := ok && r.epoch == rec.Epoch
	for _, e := range s.Executions() {
		st := e.State()
		if pending && st.QueuedAt.After(r.at) {
			// The restored record counts as run at the load; later runs override it.
			rec.Runs = append(rec.Runs, r.runs...)
			pending = false
		}
		rec.Runs = append(rec.Runs, nbsync.Run{CellID: e.CellID, Code: e.Code, Status: st.Status, ExecutionCount: st.ExecutionCount, Origin: e.Origin, Epoch: e.Epoch})
	}
	if pending {
		rec.Runs = append(rec.Runs, r.runs...)
	}
	return rec
}

func detectSyncNeeded(ctx context.Context, c *Call, in NotebookArg) (nbsync.Report, error) {
	path, err := c.ResolvePath(in.NotebookPath)
	if err != nil {
		return nbsync.Report{}, err
	}
	s, err := c.Session(path)
	if err != nil {
		return nbsync.Report{}, err
	}
	ld, err := c.LoadNotebook(ctx, path)
	if err != nil {
		return nbsync.Report{}, err
	}
	return nbsync.Detect(ld.NB.Cells(), syncRecord(s)), nil
}

// SyncIn are sync_state_from_disk's arguments.
type SyncIn struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file, absolute or relative to the first workspace folder"`
	Strategy     string `json:"strategy,omitempty" jsonschema:"incremental (default) | full | smart"`
}

// SyncOut is sync_state_from_disk's answer.
type SyncOut struct {
	Strategy string              `json:"strategy"`
	Restart  bool                `json:"restarted"`
	Planned  []int               `json:"planned" jsonschema:"indexes of the cells the sync runs"`
	Ran      []int               `json:"ran" jsonschema:"indexes of the cells that ran ok"`
	Failed   *nbsync.CellFailure `json:"failed,omitempty"`
	Message  string              `json:"message"`
}

type sessionExecutor struct {
	c    *Call
	path string
	s    *session.Session
}

func (e sessionExecutor) Restart(ctx context.Context) error { return e.s.Restart(ctx) }

func (e sessionExecutor) RunCell(ctx context.Context, cell notebookmodel.Cell) (string, string, string, error) {
	ex, err := e.s.Submit(session.Request{CellID: cell.ID, Code: cell.Source, Origin: "agent"})
	if err != nil {
		return "", "", "", err
	}
	st, err := ex.Wait(ctx)
	if err != nil {
		return "", "", "", err
	}
	if err := e.c.StampExecution(ctx, e.path, e.s, ex); err != nil {
		// The run happened; a missing stamp only makes a later check more cautious.
		e.c.Core.Logger.Warn("sync: stamp cell metadata", "cell", cell.ID, "err", err)
	}
	return st.Status, st.Ename, st.Evalue, nil
}

func syncStateFromDisk(ctx context.Context, c *Call, in SyncIn) (SyncOut, error) {
	path, s, err := c.SessionFor(in.NotebookPath)
	if err != nil {
		return SyncOut{}, err
	}
	ld, err := c.LoadNotebook(ctx, path)
	if err != nil {
		return SyncOut{}, err
	}
	strategy := in.Strategy
	if strategy == "" {
		strategy = nbsync.StrategyIncremental
	}
	cells := ld.NB.Cells()
	rep := nbsync.Detect(cells, syncRecord(s))
	var deps []nbsync.Deps
	if strategy == nbsync.StrategySmart {
		src := make([]string, len(cells))
		for i, cell := range cells {
			if cell.Type == notebookmodel.KindCode {
				src[i] = cell.Source
			}
		}
		if deps, err = nbsync.Analyze(ctx, internalRunner(s), src); err != nil {
			return SyncOut{}, err
		}
	}
	plan, err := nbsync.MakePlan(cells, rep, strategy, deps)
	if err != nil {
		return SyncOut{}, fmt.Errorf("%w: %w", ErrBadArguments, err)
	}
	out := SyncOut{Strategy: strategy, Restart: plan.Restart, Planned: plan.Indexes, Ran: []int{}}
	if len(plan.Cells) == 0 && !plan.Restart {
		out.Message = "Nothing to run: " + rep.Reason + "."
		return out, nil
	}
	res, err := nbsync.Rebuild(ctx, plan, sessionExecutor{c: c, path: path, s: s}, func(done, total int, msg string) {
		c.progress(float64(done), float64(total), msg)
	})
	out.Ran, out.Failed = res.Ran, res.Failed
	if err != nil {
		if errors.Is(err, nbsync.ErrCellFailed) {
			out.Message = err.Error()
			return out, nil
		}
		return out, err
	}
	out.Message = fmt.Sprintf("Re-ran %d cell(s) (%s): the kernel state matches the notebook.", len(res.Ran), strategy)
	return out, nil
}

// InspectVariableIn are inspect_variable's arguments.
type InspectVariableIn struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file, absolute or relative to the first workspace folder"`
	VarName      string `json:"var_name" jsonschema:"a variable name in the kernel (no attributes or expressions)"`
}

// InspectVariableOut is inspect_variable's answer.
type InspectVariableOut struct {
	inspect.Description
	Summary string `json:"summary" jsonschema:"the description as short text"`
}

func inspectVariable(ctx context.Context, c *Call, in InspectVariableIn) (InspectVariableOut, error) {
	_, s, err := c.SessionFor(in.NotebookPath)
	if err != nil {
		return InspectVariableOut{}, err
	}
	if !pythonKernel(s) {
		return inspectNonPython(ctx, s, in.VarName) // neutral.go: no Python helper for other languages
	}
	d, err := inspect.Inspect(ctx, internalRunner(s), in.VarName)
	if err != nil {
		return InspectVariableOut{}, err
	}
	return InspectVariableOut{Description: *d, Summary: d.Text()}, nil
}

func kernelInfoVariables(ctx context.Context, c *Call, s *session.Session, out *KernelInfoOut) {
	// The helper waits in the notebook's queue: behind a running cell it would
	// hold get_kernel_info hostage, so a busy kernel answers without variables.
	if s.Kernel().Status() == kernel.StatusBusy {
		return
	}
	if !pythonKernel(s) {
		out.VariablesNote = pythonOnly(s, "the variable list")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	vars, err := inspect.Variables(ctx, internalRunner(s), 200)
	if err != nil {
		c.Core.Logger.Debug("get_kernel_info: list variables", "err", err)
		return
	}
	out.Variables = []VariableOut{}
	for _, v := range vars {
		vo := VariableOut{Name: v.Name, Type: v.Type, Bytes: v.Size}
		switch {
		case len(v.Shape) > 0:
			vo.Size = fmt.Sprintf("shape %v", v.Shape)
		case v.Len != nil:
			vo.Size = fmt.Sprintf("len %d", *v.Len)
		}
		out.Variables = append(out.Variables, vo)
	}
}
