package tools

import (
	"context"
	"fmt"
)

// EditorStateIn are get_editor_state's arguments.
type EditorStateIn struct {
	NotebookPath string `json:"notebook_path,omitempty" jsonschema:"path of the .ipynb file; omit for the notebook the person has active"`
}

// CellAt names a cell by id and index.
type CellAt struct {
	CellID string `json:"cell_id"`
	Index  int    `json:"index"`
}

// CellSpan is a range of cells, end exclusive.
type CellSpan struct {
	Start int `json:"start"`
	End   int `json:"end" jsonschema:"one past the last cell"`
}

// TextRange is the text selected in a cell.
type TextRange struct {
	CellID         string `json:"cell_id"`
	StartLine      int    `json:"start_line" jsonschema:"0-based"`
	StartCharacter int    `json:"start_character"`
	EndLine        int    `json:"end_line"`
	EndCharacter   int    `json:"end_character"`
	Text           string `json:"text"`
}

// EditorStateOut is where the person is in the editor.
type EditorStateOut struct {
	Attached      bool       `json:"attached" jsonschema:"false when no editor is connected (headless)"`
	NotebookPath  string     `json:"notebook_path,omitempty"`
	Active        bool       `json:"active" jsonschema:"the person's active notebook editor"`
	Visible       bool       `json:"visible" jsonschema:"shown in an editor group"`
	ActiveCell    *CellAt    `json:"active_cell,omitempty" jsonschema:"the cell the person is on"`
	Selections    []CellSpan `json:"selections,omitempty" jsonschema:"selected cell ranges, primary first"`
	VisibleRanges []CellSpan `json:"visible_ranges,omitempty" jsonschema:"cells scrolled into view"`
	TextSelection *TextRange `json:"text_selection,omitempty" jsonschema:"text selected inside a cell"`
	Note          string     `json:"note,omitempty"`
}

// EditorStateReader is an Editor that can say where the person is (the VS Code extension).
type EditorStateReader interface {
	// EditorState reads the state of path's editor, or of the active notebook when path is empty.
	EditorState(ctx context.Context, path string) (EditorStateOut, error)
}

func getEditorState(ctx context.Context, c *Call, in EditorStateIn) (EditorStateOut, error) {
	path := ""
	if in.NotebookPath != "" {
		p, err := c.ResolvePath(in.NotebookPath)
		if err != nil {
			return EditorStateOut{}, err
		}
		path = p
	}
	r, ok := c.Core.currentEditor().(EditorStateReader)
	if !ok || r == nil {
		return EditorStateOut{Note: "no editor is attached (this server runs headless): there is no person's focus to report"}, nil
	}
	out, err := r.EditorState(ctx, path)
	if err != nil {
		return EditorStateOut{}, fmt.Errorf("read the editor state: %w", err)
	}
	out.Attached = true
	if out.NotebookPath == "" {
		if path != "" {
			out.Note = "the notebook is not open in the editor"
		} else {
			out.Note = "no notebook editor is active"
		}
	}
	return out, nil
}
