package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/output"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
)

// ErrUnknownTask is returned (wrapped) for a task id the notebook's kernel does not know.
var ErrUnknownTask = errors.New("unknown task_id")

// inlineLimit is the largest raw_outputs inlined in a tool result; larger ones
// are served as a resource and linked, so a 50 MB plot does not flood the model.
const inlineLimit = 512 << 10

// RunCellIn are run_cell_async's arguments.
type RunCellIn struct {
	NotebookPath string  `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	Index        *int    `json:"index,omitempty" jsonschema:"0-based cell index (as in get_notebook_outline); give cell_id too to be safe against edits"`
	CellID       string  `json:"cell_id,omitempty" jsonschema:"the cell's id from get_notebook_outline (preferred over index)"`
	CodeOverride *string `json:"code_override,omitempty" jsonschema:"run this code instead of the cell's source (without index/cell_id: run it detached from any cell)"`
}

// RunCellBlockingIn are run_cell's arguments.
type RunCellBlockingIn struct {
	NotebookPath string  `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	Index        *int    `json:"index,omitempty" jsonschema:"0-based cell index (as in get_notebook_outline); give cell_id too to be safe against edits"`
	CellID       string  `json:"cell_id,omitempty" jsonschema:"the cell's id from get_notebook_outline (preferred over index)"`
	CodeOverride *string `json:"code_override,omitempty" jsonschema:"run this code instead of the cell's source"`
	TimeoutS     float64 `json:"timeout_s,omitempty" jsonschema:"seconds to wait (default 60); the execution keeps running after that, follow it with get_execution_stream"`
	Images       string  `json:"images,omitempty" jsonschema:"fit | full | none: figures attached downscaled (default), at full size, or not at all"`
}

// TaskOut is run_cell_async's answer.
type TaskOut struct {
	TaskID string `json:"task_id" jsonschema:"pass to get_execution_stream / submit_input"`
	CellID string `json:"cell_id,omitempty"`
	Index  *int   `json:"index,omitempty"`
	Status string `json:"status" jsonschema:"queued | running | ok | error | aborted | cancelled | timeout | dead"`
	Note   string `json:"note,omitempty" jsonschema:"how an index you gave was read: the cell you saw there and where it is now"`
}

// ExecutionOut is an execution's result: the model's summary and the raw outputs.
type ExecutionOut struct {
	TaskID         string            `json:"task_id"`
	CellID         string            `json:"cell_id,omitempty"`
	Status         string            `json:"status" jsonschema:"queued | running | ok | error | aborted | cancelled | timeout | dead"`
	Done           bool              `json:"done" jsonschema:"true once the kernel finished this execution"`
	ExecutionCount int               `json:"execution_count,omitempty"`
	Error          string            `json:"error,omitempty" jsonschema:"ename: evalue of a failed execution"`
	LLMSummary     string            `json:"llm_summary" jsonschema:"bounded text view of the outputs"`
	RawOutputs     []json.RawMessage `json:"raw_outputs" jsonschema:"nbformat outputs, MIME bundles untouched (empty when moved to raw_outputs_resource; get_execution_stream fills it only once done)"`
	RawResource    string            `json:"raw_outputs_resource,omitempty" jsonschema:"notebook:// resource holding the outputs when they were too large to inline"`
	PendingInput   *InputOut         `json:"pending_input,omitempty" jsonschema:"the kernel waits for input(): answer with submit_input"`
	Next           int               `json:"next" jsonschema:"cursor: pass as since to get_execution_stream for what comes after"`
	Ops            []OpOut           `json:"ops,omitempty" jsonschema:"output operations since the cursor, in order (get_execution_stream only)"`

	images []Image // for vision models, once done (see Imager)
}

// OpOut is one output operation of the stream.
type OpOut struct {
	Seq    int             `json:"seq"`
	Kind   string          `json:"kind" jsonschema:"append | appendText | replace | clear"`
	Index  int             `json:"index" jsonschema:"output index the op applies to"`
	Output json.RawMessage `json:"output,omitempty" jsonschema:"the nbformat output (append, replace)"`
	Name   string          `json:"name,omitempty" jsonschema:"stream name (appendText)"`
	Text   string          `json:"text,omitempty" jsonschema:"stream text added (appendText)"`
	Elided bool            `json:"elided,omitempty" jsonschema:"too large to inline: output/text left out, read raw_outputs_resource"`
}

// InputOut is a pending input() prompt.
type InputOut struct {
	Prompt   string `json:"prompt"`
	Password bool   `json:"password"`
}

// StreamIn are get_execution_stream's arguments.
type StreamIn struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	TaskID       string `json:"task_id" jsonschema:"from run_cell_async"`
	Since        int    `json:"since,omitempty" jsonschema:"cursor from the previous answer's next (0 = from the start)"`
	WaitMs       int    `json:"wait_ms,omitempty" jsonschema:"wait up to this many ms for new output when there is none yet (max 60000)"`
}

// InputIn are submit_input's arguments.
type InputIn struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	TaskID       string `json:"task_id" jsonschema:"the execution waiting for input"`
	Value        string `json:"value" jsonschema:"the line to send to input()"`
}

// cellToRun resolves what code to run and for which cell, and whether the
// notebook was read from an editor buffer (not the file).
func (c *Call) cellToRun(ctx context.Context, path string, index *int, cellID string, override *string) (code, id string, idx *int, note string, inEditor bool, err error) {
	if index == nil && cellID == "" {
		if override == nil {
			return "", "", nil, "", false, fmt.Errorf("%w: give index or cell_id (see get_notebook_outline), or code_override to run code detached from a cell", ErrBadArguments)
		}
		return *override, "", nil, "", false, nil
	}
	ld, err := c.LoadNotebook(ctx, path)
	if err != nil {
		return "", "", nil, "", false, err
	}
	t, err := c.ResolveCell(path, ld.NB, index, cellID) // through the agent's view (view.go)
	if err != nil {
		return "", "", nil, "", false, err
	}
	cell := t.Cell
	if override != nil {
		code = *override
	} else {
		if cell.Type != notebookmodel.KindCode {
			return "", "", nil, "", false, fmt.Errorf("cell %d (%s) is a %s cell, not code: nothing to run", cell.Index, cell.ID, cell.Type)
		}
		code = cell.Source
	}
	i := cell.Index
	return code, cell.ID, &i, t.Note, ld.Source != SourceDisk, nil
}

func (c *Call) submit(ctx context.Context, path string, index *int, cellID string, override *string) (*session.Session, *session.Execution, TaskOut, error) {
	s, err := c.Session(path)
	if err != nil {
		return nil, nil, TaskOut{}, err
	}
	if k := s.Kernel(); k.Status() == kernel.StatusDead {
		reason := "it stopped"
		if err := k.Err(); err != nil {
			reason = err.Error()
		}
		return nil, nil, TaskOut{}, fmt.Errorf("the kernel of %s is dead (%s): call restart_kernel or start_kernel to get a new one (its variables are lost), then run again", path, reason)
	}
	code, id, idx, note, inEditor, err := c.cellToRun(ctx, path, index, cellID, override)
	if err != nil {
		return nil, nil, TaskOut{}, err
	}
	e, err := s.Submit(session.Request{CellID: id, Code: code, Origin: "agent", AllowStdin: true})
	if err != nil {
		return nil, nil, TaskOut{}, fmt.Errorf("queue execution on the kernel of %s: %w", path, err)
	}
	if id != "" && override == nil {
		if inEditor {
			c.Core.editorStamps.Store(e.ID, true)
		} else {
			go c.Core.stampWhenDone(path, s, e, false)
		}
	}
	return s, e, TaskOut{TaskID: e.ID, CellID: id, Index: idx, Status: string(e.State().Status), Note: note}, nil
}

func runCellAsync(ctx context.Context, c *Call, in RunCellIn) (TaskOut, error) {
	path, err := c.ResolvePath(in.NotebookPath)
	if err != nil {
		return TaskOut{}, err
	}
	_, _, out, err := c.submit(ctx, path, in.Index, in.CellID, in.CodeOverride)
	return out, err
}

func runCell(ctx context.Context, c *Call, in RunCellBlockingIn) (ExecutionOut, error) {
	path, err := c.ResolvePath(in.NotebookPath)
	if err != nil {
		return ExecutionOut{}, err
	}
	s, e, _, err := c.submit(ctx, path, in.Index, in.CellID, in.CodeOverride)
	if err != nil {
		return ExecutionOut{}, err
	}
	timeout := 60 * time.Second
	if in.TimeoutS > 0 {
		timeout = time.Duration(in.TimeoutS * float64(time.Second))
	}
	deadline := time.Now().Add(timeout)
	// MCP wants progress to grow with every notification, so it counts
	// notifications; the message says what happened.
	tick := 1.0
	c.progress(tick, 0, "queued")
	next, steps := 0, 0
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		if wait > 2*time.Second {
			wait = 2 * time.Second
		}
		chunk := e.Read(ctx, next, wait)
		if ctx.Err() != nil {
			// The caller gave up (MCP notifications/cancelled or a closed
			// connection): stop the work too rather than leave it running.
			cancelExecution(s, e)
			return ExecutionOut{}, fmt.Errorf("run_cell cancelled: execution %s was cancelled/interrupted", e.ID)
		}
		steps += len(chunk.Ops)
		next = chunk.Next
		tick++
		c.progress(tick, 0, progressMessage(chunk.State, steps))
		if chunk.Done {
			return c.Core.executionOutImages(e, next, in.Images), nil
		}
	}
	out := c.Core.executionOutImages(e, next, in.Images)
	out.LLMSummary = fmt.Sprintf("still %s after %s; follow it with get_execution_stream(task_id=%q, since=%d) or stop it with interrupt_kernel\n%s",
		out.Status, timeout, e.ID, out.Next, out.LLMSummary)
	return out, nil
}

// StampHumanRun stamps a run a person started from the editor once it ends,
// like agent runs are stamped, so the record survives a sidecar restart. The
// stamp goes into the open buffer only (one more change in a notebook the run
// already made dirty with its outputs and execution count); a notebook closed
// meanwhile is left alone rather than written behind the person's back.
// It returns at once.
func (core *Core) StampHumanRun(path string, s *session.Session, e *session.Execution) {
	if e.CellID == "" {
		return
	}
	go core.stampWhenDone(path, s, e, true)
}

// stampWhenDone records a finished run of a cell's own source in the cell's
// metadata (StampExecution), so sync detection survives a sidecar restart. It
// runs after the tool call returned, on the current buffer (or, unless
// editorOnly, the file).
func (core *Core) stampWhenDone(path string, s *session.Session, e *session.Execution, editorOnly bool) {
	select {
	case <-e.Done():
	case <-s.Kernel().Done():
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The editor refuses an edit computed against an older buffer version,
	// and the end of a run moves the version on (last outputs, execution
	// order) at about the time the stamp is computed: try again on a fresh read.
	for attempt := 1; ; attempt++ {
		err := (&Call{Core: core, EditorOnly: editorOnly}).StampExecution(ctx, path, s, e)
		if err == nil {
			return
		}
		if !errors.Is(err, ErrEditConflict) || attempt == stampAttempts {
			core.Logger.Debug("stamp cell metadata after run", "cell", e.CellID, "attempts", attempt, "err", err)
			return
		}
		select {
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		case <-ctx.Done():
			return
		}
	}
}

// stampAttempts bounds the tries of a stamp the editor refused as stale.
const stampAttempts = 4

func cancelExecution(s *session.Session, e *session.Execution) {
	st := e.State().Status
	if st == session.StatusRunning {
		_ = s.Interrupt(context.Background())
		return
	}
	_ = s.Cancel(e.ID)
}

func progressMessage(st session.ExecState, ops int) string {
	return fmt.Sprintf("%s, %d output op(s)", st.Status, ops)
}

func getExecutionStream(ctx context.Context, c *Call, in StreamIn) (ExecutionOut, error) {
	path, s, err := c.SessionFor(in.NotebookPath)
	if err != nil {
		return ExecutionOut{}, err
	}
	e := s.Execution(in.TaskID)
	if e == nil {
		return ExecutionOut{}, fmt.Errorf("%w %q for %s: use the task_id returned by run_cell_async on this notebook", ErrUnknownTask, in.TaskID, path)
	}
	if in.Since < 0 {
		return ExecutionOut{}, fmt.Errorf("%w: since must be ≥ 0 (the next value of the previous answer)", ErrBadArguments)
	}
	wait := time.Duration(in.WaitMs) * time.Millisecond
	if wait > time.Minute {
		wait = time.Minute
	}
	chunk := e.Read(ctx, in.Since, wait)
	out := c.Core.executionOut(e, chunk.Next)
	if !out.Done {
		// While it runs, the ops are the increments; the whole outputs come once, at the end.
		out.RawOutputs = []json.RawMessage{}
	}
	out.Ops = []OpOut{}
	budget := inlineLimit
	for _, op := range chunk.Ops {
		o := OpOut{Seq: op.Seq, Kind: op.Kind, Index: op.Index, Output: op.Output, Name: op.Name, Text: op.Text}
		if n := len(op.Output) + len(op.Text); n > budget {
			o.Output, o.Text, o.Elided = nil, "", true
			out.RawResource = c.Core.storeOutputs(e)
		} else {
			budget -= n
		}
		out.Ops = append(out.Ops, o)
	}
	return out, nil
}

func submitInput(ctx context.Context, c *Call, in InputIn) (ExecutionOut, error) {
	path, s, err := c.SessionFor(in.NotebookPath)
	if err != nil {
		return ExecutionOut{}, err
	}
	e := s.Execution(in.TaskID)
	if e == nil {
		return ExecutionOut{}, fmt.Errorf("%w %q for %s: use the task_id returned by run_cell_async on this notebook", ErrUnknownTask, in.TaskID, path)
	}
	if e.PendingInput() == nil {
		return ExecutionOut{}, fmt.Errorf("task %s is not waiting for input (status %s); check get_execution_stream for pending_input first", in.TaskID, e.State().Status)
	}
	if err := e.SubmitInput(in.Value); err != nil {
		return ExecutionOut{}, fmt.Errorf("submit input to task %s: %w", in.TaskID, err)
	}
	return c.Core.executionOut(e, e.Read(ctx, 0, 0).Next), nil
}

// executionOut renders an execution's current outputs in both views. Large
// raw outputs are stored as a resource and linked instead of inlined.
func (core *Core) executionOut(e *session.Execution, next int) ExecutionOut {
	return core.executionOutImages(e, next, "")
}

// executionOutImages is executionOut with the images argument of run_cell (fit | full | none).
func (core *Core) executionOutImages(e *session.Execution, next int, images string) ExecutionOut {
	st := e.State()
	raws := e.Outputs()
	out := ExecutionOut{
		TaskID:         e.ID,
		CellID:         e.CellID,
		Status:         string(st.Status),
		Done:           st.Done(),
		ExecutionCount: st.ExecutionCount,
		LLMSummary:     output.Summarize(raws, output.SummaryOptions{}),
		RawOutputs:     raws,
		Next:           next,
	}
	if raws == nil {
		out.RawOutputs = []json.RawMessage{}
	}
	if st.Ename != "" {
		out.Error = st.Ename + ": " + st.Evalue
	}
	if p := e.PendingInput(); p != nil {
		out.PendingInput = &InputOut{Prompt: p.Prompt, Password: p.Password}
	}
	if out.Done {
		out.images, out.LLMSummary = attachImagesAs(raws, out.LLMSummary, images)
	}
	size := 0
	for _, r := range raws {
		size += len(r)
	}
	if size > inlineLimit {
		out.RawOutputs = []json.RawMessage{}
		out.RawResource = core.storeRaw(e.ID, raws)
	}
	return out
}

// storeOutputs serves the execution's current outputs as a resource and returns its URI.
func (core *Core) storeOutputs(e *session.Execution) string {
	return core.storeRaw(e.ID, e.Outputs())
}

func (core *Core) storeRaw(taskID string, raws []json.RawMessage) string {
	if raws == nil {
		raws = []json.RawMessage{}
	}
	b, _ := json.Marshal(raws)
	uri := "notebook://outputs/" + url.PathEscape(taskID)
	core.blobs.put(Blob{URI: uri, Name: "outputs of " + taskID, MIMEType: "application/json", Data: b})
	return uri
}

// ResourceLinks names the resource holding outputs too large to inline.
func (o ExecutionOut) ResourceLinks() []Link {
	if o.RawResource == "" {
		return nil
	}
	return []Link{{URI: o.RawResource, Name: "outputs of " + o.TaskID, MIMEType: "application/json", Description: "raw nbformat outputs (too large to inline)"}}
}

// ModelText is the text content for the model: everything but the raw MIME
// bundles (base64 images, plotly JSON), which stay in structuredContent for
// clients that render them; llm_summary describes them instead.
func (o ExecutionOut) ModelText() string {
	c := o
	c.RawOutputs = nil
	// The ops' MIME bundles and stream text (a 100k-line run, a PNG in base64)
	// stay in structuredContent too: llm_summary is the bounded view of them.
	if len(o.Ops) > 0 {
		c.Ops = make([]OpOut, len(o.Ops))
		for i, op := range o.Ops {
			op.Output, op.Text = nil, ""
			c.Ops[i] = op
		}
	}
	return withOmitted(c, len(o.RawOutputs))
}

// withOmitted marshals v and, when raw outputs were left out, says where they are.
func withOmitted(v any, raw int) string {
	b, _ := json.Marshal(v)
	if raw > 0 && len(b) > 1 && b[len(b)-1] == '}' {
		b = append(b[:len(b)-1], fmt.Sprintf(`,"raw_outputs_omitted":"%d raw output(s) are in structuredContent.raw_outputs"}`, raw)...)
	}
	return string(b)
}

// RunCellsIn are run_cells' arguments.
type RunCellsIn struct {
	NotebookPath string   `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	CellIDs      []string `json:"cell_ids,omitempty" jsonschema:"the cells to run, in this order (preferred); else the range start…end"`
	Start        *int     `json:"start,omitempty" jsonschema:"first cell index of the range (default 0)"`
	End          *int     `json:"end,omitempty" jsonschema:"last cell index of the range, inclusive (default the last cell)"`
	StopOnError  *bool    `json:"stop_on_error,omitempty" jsonschema:"stop at the first cell that fails (default true): the rest are not run"`
	TimeoutS     float64  `json:"timeout_s,omitempty" jsonschema:"seconds to wait for the whole range (default 600); what still runs then keeps running"`
}

// CellRunOut is one cell of a run_cells answer.
type CellRunOut struct {
	CellID         string `json:"cell_id"`
	Index          int    `json:"index"`
	TaskID         string `json:"task_id,omitempty"`
	Status         string `json:"status" jsonschema:"ok | error | aborted | cancelled | timeout | dead | not_run"`
	ExecutionCount int    `json:"execution_count,omitempty"`
	Error          string `json:"error,omitempty"`
	LLMSummary     string `json:"llm_summary,omitempty" jsonschema:"bounded text view of the cell's outputs"`
}

// RunCellsOut is run_cells' answer.
type RunCellsOut struct {
	Status string       `json:"status" jsonschema:"ok (every cell ran without error) | error | cancelled | timeout"`
	Ran    int          `json:"ran" jsonschema:"cells that ran"`
	Cells  []CellRunOut `json:"cells"`

	images []Image
}

// ModelImages are the images of the range's cells (the budget picks the newest).
func (o RunCellsOut) ModelImages() []Image { return o.images }

// perCellSummary keeps a range's answer model-sized: each cell's view is short.
var perCellSummary = output.SummaryOptions{MaxBytes: 1200, StreamHead: 8, StreamTail: 4}

func runCells(ctx context.Context, c *Call, in RunCellsIn) (RunCellsOut, error) {
	path, s, err := c.SessionFor(in.NotebookPath)
	if err != nil {
		return RunCellsOut{}, err
	}
	ld, err := c.LoadNotebook(ctx, path)
	if err != nil {
		return RunCellsOut{}, err
	}
	var cells []notebookmodel.Cell
	if len(in.CellIDs) > 0 {
		if in.Start != nil || in.End != nil {
			return RunCellsOut{}, fmt.Errorf("%w: give cell_ids or start/end, not both", ErrBadArguments)
		}
		for _, id := range in.CellIDs {
			t, err := c.ResolveCell(path, ld.NB, nil, id)
			if err != nil {
				return RunCellsOut{}, err
			}
			cell := t.Cell
			if cell.Type != notebookmodel.KindCode {
				return RunCellsOut{}, fmt.Errorf("%w: cell %s is a %s cell, not code", ErrBadArguments, id, cell.Type)
			}
			cells = append(cells, cell)
		}
	} else {
		n := ld.NB.Len()
		if n == 0 {
			return RunCellsOut{Status: "ok", Cells: []CellRunOut{}}, nil
		}
		start, end := 0, n-1
		// The range's ends are indices the agent saw: read them through its view
		// (the cells it meant), then run what lies between them now.
		if in.Start != nil {
			t, err := c.ResolveCell(path, ld.NB, in.Start, "")
			if err != nil {
				return RunCellsOut{}, fmt.Errorf("start: %w", err)
			}
			start = t.Cell.Index
		}
		if in.End != nil {
			t, err := c.ResolveCell(path, ld.NB, in.End, "")
			if err != nil {
				return RunCellsOut{}, fmt.Errorf("end: %w", err)
			}
			end = t.Cell.Index
		}
		if start > end {
			return RunCellsOut{}, fmt.Errorf("%w: the range's start (cell %d now) comes after its end (cell %d now)", ErrBadArguments, start, end)
		}
		for _, cell := range ld.NB.Cells()[start : end+1] {
			if cell.Type == notebookmodel.KindCode {
				cells = append(cells, cell)
			}
		}
	}
	stop := in.StopOnError == nil || *in.StopOnError
	timeout := 600 * time.Second
	if in.TimeoutS > 0 {
		timeout = time.Duration(in.TimeoutS * float64(time.Second))
	}
	deadline := time.Now().Add(timeout)
	out := RunCellsOut{Status: "ok", Cells: make([]CellRunOut, 0, len(cells))}
	var raws []json.RawMessage
	for i, cell := range cells {
		r := CellRunOut{CellID: cell.ID, Index: cell.Index, Status: "not_run"}
		if out.Status != "ok" {
			out.Cells = append(out.Cells, r)
			continue
		}
		_, e, _, err := c.submit(ctx, path, nil, cell.ID, nil)
		if err != nil {
			return RunCellsOut{}, fmt.Errorf("run_cells: cell %s (%d of %d): %w", cell.ID, i+1, len(cells), err)
		}
		c.progress(float64(i+1), float64(len(cells)), fmt.Sprintf("cell %d of %d (%s)", i+1, len(cells), cell.ID))
		r.TaskID = e.ID
		timer := time.NewTimer(time.Until(deadline))
		select {
		case <-e.Done():
		case <-s.Kernel().Done():
		case <-ctx.Done():
		case <-timer.C:
		}
		timer.Stop()
		st := e.State()
		switch {
		case ctx.Err() != nil:
			cancelExecution(s, e)
			out.Status, r.Status = "cancelled", "cancelled"
		case !st.Done():
			out.Status, r.Status = "timeout", "timeout"
		default:
			r.Status = string(st.Status)
			if st.Status != session.StatusOK && stop {
				out.Status = "error"
			}
		}
		r.ExecutionCount = st.ExecutionCount
		if st.Ename != "" {
			r.Error = st.Ename + ": " + st.Evalue
		}
		cellRaws := e.Outputs()
		r.LLMSummary = output.Summarize(cellRaws, perCellSummary)
		raws = append(raws, cellRaws...)
		if r.Status != "not_run" {
			out.Ran++
		}
		out.Cells = append(out.Cells, r)
	}
	if out.Status == "ok" {
		for _, r := range out.Cells {
			if r.Status != string(session.StatusOK) {
				out.Status = "error"
			}
		}
	}
	out.images, _ = attachImages(raws, "")
	return out, nil
}
