package tools

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
)

// Answers sized for a model (M2c: ≤ 32 KB per response whatever the
// notebook's size): get_notebook_outline comes in pages, an edit answers with
// the cells around it (the whole outline while it fits one page).

const (
	// outlinePageBytes bounds the JSON of one page's cell entries; the text
	// content (one short line per cell) comes on top, well inside 32 KB.
	outlinePageBytes = 20 << 10
	// outlineLineChars bounds a cell's title in the text content.
	outlineLineChars = 80
	// editNeighbours is how many cells either side of an edit its answer shows.
	editNeighbours = 3
)

// page keeps the cells from offset on, at most limit of them (0: no count
// limit) and never more than outlinePageBytes of entries; it states the total
// and where the next page starts.
func (o OutlineOut) page(offset, limit int) (OutlineOut, error) {
	all := o.Cells
	if offset < 0 || (offset > 0 && offset >= len(all)) {
		return OutlineOut{}, fmt.Errorf("%w: offset %d is past the last cell: the notebook has %d cells (offset 0 to %d)", ErrBadArguments, offset, len(all), max(len(all)-1, 0))
	}
	if limit < 0 {
		return OutlineOut{}, fmt.Errorf("%w: limit %d: give a positive number of cells, or leave it out for a page of about 20 KB", ErrBadArguments, limit)
	}
	end, size := offset, 0
	for end < len(all) && (limit == 0 || end-offset < limit) {
		b, _ := json.Marshal(all[end])
		if end > offset && size+len(b) > outlinePageBytes {
			break
		}
		size += len(b) + 1
		end++
	}
	o.Cells = all[offset:end]
	o.Offset = offset
	if end < len(all) {
		o.More = true
		o.NextOffset = end
	}
	return o, nil
}

// ModelText is the outline as the model reads it: a header with the totals
// and one compact line per cell.
func (o OutlineOut) ModelText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d cells (%s", o.NotebookPath, o.CellCount, o.Source)
	if o.Version > 0 {
		fmt.Fprintf(&b, " v%d", o.Version)
	}
	fmt.Fprintf(&b, ", kernel %s)", o.Kernel)
	if len(o.Cells) > 0 {
		fmt.Fprintf(&b, "; cells %d-%d shown", o.Cells[0].Index, o.Cells[len(o.Cells)-1].Index)
	}
	if o.More {
		fmt.Fprintf(&b, "; more: offset=%d", o.NextOffset)
	}
	b.WriteString("\n")
	for _, e := range o.Cells {
		b.WriteString(outlineLine(e))
		if p := o.Provenance[e.ID]; p != "" {
			b.WriteString(" — " + p)
		}
		if e.ID == o.ActiveCellID {
			b.WriteString(" ◀ the person's active cell")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// outlineLine is one cell: [index] id type, lines, run count, outputs, title.
func outlineLine(e notebookmodel.OutlineEntry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%d] %s %s %dL", e.Index, e.ID, e.Type, e.Lines)
	if e.ExecutionCount != nil {
		fmt.Fprintf(&b, " #%d", *e.ExecutionCount)
	}
	if e.Outputs.Count > 0 {
		fmt.Fprintf(&b, " out:%d", e.Outputs.Count)
		if len(e.Outputs.MimeTypes) > 0 {
			fmt.Fprintf(&b, "(%s)", strings.Join(e.Outputs.MimeTypes, ","))
		}
		if e.Outputs.ErrorName != "" {
			fmt.Fprintf(&b, " error:%s", e.Outputs.ErrorName)
		}
	}
	title := e.Title
	if r := []rune(title); len(r) > outlineLineChars {
		title = string(r[:outlineLineChars]) + "…"
	}
	if title != "" {
		fmt.Fprintf(&b, " %q", title)
	}
	return b.String()
}

// neighbourhood fills an edit's answer with what changed and the cells around
// it instead of the whole outline: the edited cell's index, the total, and up
// to editNeighbours cells either side (of the deleted cell's old place for a
// delete). A notebook whose outline fits one page is shown whole, as before.
func (out *EditOut) neighbourhood(next *notebookmodel.Notebook, cellID string, ops []notebookmodel.EditOp) {
	out.CellCount = next.Len()
	center := -1
	if cellID != "" {
		if i := next.IndexOf(cellID); i >= 0 {
			out.Index = i
			center = i
		}
	}
	if center < 0 && len(ops) > 0 {
		center = min(ops[0].Index, next.Len()-1)
	}
	out.Cells = []notebookmodel.OutlineEntry{}
	if center < 0 || next.Len() == 0 {
		return
	}
	all := next.Outline()
	if fits(all, outlinePageBytes) {
		out.Cells = all // a notebook whose whole outline is one page: all of it
		return
	}
	from, to := max(center-editNeighbours, 0), min(center+editNeighbours+1, next.Len())
	out.Cells = all[from:to]
}

// fits reports whether the entries' JSON stays within budget bytes (it stops
// counting at the first entry that does not fit).
func fits(entries []notebookmodel.OutlineEntry, budget int) bool {
	size := 0
	for _, e := range entries {
		b, _ := json.Marshal(e)
		if size += len(b) + 1; size > budget {
			return false
		}
	}
	return true
}
