package notebookmodel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// Sentinel errors callers branch on.
var (
	// ErrNotNotebook: the JSON is not a notebook (not an object, no cells, a malformed cell).
	ErrNotNotebook = errors.New("not a Jupyter notebook")
	// ErrUnsupportedVersion: nbformat other than 4 (older notebooks must be upgraded by Jupyter first).
	ErrUnsupportedVersion = errors.New("unsupported nbformat version")
	// ErrStaleView: a cell reference no longer matches the notebook; see StaleViewError.
	ErrStaleView = errors.New("stale view")
	// ErrBadEdit: an edit that cannot apply (bad index, unknown op, invalid metadata).
	ErrBadEdit = errors.New("invalid edit")
)

// SyntaxError reports invalid JSON with a 1-based line and column (in characters).
type SyntaxError struct {
	Line, Column int
	Offset       int64
	Msg          string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("notebook is not valid JSON: line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Notebook is an immutable parsed notebook. Queries read it; edits return a
// new Notebook whose bytes differ from this one only where the edit requires.
type Notebook struct {
	doc      string // the document
	cells    []cellData
	arrStart int // offset of the cells array's '['
	arrEnd   int // offset just past its ']'
	minor    int
	language string // the notebook's language (code cells)
	indent   string // one indentation unit of the document ("" = compact)
	eol      string // the document's line break, "\n" or "\r\n"
	version  int    // buffer version when built from a Snapshot
	hasIDs   bool   // every cell had an id in the document
}

type cellData struct {
	start, end     int // the cell object's span in raw
	id             string
	idInDoc        bool
	typ            string
	language       string
	source         string
	sourceIsList   bool
	metadata       string // raw JSON, empty when absent
	executionCount *int
	outputsRaw     string // the outputs array's JSON; empty when absent
	outputsAt      int    // its offset in the document
}

// Parse reads an nbformat 4 notebook. The input is copied.
func Parse(data []byte) (*Notebook, error) {
	return parse(string(data))
}

func parse(doc string) (*Notebook, error) {
	if len(strings.TrimSpace(doc)) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotNotebook)
	}
	if err := CheckLimits(doc); err != nil {
		return nil, err
	}
	if !gjson.Valid(doc) {
		return nil, syntaxError([]byte(doc))
	}
	// Substrings of doc back every cell field below: no further copies.
	top := skipWS(doc, 0)
	if doc[top] != '{' {
		return nil, fmt.Errorf("%w: the top level is a JSON %s, not an object", ErrNotNotebook, jsonKind(gjson.Parse(doc)))
	}
	nb := &Notebook{doc: doc, indent: detectIndent(doc), eol: detectEOL(doc), hasIDs: true, arrStart: -1}
	var major, minorRes, meta gjson.Result
	var cellErr error
	// One pass: the cells are parsed where the top-level walk meets them
	// (skipping them first would scan the document twice).
	eachMember(doc, top, func(key string, vs int) int {
		switch key {
		case "nbformat":
			ve := skipValue(doc, vs)
			major = resultAt(doc, vs, ve)
			return ve
		case "nbformat_minor":
			ve := skipValue(doc, vs)
			minorRes = resultAt(doc, vs, ve)
			return ve
		case "metadata":
			ve := skipValue(doc, vs)
			meta = resultAt(doc, vs, ve)
			return ve
		case "cells":
			if doc[vs] != '[' {
				break
			}
			// A rough size saves most re-copying of thousands of cells as the
			// slice grows (Jupyter writes a few hundred bytes per cell).
			nb.cells = make([]cellData, 0, min(len(doc)/400+1, 8192))
			ve := eachObject(doc, vs, func(cs int) (int, bool) {
				cd, err := parseCell(doc, cs, len(nb.cells))
				if err != nil {
					cellErr = err
					return skipValue(doc, cs), false
				}
				if !cd.idInDoc {
					nb.hasIDs = false
				}
				nb.cells = append(nb.cells, cd)
				return cd.end, true
			})
			if cellErr != nil {
				ve = skipValue(doc, vs)
			}
			nb.arrStart, nb.arrEnd = vs, ve
			return ve
		}
		return skipValue(doc, vs)
	})
	if !major.Exists() {
		return nil, fmt.Errorf("%w: no \"nbformat\" field", ErrNotNotebook)
	}
	if major.Type != gjson.Number {
		return nil, fmt.Errorf("%w: \"nbformat\" is not a number", ErrNotNotebook)
	}
	nb.minor = int(minorRes.Int())
	if major.Int() != 4 {
		return nil, fmt.Errorf("%w: nbformat %d.%d; only version 4 is supported (open and save it in Jupyter to upgrade)",
			ErrUnsupportedVersion, major.Int(), nb.minor)
	}
	if nb.arrStart < 0 {
		return nil, fmt.Errorf("%w: no \"cells\" array", ErrNotNotebook)
	}
	if cellErr != nil {
		return nil, cellErr
	}
	// Metadata follows the cells in Jupyter's key order: code cells learn
	// the notebook language now.
	nb.language = notebookLanguage(meta)
	for i := range nb.cells {
		if nb.cells[i].language == "" {
			nb.cells[i].language = nb.language
		}
	}
	nb.assignMissingIDs()
	return nb, nil
}

// parseCell reads the cell object at doc[start]; code cells get an empty
// language unless the cell names its own (the caller fills in the notebook's).
func parseCell(doc string, start, i int) (cellData, error) {
	if doc[start] != '{' {
		return cellData{}, fmt.Errorf("%w: cell %d is a JSON %s, not an object", ErrNotNotebook, i, jsonKind(gjson.Parse(doc[start:skipValue(doc, start)])))
	}
	cd := cellData{start: start}
	ss, se := -1, -1
	cd.end = eachField(doc, start, func(key string, vs, ve int) bool {
		switch key {
		case "cell_type":
			cd.typ = stringAt(doc, vs, ve)
		case "id":
			// An id breaking nbformat's pattern counts as missing: it gets a
			// valid id, written with the next edit.
			cd.id = stringAt(doc, vs, ve)
			cd.idInDoc = doc[vs] == '"' && validID(cd.id)
		case "source":
			ss, se = vs, ve
		case "metadata":
			cd.metadata = doc[vs:ve]
		case "execution_count":
			if c := doc[vs]; c == '-' || (c >= '0' && c <= '9') {
				n := int(resultAt(doc, vs, ve).Int())
				cd.executionCount = &n
			}
		case "outputs":
			cd.outputsRaw, cd.outputsAt = doc[vs:ve], vs
		}
		return true
	})
	switch cd.typ {
	case KindCode:
	case KindMarkdown:
		cd.language = "markdown"
	case KindRaw:
		cd.language = "raw"
	case "":
		return cellData{}, fmt.Errorf("%w: cell %d has no cell_type", ErrNotNotebook, i)
	default:
		return cellData{}, fmt.Errorf("%w: cell %d has unknown cell_type %q", ErrNotNotebook, i, cd.typ)
	}
	// VS Code keeps a cell's own language in metadata.vscode.languageId.
	if strings.Contains(cd.metadata, `"vscode"`) {
		if lang := gjson.Get(cd.metadata, "vscode.languageId"); lang.Type == gjson.String && lang.Str != "" {
			cd.language = lang.Str
		}
	}
	if ss >= 0 {
		cd.source, cd.sourceIsList = sourceAt(doc, ss, se)
	}
	return cd, nil
}

// sourceAt reads nbformat's "multiline string" at doc[vs:ve]: a string or a list of lines.
func sourceAt(doc string, vs, ve int) (string, bool) {
	switch doc[vs] {
	case '"':
		return stringAt(doc, vs, ve), false
	case '[':
		var b strings.Builder
		b.Grow(ve - vs)
		eachElem(doc, vs, func(es, ee int) bool {
			appendString(&b, doc, es, ee)
			return true
		})
		return b.String(), true
	}
	return "", false
}

// multiline reads nbformat's "multiline string": a string or a list of lines.
func multiline(r gjson.Result) (string, bool) {
	if !r.IsArray() {
		return r.String(), false
	}
	var b strings.Builder
	b.Grow(len(r.Raw))
	r.ForEach(func(_, v gjson.Result) bool {
		b.WriteString(v.String())
		return true
	})
	return b.String(), true
}

func notebookLanguage(meta gjson.Result) string {
	if l := meta.Get("language_info.name"); l.Str != "" {
		return strings.ToLower(l.Str)
	}
	if l := meta.Get("kernelspec.language"); l.Str != "" {
		return strings.ToLower(l.Str)
	}
	return "python"
}

func jsonKind(r gjson.Result) string {
	switch r.Type {
	case gjson.Null:
		return "null"
	case gjson.False, gjson.True:
		return "boolean"
	case gjson.Number:
		return "number"
	case gjson.String:
		return "string"
	}
	if r.IsArray() {
		return "array"
	}
	return "object"
}

// detectIndent finds the document's indentation unit from the whitespace
// before the first top-level key, so inserted JSON matches its neighbours.
func detectIndent(raw string) string {
	i := strings.IndexByte(raw, '{')
	if i < 0 {
		return ""
	}
	j := i + 1
	for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\n' || raw[j] == '\r') {
		j++
	}
	ws := string(raw[i+1 : j])
	nl := strings.LastIndexByte(ws, '\n')
	if nl < 0 {
		return ""
	}
	return ws[nl+1:]
}

// detectEOL keeps Windows line breaks (a checkout with autocrlf) in edits.
func detectEOL(doc string) string {
	if i := strings.IndexByte(doc, '\n'); i > 0 && doc[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// syntaxError locates a JSON syntax error; encoding/json reports its offset.
func syntaxError(raw []byte) error {
	if bytes.HasPrefix(raw, []byte("\xef\xbb\xbf")) {
		return &SyntaxError{Line: 1, Column: 1, Msg: "the file starts with a UTF-8 byte order mark, which JSON (and Jupyter) do not allow; save it as UTF-8 without BOM"}
	}
	var v any
	err := json.Unmarshal(raw, &v)
	var se *json.SyntaxError
	off := int64(len(raw))
	msg := "unexpected end of input"
	if errors.As(err, &se) {
		off, msg = se.Offset, se.Error()
	} else if err != nil {
		msg = err.Error()
	}
	if off > int64(len(raw)) {
		off = int64(len(raw))
	}
	// Offset points just past the offending byte.
	at := max(int(off)-1, 0)
	before := raw[:at]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return &SyntaxError{Line: line, Column: col, Offset: off, Msg: msg}
}

// assignMissingIDs gives cells without an id the id they will be written
// with. Ids derive from the source (and, for identical sources, the order of
// the copies), not the position: reading the same file twice yields the same
// ids, and a cell keeps its id when others are inserted, deleted or moved
// around it (an agent's view of it stays valid), while nothing is written
// until an edit.
func (nb *Notebook) assignMissingIDs() {
	used := make(map[string]bool, len(nb.cells))
	for i := range nb.cells {
		c := &nb.cells[i]
		if c.idInDoc && used[c.id] {
			// A duplicated id (a copied cell) is invalid nbformat: the copy
			// gets a new id, written with the next edit.
			c.idInDoc, nb.hasIDs = false, false
		}
		if c.idInDoc {
			used[c.id] = true
		}
	}
	for i := range nb.cells {
		c := &nb.cells[i]
		if c.idInDoc {
			continue
		}
		for salt := 0; ; salt++ {
			h := fnv.New64a()
			h.Write([]byte(strconv.Itoa(salt) + ":"))
			h.Write([]byte(c.source))
			id := fmt.Sprintf("%08x", uint32(h.Sum64()>>32))
			if !used[id] {
				c.id, used[id] = id, true
				break
			}
		}
	}
}

// Bytes is the notebook document. Without edits it is the parsed input, byte for byte.
func (nb *Notebook) Bytes() []byte { return []byte(nb.doc) }

// Len is the number of cells.
func (nb *Notebook) Len() int { return len(nb.cells) }

// Version is the buffer version of a notebook built from a Snapshot (0 for a file).
func (nb *Notebook) Version() int { return nb.version }

// Language is the notebook's language (language_info.name, else kernelspec.language, else python).
func (nb *Notebook) Language() string { return nb.language }

// Cells decodes every cell.
func (nb *Notebook) Cells() []Cell {
	out := make([]Cell, len(nb.cells))
	for i := range nb.cells {
		out[i] = nb.cell(i)
	}
	return out
}

func (nb *Notebook) cell(i int) Cell {
	c := &nb.cells[i]
	cell := Cell{
		Index: i, ID: c.id, Type: c.typ, Language: c.language, Source: c.source,
		ExecutionCount: c.executionCount,
	}
	if c.metadata != "" {
		cell.Metadata = json.RawMessage(c.metadata)
	}
	if outs := c.outputs(); outs.IsArray() {
		cell.Outputs = []json.RawMessage{}
		outs.ForEach(func(_, o gjson.Result) bool {
			cell.Outputs = append(cell.Outputs, json.RawMessage(o.Raw))
			return true
		})
	}
	return cell
}

// validID reports whether id matches nbformat's ^[a-zA-Z0-9-_]+$ with 1–64 characters.
func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// outputs is the gjson view of the cell's outputs array (not Exists() when absent).
func (c *cellData) outputs() gjson.Result {
	if c.outputsRaw == "" {
		return gjson.Result{}
	}
	return gjson.Result{Type: gjson.JSON, Raw: c.outputsRaw, Index: c.outputsAt}
}
