package output

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/tidwall/gjson"
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
	// ElidedDataBytes: bytes of display/result/error outputs not kept (over
	// MaxOutputBytes or MaxDataBytes), replaced by head, tail and a note.
	ElidedDataBytes int64 `json:"elidedDataBytes,omitempty"`
}

// Options bound a Log.
type Options struct {
	// MaxStreamBytes of stream text kept as the head of the outputs (default
	// 16 MiB); past it only the last MaxStreamBytes/4 of each stream are kept.
	MaxStreamBytes int
	// MaxOutputBytes of data kept per display/result/error output (default
	// DefaultMaxOutputBytes), MaxDataBytes for all of them (DefaultMaxDataBytes).
	MaxOutputBytes, MaxDataBytes int
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
	maxOut       int
	maxData      int
	keptData     int // bytes of non-stream outputs kept
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
	// capped bundles only, before assembly
	data, metadata json.RawMessage
}

// NewLog makes an empty Log.
func NewLog(opts Options) *Log {
	if opts.MaxStreamBytes <= 0 {
		opts.MaxStreamBytes = DefaultMaxStreamBytes
	}
	if opts.MaxOutputBytes <= 0 {
		opts.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if opts.MaxDataBytes <= 0 {
		opts.MaxDataBytes = DefaultMaxDataBytes
	}
	return &Log{max: opts.MaxStreamBytes, tailMax: max(opts.MaxStreamBytes/4, 1), maxOut: opts.MaxOutputBytes, maxData: opts.MaxDataBytes,
		stats: Stats{StreamBytes: map[string]int64{}}}
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
		if len(content) > 1<<20 {
			// A large chunk: decode only what is kept (head within the budget,
			// the tail), count the rest without copying it.
			cs := view(content)
			name := gjson.Get(cs, "name").String()
			text := gjson.Get(cs, "text")
			if text.Type != gjson.String || len(text.Raw) < 2 {
				return nil, fmt.Errorf("stream message: no text")
			}
			body := text.Raw[1 : len(text.Raw)-1]
			n := decodedLen(body)
			l.stats.Messages++
			l.stats.StreamBytes[name] += n
			l.flushClear()
			room := max(l.max-l.keptStream, 0)
			if n <= int64(room) {
				l.stream(name, text.String())
				break
			}
			keepRaw := body[:safeCut(body, room)]
			keep := decodePart(keepRaw)
			tailRaw := body[safeCut(body, max(len(body)-l.tailMax, len(keepRaw))):]
			l.streamCut(name, keep, decodePart(tailRaw), n-int64(len(keep)))
			break
		}
		var c struct{ Name, Text string }
		if err := json.Unmarshal(content, &c); err != nil {
			return nil, fmt.Errorf("stream message: %w", err)
		}
		l.stats.Messages++
		l.stats.StreamBytes[c.Name] += int64(len(c.Text))
		l.flushClear()
		l.stream(c.Name, c.Text)
	case "display_data", "execute_result":
		if l.overBudget(len(content)) {
			l.stats.Messages++
			l.flushClear()
			e := l.cappedBundle(msgType, content)
			l.appendEntry(e)
			break
		}
		var b bundle
		if err := json.Unmarshal(content, &b); err != nil {
			return nil, fmt.Errorf("%s message: %w", msgType, err)
		}
		l.stats.Messages++
		l.stats.DataBytes += int64(len(b.Data))
		l.kernelElided(b.Metadata)
		l.flushClear()
		e := &entry{kind: msgType, displayID: b.Transient.DisplayID, execCount: b.ExecutionCount}
		e.raw = bundleJSON(msgType, b.ExecutionCount, b.Data, b.Metadata)
		l.keptData += len(e.raw)
		l.appendEntry(e)
	case "update_display_data":
		if l.overBudget(len(content)) {
			l.stats.Messages++
			c := l.cappedBundle("display_data", content)
			if c.displayID == "" {
				break
			}
			for i, e := range l.outputs {
				if e.displayID == c.displayID {
					l.keptData += len(c.raw) - len(e.raw)
					e.raw = bundleJSON(e.kind, e.execCount, c.data, c.metadata)
					l.emit(Op{Kind: OpReplace, Index: i, Output: e.raw})
				}
			}
			break
		}
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
				old := len(e.raw)
				e.raw = bundleJSON(e.kind, e.execCount, b.Data, b.Metadata)
				l.keptData += len(e.raw) - old
				l.emit(Op{Kind: OpReplace, Index: i, Output: e.raw})
			}
		}
	case "error":
		if l.overBudget(len(content)) {
			l.stats.Messages++
			l.flushClear()
			e := l.cappedError(content)
			l.appendEntry(e)
			break
		}
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
		l.keptData += len(raw)
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

// streamCut is stream for a chunk already cut: keep fits the budget, tail is
// the end of the rest, which is restLen bytes long.
func (l *Log) streamCut(name, keep, tail string, restLen int64) {
	var e *entry
	idx := len(l.outputs) - 1
	if idx >= 0 && l.outputs[idx].kind == "stream" && l.outputs[idx].name == name {
		e = l.outputs[idx]
	}
	l.stats.ElidedBytes += restLen
	if e == nil {
		e = &entry{kind: "stream", name: name}
		e.text.WriteString(keep)
		l.keptStream += len(keep)
		e.addTailN(tail, restLen, l.tailMax)
		l.outputs = append(l.outputs, e)
		l.emit(Op{Kind: OpAppend, Index: len(l.outputs) - 1, Output: streamJSON(name, keep)})
		return
	}
	if keep != "" {
		e.text.WriteString(keep)
		l.keptStream += len(keep)
		l.emit(Op{Kind: OpAppendText, Index: idx, Name: name, Text: keep})
	}
	e.addTailN(tail, restLen, l.tailMax)
}

// addTailN is addTail for a rest of n bytes of which only its end s is given.
func (e *entry) addTailN(s string, n int64, tailMax int) {
	if n <= 0 {
		return
	}
	if int64(len(s)) >= n {
		e.addTail(s, tailMax)
		return
	}
	e.tail = append(e.tail[:0], s...) // what came before s is further back than any tail
	e.elided += n
	if over := len(e.tail) - tailMax; over > 0 {
		e.tail = append(e.tail[:0], e.tail[over:]...)
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

// overBudget reports whether an output message of n bytes must be cut.
func (l *Log) overBudget(n int) bool {
	return n > l.maxOut || l.keptData+n > l.maxData
}

func (l *Log) room() int { return max(min(l.maxOut, l.maxData-l.keptData), 0) }

// cappedBundle builds a display/result output kept within the budget without
// decoding (copying) the whole message.
func (l *Log) cappedBundle(kind string, content json.RawMessage) *entry {
	cs := view(content)
	data, md := gjson.Get(cs, "data"), gjson.Get(cs, "metadata")
	e := &entry{kind: kind, displayID: gjson.Get(cs, "transient.display_id").String()}
	if ec := gjson.Get(cs, "execution_count"); ec.Type == gjson.Number {
		n := int(ec.Int())
		e.execCount = &n
	}
	d, m, elided := capBundle(data, md, l.room())
	l.stats.DataBytes += int64(len(data.Raw))
	l.kernelElided(json.RawMessage(md.Raw))
	l.stats.ElidedDataBytes += elided
	e.data, e.metadata = d, m
	e.raw = bundleJSON(kind, e.execCount, d, m)
	l.keptData += len(e.raw)
	return e
}

// cappedError keeps an error output's name, the head and tail of its value
// and the first and last traceback lines that fit.
func (l *Log) cappedError(content json.RawMessage) *entry {
	cs := view(content)
	room := l.room()
	var elided int64
	ename, e1 := capText(gjson.Get(cs, "ename"), 1024, "ename")
	evalue, e2 := capText(gjson.Get(cs, "evalue"), room/2, "evalue")
	elided += e1 + e2
	var lines []gjson.Result
	gjson.Get(cs, "traceback").ForEach(func(_, v gjson.Result) bool {
		lines = append(lines, v)
		return true
	})
	budget := max(room/2, 0)
	var head, tail []string
	i, j := 0, len(lines)-1
	for i <= j && budget > 0 {
		s, e := capText(lines[i], budget/2, "traceback")
		head = append(head, s)
		budget -= len(s)
		elided += e
		i++
		if i > j || budget <= 0 {
			break
		}
		s, e = capText(lines[j], budget/2, "traceback")
		tail = append([]string{s}, tail...)
		budget -= len(s)
		elided += e
		j--
	}
	tb := head
	if i <= j {
		var n int64
		for k := i; k <= j; k++ {
			n += int64(len(lines[k].Raw))
		}
		elided += n
		tb = append(tb, fmt.Sprintf("[... %d traceback lines (%d bytes) elided: output limit reached ...]", j-i+1, n))
	}
	tb = append(tb, tail...)
	l.stats.ElidedDataBytes += elided
	raw, _ := json.Marshal(struct {
		OutputType string   `json:"output_type"`
		Ename      string   `json:"ename"`
		Evalue     string   `json:"evalue"`
		Traceback  []string `json:"traceback"`
	}{"error", ename, evalue, tb})
	l.keptData += len(raw)
	return &entry{kind: "error", raw: raw}
}

// kernelElided counts what the kernel already cut from a display (see the
// session's chunkStreams): metadata.mcp_jupyter_elided maps MIME type to size.
func (l *Log) kernelElided(metadata json.RawMessage) {
	if len(metadata) == 0 {
		return
	}
	gjson.GetBytes(metadata, "mcp_jupyter_elided").ForEach(func(_, v gjson.Result) bool {
		if n := v.Int(); n > 0 {
			l.stats.ElidedDataBytes += n
			l.stats.DataBytes += n
		}
		return true
	})
}
