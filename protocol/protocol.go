package protocol

import (
	"encoding/json"
	"reflect"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
)

// Version is the protocol's major version; bump it on an incompatible change.
// Hash (generated) changes with any change of a method or type.
const Version = 1

// Direction says which side sends a method.
type Direction string

const (
	// ToSidecar methods are sent by the extension and served by the sidecar.
	ToSidecar Direction = "toSidecar"
	// ToExtension methods are sent by the sidecar and served by the extension.
	ToExtension Direction = "toExtension"
)

// MethodSpec declares one method. Result is nil for notifications and for
// requests whose result is always null.
type MethodSpec struct {
	Name         string
	ConstName    string // Go constant holding Name, whose doc comment documents the method
	Direction    Direction
	Notification bool
	Params       reflect.Type
	Result       reflect.Type
}

// Methods of the extension → sidecar direction.
const (
	// MethodInitialize is the first request of a connection: the extension
	// names itself and its workspace; the sidecar answers with its version,
	// its protocol hash (a mismatch is refused with CodeProtocolMismatch) and
	// the local socket external MCP clients attach to.
	MethodInitialize = "initialize"
	// MethodShutdown asks the sidecar to stop every kernel it started and exit
	// after answering.
	MethodShutdown = "shutdown"
	// MethodKernelStart starts (or reuses) the kernel of a notebook.
	MethodKernelStart = "kernel/start"
	// MethodKernelStop shuts the notebook's kernel down.
	MethodKernelStop = "kernel/stop"
	// MethodKernelRestart restarts the notebook's kernel (state is lost).
	MethodKernelRestart = "kernel/restart"
	// MethodKernelInterrupt interrupts the running execution of the notebook's kernel.
	MethodKernelInterrupt = "kernel/interrupt"
	// MethodKernelStatus returns the notebook's kernel, or null when none runs.
	MethodKernelStatus = "kernel/status"
	// MethodEnvList lists Python environments (venv, conda, system) usable as kernels.
	MethodEnvList = "env/list"
	// MethodKernelspecList lists installed Jupyter kernelspecs.
	MethodKernelspecList = "kernelspec/list"
	// MethodExecutionRun queues a cell's code on the notebook's kernel and
	// returns at once; outputs follow as execution/output notifications.
	MethodExecutionRun = "execution/run"
	// MethodExecutionCancel cancels a queued execution or interrupts a running one.
	MethodExecutionCancel = "execution/cancel"
	// MethodStdinReply answers a pending input() of an execution (alternative to
	// answering the stdin/request reverse request).
	MethodStdinReply = "stdin/reply"
	// MethodNotebookProvenance returns who created, last edited and last ran
	// each of the given cells, as far as the sidecar saw (for the cell status bar).
	MethodNotebookProvenance = "notebook/provenance"
	// MethodToolInvoke calls a tool of the shared tool core (the same tools MCP
	// clients see), for the extension's language-model tools.
	MethodToolInvoke = "tool/invoke"
)

// Methods of the sidecar → extension direction.
const (
	// MethodExecutionOutput streams one output operation of an execution;
	// seq is gap-free per execution, starting at 1.
	MethodExecutionOutput = "execution/output"
	// MethodExecutionState reports an execution's state change (queued,
	// running, finished); it shares the seq counter of execution/output.
	MethodExecutionState = "execution/state"
	// MethodKernelStatusChanged reports a kernel status change (starting, idle, busy, dead).
	MethodKernelStatusChanged = "kernel/statusChanged"
	// MethodSyncStatus reports whether the kernel state and the notebook have drifted apart.
	MethodSyncStatus = "sync/status"
	// MethodStdinRequest asks the user for input() of an execution.
	MethodStdinRequest = "stdin/request"
	// MethodEditorSnapshot asks for the live buffer of a notebook; null when
	// the notebook is not open in an editor.
	MethodEditorSnapshot = "editor/snapshot"
	// MethodEditorApplyEdit applies edits to an open notebook buffer as one
	// undoable WorkspaceEdit, only when the buffer still has expectedVersion.
	MethodEditorApplyEdit = "editor/applyEdit"
	// MethodEditorState asks where the person is in the editor (active notebook
	// and cell, selections, visible cells), without moving anything.
	MethodEditorState = "editor/state"
	// MethodEditorOpen opens a notebook beside the person's editor, without
	// taking the focus, with the MCP Agent Kernel preferred (after create_notebook).
	MethodEditorOpen = "editor/open"
)

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// Methods is every method of the protocol, in a stable order.
var Methods = []MethodSpec{
	{MethodInitialize, "MethodInitialize", ToSidecar, false, typeOf[InitializeParams](), typeOf[InitializeResult]()},
	{MethodShutdown, "MethodShutdown", ToSidecar, false, typeOf[ShutdownParams](), nil},
	{MethodKernelStart, "MethodKernelStart", ToSidecar, false, typeOf[KernelStartParams](), typeOf[KernelInfo]()},
	{MethodKernelStop, "MethodKernelStop", ToSidecar, false, typeOf[NotebookParams](), nil},
	{MethodKernelRestart, "MethodKernelRestart", ToSidecar, false, typeOf[NotebookParams](), typeOf[KernelInfo]()},
	{MethodKernelInterrupt, "MethodKernelInterrupt", ToSidecar, false, typeOf[NotebookParams](), nil},
	{MethodKernelStatus, "MethodKernelStatus", ToSidecar, false, typeOf[NotebookParams](), typeOf[*KernelInfo]()},
	{MethodEnvList, "MethodEnvList", ToSidecar, false, typeOf[EnvListParams](), typeOf[EnvListResult]()},
	{MethodKernelspecList, "MethodKernelspecList", ToSidecar, false, typeOf[KernelspecListParams](), typeOf[KernelspecListResult]()},
	{MethodExecutionRun, "MethodExecutionRun", ToSidecar, false, typeOf[ExecutionRunParams](), typeOf[ExecutionRunResult]()},
	{MethodExecutionCancel, "MethodExecutionCancel", ToSidecar, false, typeOf[ExecutionCancelParams](), nil},
	{MethodStdinReply, "MethodStdinReply", ToSidecar, false, typeOf[StdinReplyParams](), nil},
	{MethodToolInvoke, "MethodToolInvoke", ToSidecar, false, typeOf[ToolInvokeParams](), typeOf[ToolInvokeResult]()},
	{MethodNotebookProvenance, "MethodNotebookProvenance", ToSidecar, false, typeOf[ProvenanceParams](), typeOf[ProvenanceResult]()},

	{MethodExecutionOutput, "MethodExecutionOutput", ToExtension, true, typeOf[ExecutionOutputParams](), nil},
	{MethodExecutionState, "MethodExecutionState", ToExtension, true, typeOf[ExecutionStateParams](), nil},
	{MethodKernelStatusChanged, "MethodKernelStatusChanged", ToExtension, true, typeOf[KernelStatusChangedParams](), nil},
	{MethodSyncStatus, "MethodSyncStatus", ToExtension, true, typeOf[SyncStatusParams](), nil},
	{MethodStdinRequest, "MethodStdinRequest", ToExtension, false, typeOf[StdinRequestParams](), typeOf[StdinRequestResult]()},
	{MethodEditorSnapshot, "MethodEditorSnapshot", ToExtension, false, typeOf[EditorSnapshotParams](), typeOf[*notebookmodel.Snapshot]()},
	{MethodEditorApplyEdit, "MethodEditorApplyEdit", ToExtension, false, typeOf[EditorApplyEditParams](), typeOf[EditorApplyEditResult]()},
	{MethodEditorState, "MethodEditorState", ToExtension, false, typeOf[EditorStateParams](), typeOf[EditorState]()},
	{MethodEditorOpen, "MethodEditorOpen", ToExtension, false, typeOf[EditorOpenParams](), typeOf[EditorOpenResult]()},
}

// InitializeParams opens a connection.
type InitializeParams struct {
	// ClientName is the client's name ("vscode", "code-server", …).
	ClientName string `json:"clientName"`
	// ClientVersion is the extension's version.
	ClientVersion string `json:"clientVersion"`
	// WorkspaceFolders are the absolute paths of the workspace folders; notebooks outside them are refused.
	WorkspaceFolders []string `json:"workspaceFolders"`
	// ProtocolHash is the client's generated protocol hash (PROTOCOL_HASH).
	ProtocolHash string `json:"protocolHash"`
}

// InitializeResult answers initialize.
type InitializeResult struct {
	// SidecarVersion is the sidecar binary's version.
	SidecarVersion string `json:"sidecarVersion"`
	// ProtocolHash is the sidecar's protocol hash.
	ProtocolHash string `json:"protocolHash"`
	// AttachSocket is the local socket path `mcp-jupyter mcp` attaches to; empty when attach is off.
	AttachSocket string `json:"attachSocket"`
}

// ShutdownParams has no fields.
type ShutdownParams struct{}

// NotebookParams names a notebook.
type NotebookParams struct {
	// NotebookPath is the notebook's absolute path.
	NotebookPath string `json:"notebookPath"`
}

// EnvKind is the kind of a Python environment.
type EnvKind = string

// Environment kinds (EnvironmentRef.Kind, Environment.Kind).
const (
	EnvVenv   EnvKind = "venv"
	EnvConda  EnvKind = "conda"
	EnvSystem EnvKind = "system"
)

// EnvironmentRef picks a Python environment for a kernel.
type EnvironmentRef struct {
	// Kind is "venv", "conda" or "system".
	Kind EnvKind `json:"kind"`
	// Path is the environment prefix or its python executable.
	Path string `json:"path"`
}

// KernelStartParams starts a notebook's kernel.
type KernelStartParams struct {
	// NotebookPath is the notebook's absolute path.
	NotebookPath string `json:"notebookPath"`
	// Environment is the Python environment to launch ipykernel from.
	Environment *EnvironmentRef `json:"environment,omitempty"`
	// KernelName is a kernelspec name, used when Environment is absent.
	KernelName string `json:"kernelName,omitempty"`
}

// KernelStatus is a kernel's status.
type KernelStatus = string

// Kernel statuses (KernelInfo.Status, KernelStatusChangedParams.Status).
const (
	KernelStarting   KernelStatus = "starting"
	KernelIdle       KernelStatus = "idle"
	KernelBusy       KernelStatus = "busy"
	KernelDead       KernelStatus = "dead"
	KernelRestarting KernelStatus = "restarting"
)

// KernelInfo describes a notebook's kernel.
type KernelInfo struct {
	// NotebookPath is the notebook's absolute path.
	NotebookPath string `json:"notebookPath"`
	// KernelName is the kernelspec (or environment) name.
	KernelName string `json:"kernelName"`
	// DisplayName is the human name of the kernel.
	DisplayName string `json:"displayName"`
	// Language is the kernel's language (python).
	Language string `json:"language"`
	// LanguageVersion is the language version from kernel_info_reply.
	LanguageVersion string `json:"languageVersion"`
	// Implementation is the kernel implementation (ipython) and its version.
	Implementation string `json:"implementation"`
	// Status is starting | idle | busy | dead.
	Status KernelStatus `json:"status"`
	// PID is the kernel's process id (0 when remote).
	PID int `json:"pid"`
	// Restarts counts restarts of this notebook's kernel.
	Restarts int `json:"restarts"`
	// Reused is true when kernel/start found the kernel already running.
	Reused bool `json:"reused"`
}

// EnvListParams lists environments.
type EnvListParams struct {
	// WorkspaceFolders are searched for venvs (.venv, venv, …) besides the usual places.
	WorkspaceFolders []string `json:"workspaceFolders"`
}

// Environment is a Python environment found on this machine.
type Environment struct {
	// Kind is "venv", "conda" or "system".
	Kind EnvKind `json:"kind"`
	// Name is a short human name.
	Name string `json:"name"`
	// Prefix is the environment's prefix directory.
	Prefix string `json:"prefix"`
	// Python is the python executable.
	Python string `json:"python"`
	// Version is the Python version.
	Version string `json:"version"`
	// HasIPyKernel is true when ipykernel is installed in it.
	HasIPyKernel bool `json:"hasIpykernel"`
}

// EnvListResult answers env/list.
type EnvListResult struct {
	// Environments are the environments found, best first.
	Environments []Environment `json:"environments"`
}

// KernelspecListParams has no fields.
type KernelspecListParams struct{}

// Kernelspec is an installed Jupyter kernelspec.
type Kernelspec struct {
	// Name is the kernelspec's directory name.
	Name string `json:"name"`
	// DisplayName is the human name.
	DisplayName string `json:"displayName"`
	// Language is the kernel's language.
	Language string `json:"language"`
	// ResourceDir is the kernelspec's directory.
	ResourceDir string `json:"resourceDir"`
}

// KernelspecListResult answers kernelspec/list.
type KernelspecListResult struct {
	// Kernelspecs are the installed kernelspecs.
	Kernelspecs []Kernelspec `json:"kernelspecs"`
}

// Origin says who started an execution.
type Origin = string

// Execution origins.
const (
	OriginHuman Origin = "human"
	OriginAgent Origin = "agent"
)

// ExecutionRunParams queues code of a cell.
type ExecutionRunParams struct {
	// NotebookPath is the notebook's absolute path.
	NotebookPath string `json:"notebookPath"`
	// CellID is the nbformat id of the cell the code comes from.
	CellID string `json:"cellId"`
	// Code is the code to run (the buffer's cell text).
	Code string `json:"code"`
	// Origin is "human" or "agent".
	Origin Origin `json:"origin"`
	// Snapshot is the live buffer, when the notebook is open.
	Snapshot *notebookmodel.Snapshot `json:"snapshot,omitempty"`
}

// ExecutionRunResult answers execution/run.
type ExecutionRunResult struct {
	// ExecutionID names the execution in notifications and later requests.
	ExecutionID string `json:"executionId"`
}

// ExecutionCancelParams cancels an execution.
type ExecutionCancelParams struct {
	// ExecutionID is the execution to cancel (from execution/run).
	ExecutionID string `json:"executionId"`
}

// StdinReplyParams answers a pending input().
type StdinReplyParams struct {
	// ExecutionID is the execution whose input() waits.
	ExecutionID string `json:"executionId"`
	// Value is the text the user typed.
	Value string `json:"value"`
}

// ToolInvokeParams calls a tool.
type ToolInvokeParams struct {
	// Name is the tool name (as MCP clients see it).
	Name string `json:"name"`
	// Arguments are the tool's JSON arguments.
	Arguments json.RawMessage `json:"arguments"`
	// Snapshot is the live buffer of the notebook the call concerns, when open.
	Snapshot *notebookmodel.Snapshot `json:"snapshot,omitempty"`
}

// ToolInvokeResult is a tool's answer.
type ToolInvokeResult struct {
	// Content is the text for the language model.
	Content string `json:"content"`
	// Structured is the tool's typed output.
	Structured json.RawMessage `json:"structured,omitempty"`
	// IsError is true when the tool failed; Content says why and what to do.
	IsError bool `json:"isError"`
	// Images are the output's pictures fitted for a vision model (newest first, downscaled), if any.
	Images []ToolImage `json:"images,omitempty"`
}

// ToolImage is one picture of a tool result.
type ToolImage struct {
	// MIMEType is the image's MIME type (image/png, image/jpeg, …).
	MIMEType string `json:"mimeType"`
	// Data is the encoded image (base64 in JSON).
	Data []byte `json:"data"`
}

// OutputOpKind is the kind of an OutputOp.
type OutputOpKind = string

// Output op kinds (OutputOp.Kind).
const (
	OutputAppend     OutputOpKind = "append"
	OutputAppendText OutputOpKind = "appendText"
	OutputReplace    OutputOpKind = "replace"
	OutputClear      OutputOpKind = "clear"
)

// OutputOp is one change to a cell's outputs.
type OutputOp struct {
	// Seq is the op's sequence number within its execution.
	Seq int `json:"seq"`
	// Kind is append (a new output), appendText (stream text added to output Index),
	// replace (update_display_data replaced output Index) or clear (clear_output).
	Kind OutputOpKind `json:"kind"`
	// Index is the output index appendText and replace apply to.
	Index int `json:"index"`
	// Output is the nbformat output of append and replace, MIME bundles untouched.
	Output json.RawMessage `json:"output,omitempty"`
	// Name is the stream name of appendText (stdout, stderr).
	Name string `json:"name,omitempty"`
	// Text is the text appendText adds.
	Text string `json:"text,omitempty"`
}

// ExecutionOutputParams carries one output op.
type ExecutionOutputParams struct {
	// NotebookPath is the notebook's absolute path.
	NotebookPath string `json:"notebookPath"`
	// ExecutionID is the execution the output belongs to.
	ExecutionID string `json:"executionId"`
	// CellID is the nbformat id of the cell that runs.
	CellID string `json:"cellId"`
	// Seq is gap-free per execution; a gap means a lost notification.
	Seq int `json:"seq"`
	// Op is the change to the cell's outputs.
	Op OutputOp `json:"op"`
}

// ExecStatus is an execution's status.
type ExecStatus = string

// Execution statuses (ExecutionStateParams.Status).
const (
	StatusQueued    ExecStatus = "queued"
	StatusRunning   ExecStatus = "running"
	StatusOK        ExecStatus = "ok"
	StatusError     ExecStatus = "error"
	StatusAborted   ExecStatus = "aborted"
	StatusCancelled ExecStatus = "cancelled"
	StatusTimeout   ExecStatus = "timeout"
	StatusDead      ExecStatus = "dead"
)

// ExecutionStateParams reports an execution's state.
type ExecutionStateParams struct {
	// NotebookPath is the notebook's absolute path.
	NotebookPath string `json:"notebookPath"`
	// ExecutionID is the execution whose state changed.
	ExecutionID string `json:"executionId"`
	// CellID is the nbformat id of the cell that runs.
	CellID string `json:"cellId"`
	// Origin is "human" or "agent".
	Origin Origin `json:"origin"`
	// Status is queued | running | ok | error | aborted | cancelled | timeout | dead.
	Status ExecStatus `json:"status"`
	// ExecutionCount is the kernel's execution count once known.
	ExecutionCount *int `json:"executionCount"`
	// StartedAt is when the kernel started running it (RFC 3339), empty while queued.
	StartedAt string `json:"startedAt,omitempty"`
	// EndedAt is when it finished (RFC 3339), empty until then.
	EndedAt string `json:"endedAt,omitempty"`
	// Ename is the exception class of status error.
	Ename string `json:"ename,omitempty"`
	// Evalue is the exception message of status error.
	Evalue string `json:"evalue,omitempty"`
	// Seq continues the execution's seq counter.
	Seq int `json:"seq"`
	// Stamp is, on the final state of a person's run of a cell (or an agent's
	// run of a cell's own source in an open notebook), the sync
	// record to keep in that cell's nbformat metadata under "mcp-jupyter"
	// (the extension writes it when the notebook is saved, so a run puts no
	// step on the undo stack); absent otherwise.
	Stamp json.RawMessage `json:"stamp,omitempty"`
}

// KernelStatusChangedParams reports a kernel status.
type KernelStatusChangedParams struct {
	// NotebookPath is the notebook's absolute path.
	NotebookPath string `json:"notebookPath"`
	// Status is starting | idle | busy | dead | restarting.
	Status KernelStatus `json:"status"`
}

// SyncStatusParams reports kernel/notebook drift.
type SyncStatusParams struct {
	// NotebookPath is the notebook's absolute path.
	NotebookPath string `json:"notebookPath"`
	// SyncNeeded is true when the kernel state no longer matches the notebook.
	SyncNeeded bool `json:"syncNeeded"`
	// Reason says why, for the user.
	Reason string `json:"reason"`
	// DirtyCells are the ids of cells edited since they last ran.
	DirtyCells []string `json:"dirtyCells"`
}

// StdinRequestParams asks for input().
type StdinRequestParams struct {
	// NotebookPath is the notebook's absolute path.
	NotebookPath string `json:"notebookPath"`
	// ExecutionID is the execution that called input().
	ExecutionID string `json:"executionId"`
	// CellID is the nbformat id of the cell that runs.
	CellID string `json:"cellId"`
	// Prompt is input()'s prompt.
	Prompt string `json:"prompt"`
	// Password is true for getpass(): hide what is typed.
	Password bool `json:"password"`
}

// StdinRequestResult answers stdin/request.
type StdinRequestResult struct {
	// Value is the text the user typed.
	Value string `json:"value"`
}

// EditorSnapshotParams names the notebook whose buffer is wanted.
type EditorSnapshotParams struct {
	// NotebookPath is the notebook's absolute path.
	NotebookPath string `json:"notebookPath"`
}

// ProvenanceParams names the cells whose provenance is wanted.
type ProvenanceParams struct {
	// NotebookPath is the notebook's absolute path.
	NotebookPath string `json:"notebookPath"`
	// CellIDs are the cells asked about.
	CellIDs []string `json:"cellIds"`
}

// ProvenanceResult holds one line per cell the sidecar has a record of.
type ProvenanceResult struct {
	// Cells maps a cell id to "created by agent 10:02:03Z (insert_cell); ran by human …".
	Cells map[string]string `json:"cells"`
}

// EditorOpenParams names the notebook to open.
type EditorOpenParams struct {
	// NotebookPath is the notebook's absolute path.
	NotebookPath string `json:"notebookPath"`
}

// EditorOpenResult says whether the notebook is now shown.
type EditorOpenResult struct {
	// Opened is true when the notebook is shown in an editor.
	Opened bool `json:"opened"`
}

// EditorStateParams asks for the editor state, of one notebook or of the active one.
type EditorStateParams struct {
	// NotebookPath is the notebook's absolute path; empty means the active notebook editor.
	NotebookPath string `json:"notebookPath,omitempty"`
}

// EditorState is where the person is in a notebook editor.
type EditorState struct {
	// NotebookPath is the notebook shown; empty when none is open (or not the one asked for).
	NotebookPath string `json:"notebookPath"`
	// Active is true when this is the active notebook editor (the one with focus or last focused).
	Active bool `json:"active"`
	// Visible is true when the notebook is shown in an editor group.
	Visible bool `json:"visible"`
	// ActiveCell is the cell of the primary selection, if the notebook has cells.
	ActiveCell *EditorCell `json:"activeCell,omitempty"`
	// Selections are the selected cell ranges (end exclusive), primary first.
	Selections []CellRange `json:"selections"`
	// VisibleRanges are the cell ranges scrolled into view (end exclusive).
	VisibleRanges []CellRange `json:"visibleRanges"`
	// TextSelection is the text selected inside a cell's editor, if any.
	TextSelection *TextSelection `json:"textSelection,omitempty"`
}

// EditorCell names one cell.
type EditorCell struct {
	// ID is the cell's nbformat id.
	ID string `json:"id"`
	// Index is its position.
	Index int `json:"index"`
}

// CellRange is a range of cell indices, end exclusive.
type CellRange struct {
	// Start is the first index.
	Start int `json:"start"`
	// End is one past the last index.
	End int `json:"end"`
}

// TextSelection is a selection in a cell's text (0-based lines and characters).
type TextSelection struct {
	// CellID is the cell the selection is in.
	CellID string `json:"cellId"`
	// StartLine is the selection's first line.
	StartLine int `json:"startLine"`
	// StartCharacter is its first character.
	StartCharacter int `json:"startCharacter"`
	// EndLine is its last line.
	EndLine int `json:"endLine"`
	// EndCharacter is one past its last character.
	EndCharacter int `json:"endCharacter"`
	// Text is the selected text (capped at 4,000 characters).
	Text string `json:"text"`
}

// EditorApplyEditParams applies edits to a buffer.
type EditorApplyEditParams struct {
	// NotebookPath is the notebook's absolute path.
	NotebookPath string `json:"notebookPath"`
	// ExpectedVersion is the buffer version the edits were computed against;
	// the extension refuses them when the buffer moved on.
	ExpectedVersion int `json:"expectedVersion"`
	// Edits are applied in order as one undoable edit.
	Edits []notebookmodel.EditOp `json:"edits"`
}

// EditorApplyEditResult answers editor/applyEdit.
type EditorApplyEditResult struct {
	// Applied is false when the edit was refused.
	Applied bool `json:"applied"`
	// Version is the buffer version after the edit (or the current one when refused).
	Version int `json:"version"`
	// Reason says why the edit was refused.
	Reason string `json:"reason,omitempty"`
}
