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
	raw      []byte
	cells    []cellData
	arrStart int // offset of the cells array's '['
	arrEnd   int // offset just past its ']'
	minor    int
	language string // the notebook's language (code cells)
	indent   string // one indentation unit of the document ("" = compact)
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
	metadata       []byte // raw, nil when absent
	executionCount *int
	outputs        gjson.Result // the outputs array; !Exists() when absent
}

// Parse reads an nbformat 4 notebook. The input is copied.
func Parse(data []byte) (*Notebook, error) {
	return parse(bytes.Clone(data))
}

func parse(raw []byte) (*Notebook, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotNotebook)
	}
	if !gjson.ValidBytes(raw) {
		return nil, syntaxError(raw)
	}
	root := gjson.ParseBytes(raw)
	if !root.IsObject() {
		return nil, fmt.Errorf("%w: the top level is a JSON %s, not an object", ErrNotNotebook, jsonKind(root))
	}
	// One pass over the top-level keys: each Get would rescan the cells.
	var major, minorRes, cells, meta gjson.Result
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "nbformat":
			major = v
		case "nbformat_minor":
			minorRes = v
		case "cells":
			cells = v
		case "metadata":
			meta = v
		}
		return true
	})
	if !major.Exists() {
		return nil, fmt.Errorf("%w: no \"nbformat\" field", ErrNotNotebook)
	}
	if major.Type != gjson.Number {
		return nil, fmt.Errorf("%w: \"nbformat\" is not a number", ErrNotNotebook)
	}
	minor := int(minorRes.Int())
	if major.Int() != 4 {
		return nil, fmt.Errorf("%w: nbformat %d.%d; only version 4 is supported (open and save it in Jupyter to upgrade)",
			ErrUnsupportedVersion, major.Int(), minor)
	}
	if !cells.IsArray() {
		return nil, fmt.Errorf("%w: no \"cells\" array", ErrNotNotebook)
	}
	nb := &Notebook{
		raw:      raw,
		arrStart: cells.Index,
		arrEnd:   cells.Index + len(cells.Raw),
		minor:    minor,
		language: notebookLanguage(meta),
		indent:   detectIndent(raw),
		hasIDs:   true,
	}
	var err error
	i := 0
	cells.ForEach(func(_, c gjson.Result) bool {
		var cd cellData
		cd, err = parseCell(c, i, nb.language)
		if err != nil {
			return false
		}
		if !cd.idInDoc {
			nb.hasIDs = false
		}
		nb.cells = append(nb.cells, cd)
		i++
		return true
	})
	if err != nil {
		return nil, err
	}
	nb.assignMissingIDs()
	return nb, nil
}

func parseCell(c gjson.Result, i int, nbLang string) (cellData, error) {
	if !c.IsObject() {
		return cellData{}, fmt.Errorf("%w: cell %d is a JSON %s, not an object", ErrNotNotebook, i, jsonKind(c))
	}
	cd := cellData{start: c.Index, end: c.Index + len(c.Raw)}
	var srcRes gjson.Result
	c.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "cell_type":
			cd.typ = v.Str
		case "id":
			// An id breaking nbformat's pattern counts as missing: it gets a
			// valid id, written with the next edit.
			cd.id, cd.idInDoc = v.Str, v.Type == gjson.String && validID(v.Str)
		case "source":
			srcRes = v
		case "metadata":
			cd.metadata = []byte(v.Raw)
		case "execution_count":
			if v.Type == gjson.Number {
				n := int(v.Int())
				cd.executionCount = &n
			}
		case "outputs":
			cd.outputs = v
		}
		return true
	})
	switch cd.typ {
	case KindCode:
		cd.language = nbLang
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
	if bytes.Contains(cd.metadata, []byte(`"vscode"`)) {
		if lang := gjson.GetBytes(cd.metadata, "vscode.languageId"); lang.Type == gjson.String && lang.Str != "" {
			cd.language = lang.Str
		}
	}
	cd.source, cd.sourceIsList = multiline(srcRes)
	return cd, nil
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
func detectIndent(raw []byte) string {
	i := bytes.IndexByte(raw, '{')
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

// syntaxError locates a JSON syntax error; encoding/json reports its offset.
func syntaxError(raw []byte) error {
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
// with. Ids derive from position and source, so reading the same file twice
// yields the same ids (an agent's outline stays valid) while nothing is
// written until an edit.
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
			h.Write([]byte(strconv.Itoa(i) + ":" + strconv.Itoa(salt) + ":"))
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
func (nb *Notebook) Bytes() []byte { return nb.raw }

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
		Metadata: json.RawMessage(c.metadata), ExecutionCount: c.executionCount,
	}
	if c.outputs.IsArray() {
		cell.Outputs = []json.RawMessage{}
		c.outputs.ForEach(func(_, o gjson.Result) bool {
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
