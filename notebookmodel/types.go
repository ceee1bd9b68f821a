package notebookmodel

import "encoding/json"

// CellKind is a cell type as nbformat names it.
type CellKind = string

// Cell kinds as nbformat names them.
const (
	KindCode     CellKind = "code"
	KindMarkdown CellKind = "markdown"
	KindRaw      CellKind = "raw"
)

// Cell is one notebook cell, decoded for queries.
type Cell struct {
	Index          int
	ID             string
	Type           string // "code", "markdown" or "raw"
	Language       string
	Source         string
	Metadata       json.RawMessage
	ExecutionCount *int
	Outputs        []json.RawMessage
}

// OutlineEntry is one line of a notebook outline: enough for an agent to find
// a cell and name it by id without reading the whole notebook.
type OutlineEntry struct {
	// Index is the cell's position (0-based).
	Index int `json:"index"`
	// ID is the nbformat cell id.
	ID string `json:"id"`
	// Type is "code", "markdown" or "raw".
	Type CellKind `json:"type"`
	// Language is the cell's language (the notebook language for code cells).
	Language string `json:"language"`
	// Title is the markdown heading text, or else the first non-blank source line (truncated).
	Title string `json:"title"`
	// HeadingLevel is the markdown heading level (1–6) of Title; 0 when Title is not a heading.
	HeadingLevel int `json:"headingLevel,omitempty"`
	// Lines is the number of source lines.
	Lines int `json:"lines"`
	// ExecutionCount is the code cell's execution count; null when never run.
	ExecutionCount *int `json:"executionCount"`
	// Outputs summarizes the cell's outputs.
	Outputs OutputSummary `json:"outputs"`
	// SourceHash is a short hash of the source, to tell whether a cell changed since it was read.
	SourceHash string `json:"sourceHash"`
}

// OutputSummary describes a cell's outputs without their content.
type OutputSummary struct {
	// Count is the number of outputs.
	Count int `json:"count"`
	// MimeTypes are the distinct MIME types (and "stream:stdout"/"stream:stderr") in output order.
	MimeTypes []string `json:"mimeTypes,omitempty"`
	// ErrorName is the ename of the first error output, if any.
	ErrorName string `json:"errorName,omitempty"`
	// Bytes is the JSON size of all outputs.
	Bytes int `json:"bytes"`
}

// EditOpKind names a buffer edit op.
type EditOpKind = string

// Edit op names (EditOp.Op).
const (
	OpInsert        EditOpKind = "insert"
	OpDelete        EditOpKind = "delete"
	OpReplaceSource EditOpKind = "replaceSource"
	OpMove          EditOpKind = "move"
	OpSetMetadata   EditOpKind = "setMetadata"
	OpChangeType    EditOpKind = "changeType"
	OpClearOutputs  EditOpKind = "clearOutputs"
)

// EditOp is one buffer edit the extension turns into VS Code NotebookEdits,
// applied in order; each op's indices refer to the document as left by the
// previous op.
type EditOp struct {
	// Op is insert | delete | replaceSource | move | setMetadata | changeType | clearOutputs.
	Op EditOpKind `json:"op"`
	// Index is the first cell the op touches (for insert: the position the new cells take).
	Index int `json:"index"`
	// Count is the number of cells the op touches (delete, move, clearOutputs; 1 for single-cell ops, the number of new cells for insert).
	Count int `json:"count"`
	// ToIndex is, for move, the index the first moved cell has after the move; 0 for other ops.
	ToIndex int `json:"toIndex"`
	// Cells are the new cells of insert, and the single replacement cell of changeType.
	Cells []EditCell `json:"cells,omitempty"`
	// Source is the new source of replaceSource.
	Source string `json:"source,omitempty"`
	// Metadata is the complete new cell metadata of setMetadata.
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// EditCell is a cell created by an EditOp.
type EditCell struct {
	// ID is the nbformat cell id the new cell must carry (in its metadata, for VS Code).
	ID string `json:"id,omitempty"`
	// Kind is "code", "markdown" or "raw".
	Kind CellKind `json:"kind"`
	// Language is the cell's language id.
	Language string `json:"language"`
	// Source is the cell's text.
	Source string `json:"source"`
	// Metadata is the nbformat cell metadata.
	Metadata json.RawMessage `json:"metadata,omitempty"`
}
