package notebookmodel

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

const titleMax = 80

// Outline lists every cell briefly.
func (nb *Notebook) Outline() []OutlineEntry {
	out := make([]OutlineEntry, len(nb.cells))
	for i := range nb.cells {
		out[i] = nb.outlineEntry(i)
	}
	return out
}

func (nb *Notebook) outlineEntry(i int) OutlineEntry {
	c := &nb.cells[i]
	e := OutlineEntry{
		Index: i, ID: c.id, Type: c.typ, Language: c.language,
		Lines: lineCount(c.source), ExecutionCount: c.executionCount,
		Outputs: summarize(c.outputs()), SourceHash: sourceHash(c.source),
	}
	e.Title, e.HeadingLevel = title(c.source, c.typ == KindMarkdown)
	return e
}

func lineCount(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(strings.TrimSuffix(s, "\n"), "\n") + 1
}

// sourceHash is FNV-1a 64: cheap enough for 5,000 cells per outline, and a
// change detector, not a security check.
func sourceHash(s string) string {
	// FNV-1a inline: hash.Hash would copy every source into a []byte first.
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return strconv.FormatUint(h, 16)
}

// title is a markdown cell's first heading, else the first non-blank line.
func title(src string, markdown bool) (string, int) {
	first := ""
	for line := range strings.SplitSeq(src, "\n") {
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		if markdown {
			if level := headingLevel(t); level > 0 {
				return truncate(strings.TrimSpace(strings.TrimRight(t[level:], "#")), titleMax), level
			}
		}
		if first == "" {
			first = t
			if !markdown {
				break
			}
		}
	}
	return truncate(first, titleMax), 0
}

func headingLevel(line string) int {
	n := 0
	for n < len(line) && line[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(line) && line[n] != ' ' && line[n] != '\t') {
		return 0
	}
	return n
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func summarize(outputs gjson.Result) OutputSummary {
	var s OutputSummary
	seen := map[string]bool{}
	add := func(m string) {
		if !seen[m] {
			seen[m] = true
			s.MimeTypes = append(s.MimeTypes, m)
		}
	}
	outputs.ForEach(func(_, o gjson.Result) bool {
		s.Count++
		s.Bytes += len(o.Raw)
		switch typ := o.Get("output_type").Str; typ {
		case "stream":
			add("stream:" + o.Get("name").Str)
		case "error":
			add("error")
			if s.ErrorName == "" {
				s.ErrorName = o.Get("ename").Str
			}
		default:
			o.Get("data").ForEach(func(k, _ gjson.Result) bool {
				add(k.Str)
				return true
			})
		}
		return true
	})
	return s
}

// SearchQuery selects what Search looks for.
type SearchQuery struct {
	// Pattern is a literal string, or a Go regular expression when Regex.
	Pattern string `json:"pattern"`
	Regex   bool   `json:"regex,omitempty"`
	// CaseSensitive matches case exactly; the default ignores case.
	CaseSensitive bool `json:"caseSensitive,omitempty"`
	// Sources and Outputs choose where to look; when both are false, sources only.
	Sources bool `json:"sources,omitempty"`
	Outputs bool `json:"outputs,omitempty"`
	// MaxHits bounds the result (default 200).
	MaxHits int `json:"maxHits,omitempty"`
}

// SearchHit is one matching line.
type SearchHit struct {
	Index  int    `json:"index"`
	CellID string `json:"cellId"`
	// Where is "source" or "output".
	Where string `json:"where"`
	// OutputIndex is the output's index when Where is "output".
	OutputIndex int `json:"outputIndex,omitempty"`
	// Line is the 1-based line of the match in the source or output text.
	Line int `json:"line"`
	// Snippet is the matching line, shortened around the match.
	Snippet string `json:"snippet"`
}

const snippetMax = 160

// Search finds lines matching q in sources and/or text outputs, at most
// q.MaxHits of them (ask for one more than you show to learn whether more exist).
func (nb *Notebook) Search(q SearchQuery) ([]SearchHit, error) {
	if q.Pattern == "" {
		return nil, errors.New("search: empty pattern")
	}
	if q.MaxHits <= 0 {
		q.MaxHits = 200
	}
	if !q.Sources && !q.Outputs {
		q.Sources = true
	}
	m, err := newMatcher(q)
	if err != nil {
		return nil, err
	}
	hits := []SearchHit{}
	emit := func(h SearchHit) bool {
		hits = append(hits, h)
		return len(hits) < q.MaxHits
	}
	for i := range nb.cells {
		c := &nb.cells[i]
		if q.Sources && !m.searchText(c.source, func(line int, snip string) bool {
			return emit(SearchHit{Index: i, CellID: c.id, Where: "source", Line: line, Snippet: snip})
		}) {
			return hits, nil
		}
		if !q.Outputs {
			continue
		}
		j, more := 0, true
		c.outputs().ForEach(func(_, o gjson.Result) bool {
			more = m.searchText(outputText(o), func(line int, snip string) bool {
				return emit(SearchHit{Index: i, CellID: c.id, Where: "output", OutputIndex: j, Line: line, Snippet: snip})
			})
			j++
			return more
		})
		if !more {
			return hits, nil
		}
	}
	return hits, nil
}

// outputText is the searchable text of an output: stream text, text/plain,
// or an error's name, value and traceback (ANSI codes removed).
func outputText(o gjson.Result) string {
	switch o.Get("output_type").Str {
	case "stream":
		s, _ := multiline(o.Get("text"))
		return s
	case "error":
		var b strings.Builder
		b.WriteString(o.Get("ename").Str + ": " + o.Get("evalue").Str)
		o.Get("traceback").ForEach(func(_, l gjson.Result) bool {
			b.WriteString("\n" + l.Str)
			return true
		})
		return stripANSI(b.String())
	}
	s, _ := multiline(o.Get(`data.text/plain`))
	return s
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

func stripANSI(s string) string {
	if !strings.Contains(s, "\x1b") {
		return s
	}
	return ansi.ReplaceAllString(s, "")
}

type matcher struct {
	re      *regexp.Regexp
	literal string
	fold    bool
}

func newMatcher(q SearchQuery) (*matcher, error) {
	if q.Regex {
		// Multi-line mode: ^ and $ match at line breaks, so the whole-text
		// pre-check agrees with the per-line search.
		if _, err := regexp.Compile(q.Pattern); err != nil {
			return nil, fmt.Errorf("search: invalid regular expression: %w", err)
		}
		expr := "(?m)" + q.Pattern
		if !q.CaseSensitive {
			expr = "(?i)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("search: invalid regular expression: %w", err)
		}
		return &matcher{re: re}, nil
	}
	m := &matcher{literal: q.Pattern, fold: !q.CaseSensitive}
	if m.fold {
		m.literal = strings.ToLower(m.literal)
	}
	return m, nil
}

// find returns the byte span of the first match in s, or -1.
func (m *matcher) find(s string) (int, int) {
	if m.re != nil {
		loc := m.re.FindStringIndex(s)
		if loc == nil {
			return -1, -1
		}
		return loc[0], loc[1]
	}
	if !m.fold {
		i := strings.Index(s, m.literal)
		return i, i + len(m.literal)
	}
	lower := strings.ToLower(s)
	i := strings.Index(lower, m.literal)
	if i < 0 || len(lower) != len(s) {
		// Lowercasing changed byte lengths (rare scripts): report the whole line.
		return i, min(len(s), i+len(m.literal))
	}
	return i, i + len(m.literal)
}

// searchText calls hit for each matching line; false from hit stops.
func (m *matcher) searchText(text string, hit func(line int, snippet string) bool) bool {
	if text == "" {
		return true
	}
	// Cheap whole-text test first: most cells do not match.
	if m.re == nil {
		hay := text
		if m.fold {
			hay = strings.ToLower(text)
		}
		if !strings.Contains(hay, m.literal) {
			return true
		}
	} else if !m.re.MatchString(text) {
		return true
	}
	line := 0
	for l := range strings.SplitSeq(text, "\n") {
		line++
		s, e := m.find(l)
		if s < 0 {
			continue
		}
		if !hit(line, snippet(l, s, e)) {
			return false
		}
	}
	return true
}

func snippet(line string, s, e int) string {
	line = strings.TrimRight(line, "\r")
	if len(line) <= snippetMax {
		return strings.TrimSpace(line)
	}
	from := max(0, s-snippetMax/3)
	to := min(len(line), max(e, from+snippetMax))
	for from > 0 && !utf8.RuneStart(line[from]) {
		from--
	}
	for to < len(line) && !utf8.RuneStart(line[to]) {
		to++
	}
	out := line[from:to]
	if from > 0 {
		out = "…" + out
	}
	if to < len(line) {
		out += "…"
	}
	return out
}

// CellRef names a cell by index, id, or both (both: the index must still hold that id).
type CellRef struct {
	Index  *int   `json:"index,omitempty"`
	CellID string `json:"cellId,omitempty"`
}

// StaleViewError says a cell reference no longer matches the notebook. It
// carries the fresh outline so the caller can retry without another round trip.
type StaleViewError struct {
	Ref     CellRef
	Reason  string
	Version int
	Outline []OutlineEntry
}

func (e *StaleViewError) Error() string {
	return "stale view: " + e.Reason + "; re-read the outline (attached) and retry with the current index or cell id"
}

func (e *StaleViewError) Unwrap() error { return ErrStaleView }

// Resolve finds the cell a reference names, refusing references that no
// longer hold (unknown id, index out of range, index now holding another id).
func (nb *Notebook) Resolve(ref CellRef) (Cell, error) {
	i, err := nb.resolveIndex(ref)
	if err != nil {
		return Cell{}, err
	}
	return nb.cell(i), nil
}

func (nb *Notebook) resolveIndex(ref CellRef) (int, error) {
	stale := func(format string, a ...any) (int, error) {
		return -1, &StaleViewError{Ref: ref, Reason: fmt.Sprintf(format, a...), Version: nb.version, Outline: nb.Outline()}
	}
	switch {
	case ref.Index == nil && ref.CellID == "":
		return -1, fmt.Errorf("%w: a cell reference needs an index or a cell id", ErrBadEdit)
	case ref.Index != nil:
		i := *ref.Index
		if i < 0 || i >= len(nb.cells) {
			return stale("cell index %d is out of range (the notebook has %d cells)", i, len(nb.cells))
		}
		if ref.CellID != "" && nb.cells[i].id != ref.CellID {
			if j := nb.indexOf(ref.CellID); j >= 0 {
				return stale("cell %q is now at index %d, and index %d holds cell %q", ref.CellID, j, i, nb.cells[i].id)
			}
			return stale("cell %q no longer exists, and index %d holds cell %q", ref.CellID, i, nb.cells[i].id)
		}
		return i, nil
	default:
		if j := nb.indexOf(ref.CellID); j >= 0 {
			return j, nil
		}
		return stale("no cell has id %q", ref.CellID)
	}
}

func (nb *Notebook) indexOf(id string) int {
	for i := range nb.cells {
		if nb.cells[i].id == id {
			return i
		}
	}
	return -1
}

// ReadOptions bounds ReadCell's output summary.
type ReadOptions struct {
	// MaxOutputChars bounds the text kept per output (default 2000).
	MaxOutputChars int `json:"maxOutputChars,omitempty"`
}

// CellView is a cell's source with a bounded view of its outputs.
type CellView struct {
	Index          int          `json:"index"`
	ID             string       `json:"id"`
	Type           string       `json:"type"`
	Language       string       `json:"language"`
	Source         string       `json:"source"`
	ExecutionCount *int         `json:"executionCount"`
	Outputs        []OutputView `json:"outputs"`
}

// OutputView is a bounded view of one output.
type OutputView struct {
	// OutputType is stream | display_data | execute_result | error.
	OutputType string `json:"outputType"`
	// MimeTypes are the data keys (display_data, execute_result).
	MimeTypes []string `json:"mimeTypes,omitempty"`
	// Text is stream text, text/plain or the error, cut to MaxOutputChars.
	Text string `json:"text"`
	// Truncated says Text was cut; TotalChars is its full length.
	Truncated  bool `json:"truncated,omitempty"`
	TotalChars int  `json:"totalChars"`
	// Bytes is the output's JSON size.
	Bytes int `json:"bytes"`
}

// ReadCell returns the cell ref names, with a bounded view of its outputs.
func (nb *Notebook) ReadCell(ref CellRef, opts ReadOptions) (CellView, error) {
	i, err := nb.resolveIndex(ref)
	if err != nil {
		return CellView{}, err
	}
	if opts.MaxOutputChars <= 0 {
		opts.MaxOutputChars = 2000
	}
	c := &nb.cells[i]
	v := CellView{Index: i, ID: c.id, Type: c.typ, Language: c.language, Source: c.source,
		ExecutionCount: c.executionCount, Outputs: []OutputView{}}
	c.outputs().ForEach(func(_, o gjson.Result) bool {
		ov := OutputView{OutputType: o.Get("output_type").Str, Bytes: len(o.Raw)}
		o.Get("data").ForEach(func(k, _ gjson.Result) bool {
			ov.MimeTypes = append(ov.MimeTypes, k.Str)
			return true
		})
		text := outputText(o)
		if ov.OutputType == "stream" {
			text = stripANSI(text)
		}
		runes := []rune(text)
		ov.TotalChars = len(runes)
		if len(runes) > opts.MaxOutputChars {
			// Keep head and tail: the end of a long output is usually what matters.
			head := opts.MaxOutputChars * 2 / 3
			tail := opts.MaxOutputChars - head
			text = string(runes[:head]) + fmt.Sprintf("\n… [%d characters elided] …\n", len(runes)-head-tail) + string(runes[len(runes)-tail:])
			ov.Truncated = true
		}
		ov.Text = text
		v.Outputs = append(v.Outputs, ov)
		return true
	})
	return v, nil
}

// IndexOf returns the index of the cell with this id, or -1.
func (nb *Notebook) IndexOf(id string) int { return nb.indexOf(id) }
