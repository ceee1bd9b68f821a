package notebookmodel

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/tidwall/gjson"
)

// Edit ops (Edit.Op). The buffer-level EditOp ops are their lower-level form.
const (
	EditInsert        = "insert"
	EditAppend        = "append"
	EditDelete        = "delete"
	EditMove          = "move"
	EditReplaceSource = "replaceSource"
	EditChangeType    = "changeType"
	EditSetMetadata   = "setMetadata"
	EditClearOutputs  = "clearOutputs"
)

// Edit is one change to a notebook.
type Edit struct {
	// Op is insert | append | delete | move | replaceSource | changeType | setMetadata | clearOutputs.
	Op string `json:"op"`
	// Ref is the cell the op targets (all ops but insert and append). For
	// clearOutputs an empty Ref means every cell.
	Ref CellRef `json:"ref"`
	// At is the position insert puts its cells at (0…Len).
	At int `json:"at,omitempty"`
	// Count is how many cells from Ref delete, move and clearOutputs touch (default 1).
	Count int `json:"count,omitempty"`
	// ToIndex is the index the (first) moved cell has after move.
	ToIndex int `json:"toIndex,omitempty"`
	// Cells are the cells insert and append create.
	Cells []NewCell `json:"cells,omitempty"`
	// Source is replaceSource's new source.
	Source string `json:"source,omitempty"`
	// Type is changeType's new cell type (code, markdown, raw).
	Type string `json:"type,omitempty"`
	// Metadata is setMetadata's complete new cell metadata (a JSON object).
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// NewCell is a cell to create.
type NewCell struct {
	// ID is the cell id to use; empty picks a fresh random one.
	ID       string          `json:"id,omitempty"`
	Type     string          `json:"type"`
	Source   string          `json:"source"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// AppliedEdit describes what Apply did, as buffer ops the extension replays
// as NotebookEdits, and the ids of the cells it created or changed.
type AppliedEdit struct {
	Ops     []EditOp `json:"ops"`
	CellIDs []string `json:"cellIds"`
}

// work is a notebook being edited: the bytes around the cells array and each cell's JSON text.
type work struct {
	nb     *Notebook
	prefix string // through the cells array's '['
	suffix string // from its ']'
	lead   string // whitespace after '[' before the first cell
	sep    string // between cells (",\n  ")
	trail  string // whitespace after the last cell before ']'
	cells  []string
	ids    []string
	minor  string // replacement nbformat_minor value ("" = unchanged)
	f      formatter
}

func (nb *Notebook) work() *work {
	w := &work{nb: nb, f: formatter{indent: nb.indent, eol: nb.eol}, prefix: (nb.doc[:nb.arrStart+1]), suffix: (nb.doc[nb.arrEnd-1:])}
	nl := func(depth int) string {
		if nb.indent == "" {
			return ""
		}
		return nb.eol + strings.Repeat(nb.indent, depth)
	}
	w.lead, w.sep, w.trail = nl(2), ","+nl(2), nl(1)
	if n := len(nb.cells); n > 0 {
		w.lead = (nb.doc[nb.arrStart+1 : nb.cells[0].start])
		w.trail = (nb.doc[nb.cells[n-1].end : nb.arrEnd-1])
		if n > 1 {
			w.sep = (nb.doc[nb.cells[0].end:nb.cells[1].start])
		}
	}
	for _, c := range nb.cells {
		w.cells = append(w.cells, (nb.doc[c.start:c.end]))
		w.ids = append(w.ids, c.id)
	}
	return w
}

func (w *work) text() string {
	var b strings.Builder
	b.WriteString(w.prefix)
	if len(w.cells) > 0 {
		b.WriteString(w.lead)
		for i, c := range w.cells {
			if i > 0 {
				b.WriteString(w.sep)
			}
			b.WriteString(c)
		}
		b.WriteString(w.trail)
	}
	b.WriteString(w.suffix)
	doc := b.String()
	if w.minor != "" {
		if m := gjson.Get(doc, "nbformat_minor"); m.Exists() {
			doc = doc[:m.Index] + w.minor + doc[m.Index+len(m.Raw):]
		}
	}
	return doc
}

// materializeIDs writes the ids queries showed into the cells that lack one,
// and raises nbformat_minor to 5, as Jupyter does when it upgrades to 4.5.
func (w *work) materializeIDs() {
	if w.nb.hasIDs && w.nb.minor >= 5 {
		return
	}
	for i, c := range w.nb.cells {
		if !c.idInDoc {
			w.cells[i] = w.setKey(w.cells[i], "id", quote(c.id))
		}
	}
	if w.nb.minor < 5 {
		w.minor = "5"
	}
}

func quote(s string) string {
	var b strings.Builder
	writeString(&b, s)
	return b.String()
}

// setKey sets key of the cell object obj (at depth 2) to the JSON value raw,
// in place when the key exists, else at its sorted position.
func (w *work) setKey(obj, key, raw string) string {
	var b strings.Builder
	w.f.value(&b, gjson.Parse(raw), 3)
	val := b.String()
	o := gjson.Parse(obj)
	type kv struct{ k, v gjson.Result }
	var kvs []kv
	o.ForEach(func(k, v gjson.Result) bool {
		kvs = append(kvs, kv{k, v})
		return true
	})
	for _, e := range kvs {
		if e.k.Str == key {
			return obj[:e.v.Index] + val + obj[e.v.Index+len(e.v.Raw):]
		}
	}
	entry := quote(key) + w.f.sep() + val
	if len(kvs) == 0 {
		var nl1, nl2 string
		if w.f.indent != "" {
			nl1, nl2 = w.nb.eol+strings.Repeat(w.f.indent, 3), w.nb.eol+strings.Repeat(w.f.indent, 2)
		}
		return "{" + nl1 + entry + nl2 + "}"
	}
	for i, e := range kvs {
		if e.k.Str > key {
			ws := leadingSpace(obj, i, kvs[i].k.Index, func(j int) int { return kvs[j].v.Index + len(kvs[j].v.Raw) })
			return obj[:e.k.Index] + entry + "," + ws + obj[e.k.Index:]
		}
	}
	last := kvs[len(kvs)-1]
	ws := leadingSpace(obj, len(kvs)-1, last.k.Index, func(j int) int { return kvs[j].v.Index + len(kvs[j].v.Raw) })
	end := last.v.Index + len(last.v.Raw)
	return obj[:end] + "," + ws + entry + obj[end:]
}

// leadingSpace is the whitespace before the i-th key of an object.
func leadingSpace(obj string, i, keyAt int, valueEnd func(int) int) string {
	from := 1 // after '{'
	if i > 0 {
		from = valueEnd(i - 1)
	}
	s := obj[from:keyAt]
	if j := strings.IndexByte(s, ','); j >= 0 {
		s = s[j+1:]
	}
	return s
}

// deleteKey removes key from the cell object obj.
func (w *work) deleteKey(obj, key string) string {
	o := gjson.Parse(obj)
	type kv struct{ k, v gjson.Result }
	var kvs []kv
	o.ForEach(func(k, v gjson.Result) bool {
		kvs = append(kvs, kv{k, v})
		return true
	})
	for i, e := range kvs {
		if e.k.Str != key {
			continue
		}
		switch {
		case i+1 < len(kvs):
			return obj[:e.k.Index] + obj[kvs[i+1].k.Index:]
		case i > 0:
			return obj[:kvs[i-1].v.Index+len(kvs[i-1].v.Raw)] + obj[e.v.Index+len(e.v.Raw):]
		default:
			return "{}"
		}
	}
	return obj
}

func (w *work) newCellJSON(c NewCell, id string) (string, error) {
	meta := "{}"
	if len(c.Metadata) > 0 {
		if !gjson.ValidBytes(c.Metadata) || !gjson.ParseBytes(c.Metadata).IsObject() {
			return "", fmt.Errorf("%w: cell metadata must be a JSON object", ErrBadEdit)
		}
		meta = string(c.Metadata)
	}
	fields := []field{{"cell_type", quote(c.Type)}, {"id", quote(id)}, {"metadata", meta}, {"source", sourceJSON(c.Source, true)}}
	if c.Type == KindCode {
		fields = append(fields, field{"execution_count", "null"}, field{"outputs", "[]"})
	}
	var b strings.Builder
	w.f.object(&b, fields, 2)
	return b.String(), nil
}

func (w *work) freshID() string {
	for {
		// Cell ids need uniqueness within the notebook, not secrecy;
		// math/rand keeps crypto (half a megabyte) out of the WASM build.
		id := fmt.Sprintf("%08x", rand.Uint32())
		if !w.hasID(id) {
			return id
		}
	}
}

func (w *work) hasID(id string) bool {
	for _, x := range w.ids {
		if x == id {
			return true
		}
	}
	return false
}

func validType(t string) bool { return t == KindCode || t == KindMarkdown || t == KindRaw }

func (nb *Notebook) cellLanguage(typ string) string {
	switch typ {
	case KindMarkdown:
		return "markdown"
	case KindRaw:
		return "raw"
	}
	return nb.language
}

// Apply performs e on a copy of the notebook. The receiver is unchanged; the
// result differs from it only in the bytes the edit needs (plus cell ids and
// nbformat_minor 5 when the notebook had no ids, as Jupyter writes them).
func (nb *Notebook) Apply(e Edit) (*Notebook, AppliedEdit, error) {
	w := nb.work()
	w.materializeIDs()
	applied := AppliedEdit{Ops: []EditOp{}, CellIDs: []string{}}
	count := max(e.Count, 1)

	target := func() (int, error) { return nb.resolveIndex(e.Ref) }
	span := func() (int, error) {
		i, err := target()
		if err != nil {
			return -1, err
		}
		if i+count > len(nb.cells) {
			return -1, fmt.Errorf("%w: %d cells from index %d run past the end (%d cells)", ErrBadEdit, count, i, len(nb.cells))
		}
		return i, nil
	}

	switch e.Op {
	case EditInsert, EditAppend:
		at := e.At
		if e.Op == EditAppend {
			at = len(nb.cells)
		}
		if at < 0 || at > len(nb.cells) {
			return nil, AppliedEdit{}, fmt.Errorf("%w: insert position %d is outside 0…%d", ErrBadEdit, at, len(nb.cells))
		}
		if len(e.Cells) == 0 {
			return nil, AppliedEdit{}, fmt.Errorf("%w: %s needs at least one cell", ErrBadEdit, e.Op)
		}
		op := EditOp{Op: OpInsert, Index: at, Count: len(e.Cells)}
		var raws, ids []string
		for _, c := range e.Cells {
			if !validType(c.Type) {
				return nil, AppliedEdit{}, fmt.Errorf("%w: cell type %q is not code, markdown or raw", ErrBadEdit, c.Type)
			}
			id := c.ID
			if id == "" {
				id = w.freshID()
			} else if !validID(id) {
				return nil, AppliedEdit{}, fmt.Errorf("%w: cell id %q must be 1–64 letters, digits, '-' or '_'", ErrBadEdit, id)
			} else if w.hasID(id) {
				return nil, AppliedEdit{}, fmt.Errorf("%w: cell id %q is already used", ErrBadEdit, id)
			}
			raw, err := w.newCellJSON(c, id)
			if err != nil {
				return nil, AppliedEdit{}, err
			}
			w.ids = append(w.ids, id)
			raws, ids = append(raws, raw), append(ids, id)
			op.Cells = append(op.Cells, EditCell{ID: id, Kind: c.Type, Language: nb.cellLanguage(c.Type), Source: c.Source, Metadata: json.RawMessage(compactJSON([]byte(orEmptyObject(c.Metadata))))})
		}
		w.cells = splice(w.cells, at, 0, raws...)
		applied.Ops = append(applied.Ops, op)
		applied.CellIDs = ids

	case EditDelete:
		i, err := span()
		if err != nil {
			return nil, AppliedEdit{}, err
		}
		applied.CellIDs = append(applied.CellIDs, w.ids[i:i+count]...)
		w.cells = splice(w.cells, i, count)
		applied.Ops = append(applied.Ops, EditOp{Op: OpDelete, Index: i, Count: count})

	case EditMove:
		i, err := span()
		if err != nil {
			return nil, AppliedEdit{}, err
		}
		if e.ToIndex < 0 || e.ToIndex > len(nb.cells)-count {
			return nil, AppliedEdit{}, fmt.Errorf("%w: move target %d is outside 0…%d", ErrBadEdit, e.ToIndex, len(nb.cells)-count)
		}
		block := append([]string(nil), w.cells[i:i+count]...)
		w.cells = splice(w.cells, i, count)
		w.cells = splice(w.cells, e.ToIndex, 0, block...)
		applied.CellIDs = append(applied.CellIDs, w.ids[i:i+count]...)
		if e.ToIndex != i {
			applied.Ops = append(applied.Ops, EditOp{Op: OpMove, Index: i, Count: count, ToIndex: e.ToIndex})
		}

	case EditReplaceSource:
		i, err := target()
		if err != nil {
			return nil, AppliedEdit{}, err
		}
		applied.CellIDs = append(applied.CellIDs, w.ids[i])
		if nb.cells[i].source != e.Source {
			w.cells[i] = w.setKey(w.cells[i], "source", sourceJSON(e.Source, nb.cells[i].sourceIsList || !gjson.Get(w.cells[i], "source").Exists()))
			applied.Ops = append(applied.Ops, EditOp{Op: OpReplaceSource, Index: i, Count: 1, Source: e.Source})
		}

	case EditChangeType:
		i, err := target()
		if err != nil {
			return nil, AppliedEdit{}, err
		}
		if !validType(e.Type) {
			return nil, AppliedEdit{}, fmt.Errorf("%w: cell type %q is not code, markdown or raw", ErrBadEdit, e.Type)
		}
		c := &nb.cells[i]
		applied.CellIDs = append(applied.CellIDs, c.id)
		if c.typ == e.Type {
			break
		}
		obj := w.setKey(w.cells[i], "cell_type", quote(e.Type))
		if e.Type == KindCode {
			obj = w.deleteKey(obj, "attachments")
			obj = w.setKey(obj, "execution_count", "null")
			obj = w.setKey(obj, "outputs", "[]")
		} else {
			obj = w.deleteKey(obj, "execution_count")
			obj = w.deleteKey(obj, "outputs")
		}
		w.cells[i] = obj
		applied.Ops = append(applied.Ops, EditOp{Op: OpChangeType, Index: i, Count: 1, Cells: []EditCell{{
			ID: c.id, Kind: e.Type, Language: nb.cellLanguage(e.Type), Source: c.source, Metadata: json.RawMessage(compactJSON([]byte(orEmptyObject([]byte(c.metadata))))),
		}}})

	case EditSetMetadata:
		i, err := target()
		if err != nil {
			return nil, AppliedEdit{}, err
		}
		if !gjson.ValidBytes(e.Metadata) || !gjson.ParseBytes(e.Metadata).IsObject() {
			return nil, AppliedEdit{}, fmt.Errorf("%w: cell metadata must be a JSON object", ErrBadEdit)
		}
		applied.CellIDs = append(applied.CellIDs, w.ids[i])
		if !jsonEqual([]byte(nb.cells[i].metadata), e.Metadata) {
			w.cells[i] = w.setKey(w.cells[i], "metadata", string(e.Metadata))
			applied.Ops = append(applied.Ops, EditOp{Op: OpSetMetadata, Index: i, Count: 1, Metadata: json.RawMessage(compactJSON(e.Metadata))})
		}

	case EditClearOutputs:
		from, n := 0, len(nb.cells)
		if e.Ref.Index != nil || e.Ref.CellID != "" {
			i, err := span()
			if err != nil {
				return nil, AppliedEdit{}, err
			}
			from, n = i, count
		}
		changed := false
		for i := from; i < from+n; i++ {
			c := &nb.cells[i]
			if c.typ != KindCode || (!hasElements(c.outputs()) && c.executionCount == nil) {
				continue
			}
			w.cells[i] = w.setKey(w.setKey(w.cells[i], "outputs", "[]"), "execution_count", "null")
			applied.CellIDs = append(applied.CellIDs, c.id)
			changed = true
		}
		if changed {
			applied.Ops = append(applied.Ops, EditOp{Op: OpClearOutputs, Index: from, Count: n})
		}

	default:
		return nil, AppliedEdit{}, fmt.Errorf("%w: unknown op %q (want insert, append, delete, move, replaceSource, changeType, setMetadata or clearOutputs)", ErrBadEdit, e.Op)
	}

	if len(applied.Ops) == 0 {
		// Nothing to change: keep the document (and its bytes) as it is.
		return nb, applied, nil
	}
	out, err := parse(w.text())
	if err != nil {
		// A bug here would corrupt a user's notebook: refuse rather than write.
		return nil, AppliedEdit{}, fmt.Errorf("apply %s: edited notebook does not re-parse: %w", e.Op, err)
	}
	out.version = nb.version
	return out, applied, nil
}

func hasElements(arr gjson.Result) bool {
	any := false
	arr.ForEach(func(_, _ gjson.Result) bool {
		any = true
		return false
	})
	return any
}

func orEmptyObject(raw []byte) []byte {
	if len(raw) == 0 {
		return []byte("{}")
	}
	return raw
}

func splice(s []string, at, del int, ins ...string) []string {
	out := make([]string, 0, len(s)-del+len(ins))
	out = append(out, s[:at]...)
	out = append(out, ins...)
	return append(out, s[at+del:]...)
}
