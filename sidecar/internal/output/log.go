package output

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Op kinds.
const (
	OpAppend     = "append"     // Output is a new nbformat output at Index
	OpAppendText = "appendText" // Text was added to the stream output at Index (Name)
	OpReplace    = "replace"    // Output replaces the output at Index (update_display_data, elided stream)
	OpClear      = "clear"      // every output was cleared
)

// Op is one change to the outputs of an execution. Seq counts from 0 without gaps.
type Op struct {
	Seq    int             `json:"seq"`
	Kind   string          `json:"kind"`
	Index  int             `json:"index"`
	Output json.RawMessage `json:"output,omitempty"`
	Name   string          `json:"name,omitempty"`
	Text   string          `json:"text,omitempty"`
}

// Stats counts everything the kernel sent, kept or not.
type Stats struct {
	Messages    int              `json:"messages"`
	StreamBytes map[string]int64 `json:"streamBytes"` // by stream name
	DataBytes   int64            `json:"dataBytes"`   // raw JSON of display/result bundles
	ElidedBytes int64            `json:"elidedBytes"` // stream bytes not kept
}

// Options bound a Log.
type Options struct {
	// MaxStreamBytes of stream text kept as the head of the outputs (default
	// 16 MiB); past it only the last MaxStreamBytes/4 of each stream are kept.
	MaxStreamBytes int
}

// DefaultMaxStreamBytes is the default stream head kept per execution.
const DefaultMaxStreamBytes = 16 << 20

// Log is the outputs of one execution. It is safe for concurrent use.
type Log struct {
	mu           sync.Mutex
	max          int
	tailMax      int
	outputs      []*entry
	ops          []Op // ops[i].Seq == base+i
	base         int  // ops before base were superseded by the clear at base
	clearPending bool
	keptStream   int
	opBytes      int // payload bytes held by ops
	stats        Stats
}

// entry is one output. Streams keep text (and, once over budget, a tail);
// other outputs keep their finished nbformat JSON.
type entry struct {
	kind      string // stream | display_data | execute_result | error
	name      string
	text      strings.Builder
	tail      []byte
	elided    int64
	raw       json.RawMessage
	displayID string
	execCount *int
}

// NewLog makes an empty Log.
func NewLog(opts Options) *Log {
	if opts.MaxStreamBytes <= 0 {
		opts.MaxStreamBytes = DefaultMaxStreamBytes
	}
	return &Log{max: opts.MaxStreamBytes, tailMax: max(opts.MaxStreamBytes/4, 1), stats: Stats{StreamBytes: map[string]int64{}}}
}

type bundle struct {
	Data           json.RawMessage `json:"data"`
	Metadata       json.RawMessage `json:"metadata"`
	ExecutionCount *int            `json:"execution_count"`
	Transient      struct {
		DisplayID string `json:"display_id"`
	} `json:"transient"`
}

// Apply records one iopub message and returns the ops it produced. Message
// types that are not outputs (status, execute_input, comm…) produce none.
func (l *Log) Apply(msgType string, content json.RawMessage) ([]Op, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := l.base + len(l.ops)
	switch msgType {
	case "stream":
		var c struct{ Name, Text string }
		if err := json.Unmarshal(content, &c); err != nil {
			return nil, fmt.Errorf("stream message: %w", err)
		}
		l.stats.Messages++
		l.stats.StreamBytes[c.Name] += int64(len(c.Text))
		l.flushClear()
		l.stream(c.Name, c.Text)
	case "display_data", "execute_result":
		var b bundle
		if err := json.Unmarshal(content, &b); err != nil {
			return nil, fmt.Errorf("%s message: %w", msgType, err)
		}
		l.stats.Messages++
		l.stats.DataBytes += int64(len(b.Data))
		l.flushClear()
		e := &entry{kind: msgType, displayID: b.Transient.DisplayID, execCount: b.ExecutionCount}
		e.raw = bundleJSON(msgType, b.ExecutionCount, b.Data, b.Metadata)
		l.appendEntry(e)
	case "update_display_data":
		var b bundle
		if err := json.Unmarshal(content, &b); err != nil {
			return nil, fmt.Errorf("update_display_data message: %w", err)
		}
		l.stats.Messages++
		l.stats.DataBytes += int64(len(b.Data))
		if b.Transient.DisplayID == "" {
			break
		}
		for i, e := range l.outputs {
			if e.displayID == b.Transient.DisplayID {
				e.raw = bundleJSON(e.kind, e.execCount, b.Data, b.Metadata)
				l.emit(Op{Kind: OpReplace, Index: i, Output: e.raw})
			}
		}
	case "error":
		var c struct {
			Ename     string   `json:"ename"`
			Evalue    string   `json:"evalue"`
			Traceback []string `json:"traceback"`
		}
		if err := json.Unmarshal(content, &c); err != nil {
			return nil, fmt.Errorf("error message: %w", err)
		}
		if c.Traceback == nil {
			c.Traceback = []string{}
		}
		l.stats.Messages++
		l.flushClear()
		raw, _ := json.Marshal(struct {
			OutputType string   `json:"output_type"`
			Ename      string   `json:"ename"`
			Evalue     string   `json:"evalue"`
			Traceback  []string `json:"traceback"`
		}{"error", c.Ename, c.Evalue, c.Traceback})
		l.appendEntry(&entry{kind: "error", raw: raw})
	case "clear_output":
		var c struct {
			Wait bool `json:"wait"`
		}
		_ = json.Unmarshal(content, &c)
		l.stats.Messages++
		if c.Wait {
			l.clearPending = true
		} else {
			l.clear()
		}
	default:
		return nil, nil
	}
	ops := l.opsFrom(start)
	if l.compact() {
		// The ops just returned are no longer retained; the compacted ones follow them.
		ops = append(ops, l.opsFrom(l.base)...)
	}
	return ops, nil
}

// compact bounds the op log when updates pile up (a display updated in a
// loop): once the ops hold far more than the outputs they build, they are
// replaced by a clear and one append per current output. The new ops are
// emitted like any other, so live readers and cursors converge on the same
// outputs.
func (l *Log) compact() bool {
	limit := 2 * l.max
	if l.opBytes <= limit {
		return false
	}
	size := 0
	for _, e := range l.outputs {
		size += e.size()
	}
	if l.opBytes <= 2*size {
		return false // the outputs themselves are that big: nothing to gain
	}
	keep := l.outputs
	l.clear()
	for i, e := range keep {
		l.outputs = append(l.outputs, e)
		if e.kind == "stream" {
			l.keptStream += e.text.Len()
		}
		l.emit(Op{Kind: OpAppend, Index: i, Output: e.json()})
	}
	return true
}

func (e *entry) size() int {
	if e.kind == "stream" {
		return e.text.Len() + len(e.tail)
	}
	return len(e.raw)
}

// Finish ends the execution: streams that overflowed are replaced by their
// head, an elision note and their tail.
func (l *Log) Finish() []Op {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := l.base + len(l.ops)
	for i, e := range l.outputs {
		if e.kind == "stream" && e.elided > 0 {
			l.emit(Op{Kind: OpReplace, Index: i, Output: e.json()})
		}
	}
	return l.opsFrom(start)
}

// Ops returns the ops from seq since on and the next cursor. A cursor from
// before a clear_output restarts at that clear, which rebuilds the same state.
func (l *Log) Ops(since int) ([]Op, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if since < l.base {
		since = l.base
	}
	return l.opsFrom(since), l.base + len(l.ops)
}

// Next is the seq the next op will get.
func (l *Log) Next() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.base + len(l.ops)
}

// Outputs are the current nbformat outputs.
func (l *Log) Outputs() []json.RawMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]json.RawMessage, len(l.outputs))
	for i, e := range l.outputs {
		out[i] = e.json()
	}
	return out
}

// Stats returns what was received so far.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.StreamBytes = make(map[string]int64, len(l.stats.StreamBytes))
	for k, v := range l.stats.StreamBytes {
		s.StreamBytes[k] = v
	}
	return s
}

func (l *Log) opsFrom(seq int) []Op {
	i := seq - l.base
	if i < 0 || i >= len(l.ops) {
		return nil
	}
	return append([]Op(nil), l.ops[i:]...)
}

func (l *Log) emit(op Op) {
	op.Seq = l.base + len(l.ops)
	l.ops = append(l.ops, op)
	l.opBytes += len(op.Output) + len(op.Text)
}

func (l *Log) flushClear() {
	if l.clearPending {
		l.clearPending = false
		l.clear()
	}
}

// clear drops every output and, since a replay from before it ends in the same
// empty state, every op before it.
func (l *Log) clear() {
	seq := l.base + len(l.ops)
	l.outputs = nil
	l.keptStream = 0
	l.ops = []Op{{Seq: seq, Kind: OpClear}}
	l.opBytes = 0
	l.base = seq
}

func (l *Log) appendEntry(e *entry) {
	l.outputs = append(l.outputs, e)
	l.emit(Op{Kind: OpAppend, Index: len(l.outputs) - 1, Output: e.json()})
}

func (l *Log) stream(name, text string) {
	if text == "" {
		return
	}
	var e *entry
	idx := len(l.outputs) - 1
	if idx >= 0 && l.outputs[idx].kind == "stream" && l.outputs[idx].name == name {
		e = l.outputs[idx]
	}
	// The part that fits the budget is kept in order; the rest only as a tail.
	keep := text
	if room := l.max - l.keptStream; len(text) > room {
		cut := max(room, 0)
		for cut > 0 && cut < len(text) && !utf8.RuneStart(text[cut]) {
			cut--
		}
		keep = text[:cut]
	}
	rest := text[len(keep):]
	if e == nil {
		e = &entry{kind: "stream", name: name}
		e.text.WriteString(keep)
		l.keptStream += len(keep)
		e.addTail(rest, l.tailMax)
		l.stats.ElidedBytes += int64(len(rest))
		l.outputs = append(l.outputs, e)
		l.emit(Op{Kind: OpAppend, Index: len(l.outputs) - 1, Output: streamJSON(name, keep)})
		return
	}
	if keep != "" {
		e.text.WriteString(keep)
		l.keptStream += len(keep)
		l.emit(Op{Kind: OpAppendText, Index: idx, Name: name, Text: keep})
	}
	if rest != "" {
		e.addTail(rest, l.tailMax)
		l.stats.ElidedBytes += int64(len(rest))
	}
}

// addTail keeps the last tailMax bytes of what did not fit; elided counts the
// bytes that were dropped for good.
func (e *entry) addTail(s string, tailMax int) {
	if s == "" {
		return
	}
	e.tail = append(e.tail, s...)
	e.elided += int64(len(s))
	if over := len(e.tail) - tailMax; over > 0 {
		e.tail = append(e.tail[:0], e.tail[over:]...)
	}
}

func (e *entry) json() json.RawMessage {
	if e.kind != "stream" {
		return e.raw
	}
	if e.elided == 0 {
		return streamJSON(e.name, e.text.String())
	}
	tail := e.tail
	for len(tail) > 0 && !utf8.RuneStart(tail[0]) {
		tail = tail[1:]
	}
	dropped := e.elided - int64(len(tail))
	var b strings.Builder
	b.WriteString(e.text.String())
	if !strings.HasSuffix(b.String(), "\n") && b.Len() > 0 {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "[... %d bytes of %s elided: output limit reached, head and tail kept ...]\n", dropped, e.name)
	b.Write(tail)
	return streamJSON(e.name, b.String())
}

func streamJSON(name, text string) json.RawMessage {
	b, _ := json.Marshal(struct {
		OutputType string `json:"output_type"`
		Name       string `json:"name"`
		Text       string `json:"text"`
	}{"stream", name, text})
	return b
}

// bundleJSON assembles the output by hand so a large MIME bundle is copied
// once, byte for byte, instead of being re-encoded.
func bundleJSON(kind string, count *int, data, metadata json.RawMessage) json.RawMessage {
	if len(data) == 0 || string(data) == "null" {
		data = json.RawMessage("{}")
	}
	if len(metadata) == 0 || string(metadata) == "null" {
		metadata = json.RawMessage("{}")
	}
	var b strings.Builder
	b.Grow(len(data) + len(metadata) + 80)
	b.WriteString(`{"output_type":"`)
	b.WriteString(kind)
	b.WriteString(`"`)
	if kind == "execute_result" {
		b.WriteString(`,"execution_count":`)
		if count != nil {
			b.WriteString(strconv.Itoa(*count))
		} else {
			b.WriteString("null")
		}
	}
	b.WriteString(`,"data":`)
	b.Write(data)
	b.WriteString(`,"metadata":`)
	b.Write(metadata)
	b.WriteString("}")
	return json.RawMessage(b.String())
}
