package protocol

import (
	"reflect"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
)

// ErrorCode is an application error code of a JSON-RPC error response, in the
// range −32000…−32099 the JSON-RPC spec leaves to servers.
type ErrorCode int

const (
	// CodeStaleView: the cell index the caller used no longer points at the
	// cell id it saw; data is StaleViewData with the fresh outline.
	CodeStaleView ErrorCode = -32001
	// CodeKernelDead: the notebook's kernel died; data is KernelDeadData.
	CodeKernelDead ErrorCode = -32002
	// CodeNotFound: no such notebook, kernel, execution, cell or tool; data is NotFoundData.
	CodeNotFound ErrorCode = -32003
	// CodeEditRefused: the buffer changed since the edit was computed, or the
	// edit is invalid; data is EditRefusedData.
	CodeEditRefused ErrorCode = -32004
	// CodePathOutsideWorkspace: the notebook path is outside every workspace
	// folder; data is PathOutsideWorkspaceData.
	CodePathOutsideWorkspace ErrorCode = -32005
	// CodeProtocolMismatch: the two sides were built from different protocol
	// versions; data is ProtocolMismatchData.
	CodeProtocolMismatch ErrorCode = -32006
	// CodeKernelStartFailed: the kernel could not be started (no ipykernel,
	// bad environment, crash at startup); data is KernelStartFailedData.
	CodeKernelStartFailed ErrorCode = -32007
	// CodeNotInitialized: a request came before initialize.
	CodeNotInitialized ErrorCode = -32008
)

// ErrorSpec declares an error code and the type of its data.
type ErrorSpec struct {
	Name      string // TS name in ErrorCodes
	ConstName string // Go constant, whose doc comment documents the code
	Code      ErrorCode
	Data      reflect.Type // nil when the error carries no data
}

// Errors is every application error code.
var Errors = []ErrorSpec{
	{"StaleView", "CodeStaleView", CodeStaleView, typeOf[StaleViewData]()},
	{"KernelDead", "CodeKernelDead", CodeKernelDead, typeOf[KernelDeadData]()},
	{"NotFound", "CodeNotFound", CodeNotFound, typeOf[NotFoundData]()},
	{"EditRefused", "CodeEditRefused", CodeEditRefused, typeOf[EditRefusedData]()},
	{"PathOutsideWorkspace", "CodePathOutsideWorkspace", CodePathOutsideWorkspace, typeOf[PathOutsideWorkspaceData]()},
	{"ProtocolMismatch", "CodeProtocolMismatch", CodeProtocolMismatch, typeOf[ProtocolMismatchData]()},
	{"KernelStartFailed", "CodeKernelStartFailed", CodeKernelStartFailed, typeOf[KernelStartFailedData]()},
	{"NotInitialized", "CodeNotInitialized", CodeNotInitialized, nil},
}

// StaleViewData is the data of CodeStaleView.
type StaleViewData struct {
	// NotebookPath is the notebook the request named.
	NotebookPath string `json:"notebookPath"`
	// Index is the index the caller used, if any.
	Index *int `json:"index"`
	// CellID is the cell id the caller expected there, if any.
	CellID string `json:"cellId,omitempty"`
	// Version is the buffer version of Outline (0 for a file on disk).
	Version int `json:"version"`
	// Outline is the notebook's current outline.
	Outline []notebookmodel.OutlineEntry `json:"outline"`
}

// KernelDeadData is the data of CodeKernelDead.
type KernelDeadData struct {
	// NotebookPath is the notebook whose kernel died.
	NotebookPath string `json:"notebookPath"`
	// ExitStatus describes how the kernel process ended ("exit status 1", "signal: killed").
	ExitStatus string `json:"exitStatus"`
}

// NotFoundKind says what was not found.
type NotFoundKind = string

// Things that can be missing (NotFoundData.Kind).
const (
	NotFoundNotebook    NotFoundKind = "notebook"
	NotFoundKernel      NotFoundKind = "kernel"
	NotFoundExecution   NotFoundKind = "execution"
	NotFoundCell        NotFoundKind = "cell"
	NotFoundTool        NotFoundKind = "tool"
	NotFoundEnvironment NotFoundKind = "environment"
	NotFoundKernelspec  NotFoundKind = "kernelspec"
)

// NotFoundData is the data of CodeNotFound.
type NotFoundData struct {
	// Kind is notebook | kernel | execution | cell | tool | environment | kernelspec.
	Kind NotFoundKind `json:"kind"`
	// Name is what was looked for.
	Name string `json:"name"`
}

// EditRefusedData is the data of CodeEditRefused.
type EditRefusedData struct {
	// NotebookPath is the notebook the edit was for.
	NotebookPath string `json:"notebookPath"`
	// Reason says why, for the agent.
	Reason string `json:"reason"`
	// ExpectedVersion is the version the edit was computed against.
	ExpectedVersion int `json:"expectedVersion"`
	// Version is the buffer's current version.
	Version int `json:"version"`
}

// PathOutsideWorkspaceData is the data of CodePathOutsideWorkspace.
type PathOutsideWorkspaceData struct {
	// Path is the notebook path as the request named it.
	Path string `json:"path"`
	// WorkspaceFolders are the folders notebooks must be inside.
	WorkspaceFolders []string `json:"workspaceFolders"`
}

// ProtocolMismatchData is the data of CodeProtocolMismatch.
type ProtocolMismatchData struct {
	// SidecarHash is the sidecar's protocol hash.
	SidecarHash string `json:"sidecarHash"`
	// ClientHash is the hash the client sent.
	ClientHash string `json:"clientHash"`
}

// KernelStartFailedData is the data of CodeKernelStartFailed.
type KernelStartFailedData struct {
	// NotebookPath is the notebook whose kernel did not start.
	NotebookPath string `json:"notebookPath"`
	// Python is the interpreter that was tried, if any.
	Python string `json:"python,omitempty"`
	// InstallCommand is the exact command that fixes a missing ipykernel, if that is the cause.
	InstallCommand string `json:"installCommand,omitempty"`
	// Stderr is the tail of the kernel's stderr.
	Stderr string `json:"stderr,omitempty"`
}
