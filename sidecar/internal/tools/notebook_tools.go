package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/output"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
)

// OverrideCell is one cell of structure_override.
type OverrideCell struct {
	ID       string `json:"id,omitempty" jsonschema:"cell id, if known"`
	CellType string `json:"cell_type" jsonschema:"code | markdown | raw"`
	Source   string `json:"source" jsonschema:"the cell's text"`
}

// OutlineIn are get_notebook_outline's arguments.
type OutlineIn struct {
	NotebookPath      string         `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	StructureOverride []OverrideCell `json:"structure_override,omitempty" jsonschema:"outline these cells instead of reading the notebook (e.g. a buffer you hold)"`
	Offset            int            `json:"offset,omitempty" jsonschema:"first cell index of the page (default 0; next_offset of the previous page)"`
	Limit             int            `json:"limit,omitempty" jsonschema:"at most this many cells (default: as many as fit in about 20 KB)"`
}

// OutlineOut is a notebook outline.
type OutlineOut struct {
	NotebookPath string                       `json:"notebook_path"`
	Source       string                       `json:"source" jsonschema:"buffer | editor | disk | override: where the cells were read from"`
	Version      int                          `json:"version" jsonschema:"editor buffer version (0 for a file on disk)"`
	Language     string                       `json:"language,omitempty"`
	CellCount    int                          `json:"cell_count"`
	Kernel       string                       `json:"kernel" jsonschema:"the notebook kernel's status, or none"`
	Cells        []notebookmodel.OutlineEntry `json:"cells" jsonschema:"this page's cells: index, id, type, title, execution count, output summary"`
	Offset       int                          `json:"offset" jsonschema:"index of the page's first cell"`
	More         bool                         `json:"more" jsonschema:"true when cells after this page were left out"`
	NextOffset   int                          `json:"next_offset,omitempty" jsonschema:"pass as offset for the next page (when more)"`
	Provenance   map[string]string            `json:"provenance,omitempty" jsonschema:"per cell id of this page, for cells with a record: who created, last edited and last ran it (agent or human, when, which tool call)"`
	ActiveCellID string                       `json:"active_cell_id,omitempty" jsonschema:"the cell the person is on in VS Code (see get_editor_state)"`
}

// CellIn names one cell.
type CellIn struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	Index        *int   `json:"index,omitempty" jsonschema:"0-based cell index; give cell_id too to be safe against edits"`
	CellID       string `json:"cell_id,omitempty" jsonschema:"the cell's id from get_notebook_outline (preferred)"`
}

// ReadCellIn are read_cell_smart's arguments.
type ReadCellIn struct {
	NotebookPath      string `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	Index             *int   `json:"index,omitempty" jsonschema:"0-based cell index"`
	CellID            string `json:"cell_id,omitempty" jsonschema:"the cell's id (preferred)"`
	MaxSourceChars    int    `json:"max_source_chars,omitempty" jsonschema:"truncate the source after this many characters (default 20000)"`
	IncludeRawOutputs bool   `json:"include_raw_outputs,omitempty" jsonschema:"also return the raw nbformat outputs"`
	Images            string `json:"images,omitempty" jsonschema:"fit | full | none: figures attached downscaled (default), at full size, or not at all"`
}

// CellOut is one cell as read_cell_smart shows it.
type CellOut struct {
	Index           int               `json:"index"`
	CellID          string            `json:"cell_id"`
	Type            string            `json:"type"`
	Language        string            `json:"language,omitempty"`
	Source          string            `json:"source"`
	SourceTruncated bool              `json:"source_truncated,omitempty"`
	ExecutionCount  *int              `json:"execution_count"`
	OutputCount     int               `json:"output_count"`
	LLMSummary      string            `json:"llm_summary" jsonschema:"bounded text view of the cell's outputs"`
	RawOutputs      []json.RawMessage `json:"raw_outputs,omitempty" jsonschema:"nbformat outputs (include_raw_outputs), MIME bundles untouched"`
	RawResource     string            `json:"raw_outputs_resource,omitempty" jsonschema:"notebook:// resource holding the outputs when they were too large to inline"`
	NotebookSource  string            `json:"notebook_source" jsonschema:"buffer | editor | disk"`
	Note            string            `json:"note,omitempty" jsonschema:"how an index you gave was read: the cell you saw there and where it is now"`
	Provenance      *CellProvenance   `json:"provenance,omitempty" jsonschema:"who created, last edited and last ran this cell (agent or human, when, which tool call), as far as the sidecar saw"`

	images []Image // for vision models (see Imager)
}

// ResourceLinks names the resource holding outputs too large to inline.
func (o CellOut) ResourceLinks() []Link {
	if o.RawResource == "" {
		return nil
	}
	return []Link{{URI: o.RawResource, Name: "outputs of cell " + o.CellID, MIMEType: "application/json", Description: "raw nbformat outputs (too large to inline)"}}
}

// SearchIn are search_notebook's arguments.
type SearchIn struct {
	NotebookPath  string `json:"notebook_path" jsonschema:"path of the .ipynb file"`
	Query         string `json:"query" jsonschema:"text to find (or a Go/RE2 regular expression with regex=true)"`
	Regex         bool   `json:"regex,omitempty" jsonschema:"treat query as an RE2 regular expression"`
	CaseSensitive bool   `json:"case_sensitive,omitempty" jsonschema:"match case exactly (default: ignore case)"`
	InOutputs     *bool  `json:"in_outputs,omitempty" jsonschema:"search the text of outputs too (default true)"`
	CellType      string `json:"cell_type,omitempty" jsonschema:"only cells of this type: code | markdown | raw"`
	MaxResults    int    `json:"max_results,omitempty" jsonschema:"default 50"`
}

// SearchHitOut is one match.
type SearchHitOut struct {
	Index  int    `json:"index"`
	CellID string `json:"cell_id"`
	Type   string `json:"type"`
	Where  string `json:"where" jsonschema:"source | output"`
	Line   int    `json:"line" jsonschema:"1-based line of the match"`
	Text   string `json:"text" jsonschema:"the matching line (truncated)"`
}

// SearchOut lists matches.
type SearchOut struct {
	Hits      []SearchHitOut `json:"hits"`
	Truncated bool           `json:"truncated,omitempty"`
}

func (c *Call) outlineOf(ld *Loaded) OutlineOut {
	kernel := "none"
	if s := c.Core.Sessions.Get(ld.Path); s != nil {
		kernel = string(s.Kernel().Status())
	}
	cells := ld.NB.Outline()
	if cells == nil {
		cells = []notebookmodel.OutlineEntry{}
	}
	return OutlineOut{NotebookPath: ld.Path, Source: ld.Source, Version: ld.Version, Language: ld.NB.Language(), CellCount: len(cells), Kernel: kernel, Cells: cells}
}

func getOutline(ctx context.Context, c *Call, in OutlineIn) (OutlineOut, error) {
	path, err := c.ResolvePath(in.NotebookPath)
	if err != nil {
		return OutlineOut{}, err
	}
	if in.StructureOverride != nil {
		snap := notebookmodel.Snapshot{Path: path}
		for i, oc := range in.StructureOverride {
			kind := oc.CellType
			switch kind {
			case notebookmodel.KindCode, notebookmodel.KindMarkdown, notebookmodel.KindRaw:
			default:
				return OutlineOut{}, fmt.Errorf("%w: structure_override[%d].cell_type %q: use code, markdown or raw", ErrBadArguments, i, oc.CellType)
			}
			lang := "python"
			if kind == notebookmodel.KindMarkdown {
				lang = "markdown"
			}
			snap.Cells = append(snap.Cells, notebookmodel.SnapshotCell{ID: oc.ID, Kind: kind, Language: lang, Source: oc.Source})
		}
		out := c.outlineOf(&Loaded{Path: path, NB: notebookmodel.FromSnapshot(snap)})
		out.Source = "override"
		return out.page(in.Offset, in.Limit)
	}
	ld, err := c.LoadNotebook(ctx, path)
	if err != nil {
		return OutlineOut{}, err
	}
	c.seeAll(path, ld.NB)
	out, err := c.outlineOf(ld).page(in.Offset, in.Limit)
	if err != nil {
		return OutlineOut{}, err
	}
	if ld.Source != SourceDisk {
		if r, ok := c.Core.currentEditor().(EditorStateReader); ok && r != nil {
			if st, err := r.EditorState(ctx, path); err == nil && st.ActiveCell != nil {
				out.ActiveCellID = st.ActiveCell.CellID
			}
		}
	}
	if all := c.provenanceLines(path, ld.NB); all != nil {
		for _, e := range out.Cells {
			if p, ok := all[e.ID]; ok {
				if out.Provenance == nil {
					out.Provenance = map[string]string{}
				}
				out.Provenance[e.ID] = p
			}
		}
	}
	return out, nil
}

func readCellSmart(ctx context.Context, c *Call, in ReadCellIn) (CellOut, error) {
	path, err := c.ResolvePath(in.NotebookPath)
	if err != nil {
		return CellOut{}, err
	}
	if in.Index == nil && in.CellID == "" {
		return CellOut{}, fmt.Errorf("%w: give index or cell_id (see get_notebook_outline)", ErrBadArguments)
	}
	ld, err := c.LoadNotebook(ctx, path)
	if err != nil {
		return CellOut{}, err
	}
	t, err := c.ResolveCell(path, ld.NB, in.Index, in.CellID)
	if err != nil {
		return CellOut{}, err
	}
	cell := t.Cell
	c.seeCell(path, cell)
	outputsNote := ""
	if ld.Source == SourceDisk {
		// Headless runs are not written into the file: the newest finished
		// run of this cell in the kernel session is what the agent last saw.
		if e := c.latestRun(path, cell.ID); e != nil {
			cell.Outputs = e.Outputs()
			n := e.State().ExecutionCount
			cell.ExecutionCount = &n
			outputsNote = "outputs of this session's last run of the cell (task " + e.ID + "); the file holds none of them until the notebook is saved elsewhere"
		}
	}
	max := in.MaxSourceChars
	if max <= 0 {
		max = 20000
	}
	out := CellOut{Index: cell.Index, CellID: cell.ID, Type: cell.Type, Language: cell.Language, Source: cell.Source,
		ExecutionCount: cell.ExecutionCount, OutputCount: len(cell.Outputs), NotebookSource: ld.Source,
		LLMSummary: output.Summarize(cell.Outputs, output.SummaryOptions{}), Note: t.Note, Provenance: c.Provenance(path, cell.ID)}
	out.images, out.LLMSummary = attachImagesAs(cell.Outputs, out.LLMSummary, in.Images)
	if outputsNote != "" {
		out.Note = strings.TrimPrefix(out.Note+"; "+outputsNote, "; ")
	}
	if r := []rune(out.Source); len(r) > max {
		out.Source = string(r[:max])
		out.SourceTruncated = true
	}
	if in.IncludeRawOutputs {
		out.RawOutputs = cell.Outputs
		if out.RawOutputs == nil {
			out.RawOutputs = []json.RawMessage{}
		}
		size := 0
		for _, o := range cell.Outputs {
			size += len(o)
		}
		if size > inlineLimit {
			out.RawResource = c.Core.storeRaw("cell-"+cell.ID+"-"+contentHash([]byte(path))[:8], cell.Outputs)
			out.RawOutputs = []json.RawMessage{}
		}
	}
	return out, nil
}

func searchNotebook(ctx context.Context, c *Call, in SearchIn) (SearchOut, error) {
	path, err := c.ResolvePath(in.NotebookPath)
	if err != nil {
		return SearchOut{}, err
	}
	if in.Query == "" {
		return SearchOut{}, fmt.Errorf("%w: query is empty", ErrBadArguments)
	}
	if in.CellType != "" && in.CellType != notebookmodel.KindCode && in.CellType != notebookmodel.KindMarkdown && in.CellType != notebookmodel.KindRaw {
		return SearchOut{}, fmt.Errorf("%w: cell_type %q: use code, markdown or raw", ErrBadArguments, in.CellType)
	}
	ld, err := c.LoadNotebook(ctx, path)
	if err != nil {
		return SearchOut{}, err
	}
	max := in.MaxResults
	if max <= 0 {
		max = 50
	}
	q := notebookmodel.SearchQuery{Pattern: in.Query, Regex: in.Regex, CaseSensitive: in.CaseSensitive,
		Sources: true, Outputs: in.InOutputs == nil || *in.InOutputs, MaxHits: max + 1}
	if in.CellType != "" {
		q.MaxHits = 1 << 30 // filtered below: count after the filter
	}
	hits, err := ld.NB.Search(q)
	if err != nil {
		return SearchOut{}, fmt.Errorf("%w: %v (set regex=false for plain text)", ErrBadArguments, err)
	}
	out := SearchOut{Hits: []SearchHitOut{}}
	for _, h := range hits {
		i := h.Index
		cell, err := ld.NB.Resolve(notebookmodel.CellRef{Index: &i})
		if err != nil || (in.CellType != "" && cell.Type != in.CellType) {
			continue
		}
		if len(out.Hits) == max {
			out.Truncated = true
			break
		}
		out.Hits = append(out.Hits, SearchHitOut{Index: h.Index, CellID: h.CellID, Type: cell.Type, Where: h.Where, Line: h.Line, Text: h.Snippet})
	}
	return out, nil
}

// staleError makes a Resolve failure actionable: a stale view carries the
// fresh outline in its message so the model can retry without another call.
func staleError(err error) error {
	var sv *notebookmodel.StaleViewError
	if errors.As(err, &sv) {
		var lines []string
		for _, e := range sv.Outline {
			lines = append(lines, fmt.Sprintf("  [%d] id=%s %s: %s", e.Index, e.ID, e.Type, e.Title))
		}
		return fmt.Errorf("%w\ncurrent outline (use cell_id to address cells):\n%s", err, strings.Join(lines, "\n"))
	}
	return err
}

// ModelText is the text content for the model, without raw MIME bundles.
func (o CellOut) ModelText() string {
	c := o
	c.RawOutputs = nil
	return withOmitted(c, len(o.RawOutputs))
}

// latestRun is the newest finished run of cellID in path's kernel session, if any.
func (c *Call) latestRun(path, cellID string) *session.Execution {
	s := c.Core.Sessions.Get(path)
	if s == nil {
		return nil
	}
	var last *session.Execution
	for _, e := range s.Executions() {
		if e.CellID != cellID || !e.State().Done() {
			continue
		}
		if last == nil || e.State().EndedAt.After(last.State().EndedAt) {
			last = e
		}
	}
	return last
}
