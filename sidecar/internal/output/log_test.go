package output

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type msg struct {
	typ     string
	content string
}

func stream(name, text string) msg {
	b, _ := json.Marshal(map[string]string{"name": name, "text": text})
	return msg{"stream", string(b)}
}

// replay rebuilds outputs from ops the way a reader (the extension) does.
func replay(t *testing.T, ops []Op) []string {
	t.Helper()
	var outs []map[string]any
	for _, op := range ops {
		switch op.Kind {
		case OpAppend:
			var o map[string]any
			if err := json.Unmarshal(op.Output, &o); err != nil {
				t.Fatalf("op %d: %v", op.Seq, err)
			}
			if op.Index != len(outs) {
				t.Fatalf("op %d appends at %d with %d outputs", op.Seq, op.Index, len(outs))
			}
			outs = append(outs, o)
		case OpAppendText:
			outs[op.Index]["text"] = outs[op.Index]["text"].(string) + op.Text
		case OpReplace:
			var o map[string]any
			if err := json.Unmarshal(op.Output, &o); err != nil {
				t.Fatal(err)
			}
			outs[op.Index] = o
		case OpClear:
			outs = nil
		default:
			t.Fatalf("unknown op kind %q", op.Kind)
		}
	}
	var got []string
	for _, o := range outs {
		b, _ := json.Marshal(o)
		got = append(got, string(b))
	}
	return got
}

func canon(t *testing.T, raws []json.RawMessage) []string {
	t.Helper()
	var out []string
	for _, r := range raws {
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			t.Fatalf("invalid output JSON %s: %v", r, err)
		}
		b, _ := json.Marshal(v)
		out = append(out, string(b))
	}
	return out
}

func TestLog(t *testing.T) {
	tests := []struct {
		name    string
		msgs    []msg
		want    []string // canonical nbformat outputs
		opKinds []string
	}{
		{
			name:    "streams merge per name while consecutive",
			msgs:    []msg{stream("stdout", "a"), stream("stdout", "b\n"), stream("stderr", "e"), stream("stdout", "c")},
			want:    []string{`{"name":"stdout","output_type":"stream","text":"ab\n"}`, `{"name":"stderr","output_type":"stream","text":"e"}`, `{"name":"stdout","output_type":"stream","text":"c"}`},
			opKinds: []string{"append", "appendText", "append", "append"},
		},
		{
			name: "execute_result and display_data keep the bundle",
			msgs: []msg{
				{"execute_input", `{"code":"x","execution_count":3}`},
				{"display_data", `{"data":{"application/vnd.plotly.v1+json":{"data":[{"y":[1, 2]}]},"text/plain":"Fig"},"metadata":{"a":1},"transient":{}}`},
				{"execute_result", `{"data":{"text/plain":"42"},"metadata":{},"execution_count":3}`},
				{"status", `{"execution_state":"idle"}`},
			},
			want: []string{
				`{"data":{"application/vnd.plotly.v1+json":{"data":[{"y":[1,2]}]},"text/plain":"Fig"},"metadata":{"a":1},"output_type":"display_data"}`,
				`{"data":{"text/plain":"42"},"execution_count":3,"metadata":{},"output_type":"execute_result"}`,
			},
			opKinds: []string{"append", "append"},
		},
		{
			name:    "error",
			msgs:    []msg{{"error", `{"ename":"ZeroDivisionError","evalue":"division by zero","traceback":["tb1","tb2"]}`}},
			want:    []string{`{"ename":"ZeroDivisionError","evalue":"division by zero","output_type":"error","traceback":["tb1","tb2"]}`},
			opKinds: []string{"append"},
		},
		{
			name:    "clear_output now",
			msgs:    []msg{stream("stdout", "old"), {"clear_output", `{"wait":false}`}, stream("stdout", "new")},
			want:    []string{`{"name":"stdout","output_type":"stream","text":"new"}`},
			opKinds: []string{"append", "clear", "append"},
		},
		{
			name:    "clear_output wait is deferred to the next output",
			msgs:    []msg{stream("stdout", "1"), {"clear_output", `{"wait":true}`}, stream("stdout", "2"), {"clear_output", `{"wait":true}`}},
			want:    []string{`{"name":"stdout","output_type":"stream","text":"2"}`},
			opKinds: []string{"append", "clear", "append"},
		},
		{
			name: "update_display_data replaces every output with that id",
			msgs: []msg{
				{"display_data", `{"data":{"text/plain":"v1"},"metadata":{},"transient":{"display_id":"d"}}`},
				stream("stdout", "between"),
				{"display_data", `{"data":{"text/plain":"v1"},"metadata":{},"transient":{"display_id":"d"}}`},
				{"display_data", `{"data":{"text/plain":"other"},"metadata":{},"transient":{"display_id":"e"}}`},
				{"update_display_data", `{"data":{"text/plain":"v2"},"metadata":{"m":true},"transient":{"display_id":"d"}}`},
				{"update_display_data", `{"data":{"text/plain":"nobody"},"metadata":{},"transient":{"display_id":"zzz"}}`},
			},
			want: []string{
				`{"data":{"text/plain":"v2"},"metadata":{"m":true},"output_type":"display_data"}`,
				`{"name":"stdout","output_type":"stream","text":"between"}`,
				`{"data":{"text/plain":"v2"},"metadata":{"m":true},"output_type":"display_data"}`,
				`{"data":{"text/plain":"other"},"metadata":{},"output_type":"display_data"}`,
			},
			opKinds: []string{"append", "append", "append", "append", "replace", "replace"},
		},
		{
			name: "update of an execute_result keeps its type and count",
			msgs: []msg{
				{"execute_result", `{"data":{"text/plain":"a"},"metadata":{},"execution_count":7,"transient":{"display_id":"r"}}`},
				{"update_display_data", `{"data":{"text/plain":"b"},"metadata":{},"transient":{"display_id":"r"}}`},
			},
			want:    []string{`{"data":{"text/plain":"b"},"execution_count":7,"metadata":{},"output_type":"execute_result"}`},
			opKinds: []string{"append", "replace"},
		},
		{
			name:    "non-output messages produce nothing",
			msgs:    []msg{{"status", `{"execution_state":"busy"}`}, {"comm_open", `{}`}, {"execute_input", `{}`}},
			want:    nil,
			opKinds: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLog(Options{})
			var all []Op
			for _, m := range tc.msgs {
				ops, err := l.Apply(m.typ, json.RawMessage(m.content))
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, ops...)
			}
			all = append(all, l.Finish()...)
			if diff := cmp.Diff(tc.want, canon(t, l.Outputs())); diff != "" {
				t.Errorf("outputs (-want +got):\n%s", diff)
			}
			var kinds []string
			for i, op := range all {
				if op.Seq != i {
					t.Errorf("op %d has seq %d: not gap-free", i, op.Seq)
				}
				kinds = append(kinds, op.Kind)
			}
			if diff := cmp.Diff(tc.opKinds, kinds); diff != "" {
				t.Errorf("op kinds (-want +got):\n%s", diff)
			}
			// A reader replaying every op, or resuming from the log at any cursor, ends in the same state.
			if diff := cmp.Diff(tc.want, replay(t, all)); diff != "" {
				t.Errorf("replayed ops (-want +got):\n%s", diff)
			}
			ops, next := l.Ops(0)
			if next != len(all) {
				t.Errorf("next = %d, want %d", next, len(all))
			}
			if diff := cmp.Diff(tc.want, replay(t, ops)); diff != "" {
				t.Errorf("replayed Ops(0) (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLogBundleBytesUntouched(t *testing.T) {
	// Odd spacing and key order must survive: the bundle is not re-encoded.
	data := `{"text/plain" :  "x",  "application/json":{"b":1,"a":[1 ,2]}}`
	l := NewLog(Options{})
	if _, err := l.Apply("display_data", json.RawMessage(`{"data":`+data+`,"metadata":{}}`)); err != nil {
		t.Fatal(err)
	}
	if got := string(l.Outputs()[0]); !strings.Contains(got, data) {
		t.Errorf("bundle re-encoded: %s", got)
	}
}

func TestLogStreamCap(t *testing.T) {
	l := NewLog(Options{MaxStreamBytes: 1000})
	var all []Op
	total := 0
	for i := range 500 {
		line := fmt.Sprintf("line %d\n", i)
		total += len(line)
		ops, err := l.Apply("stream", json.RawMessage(fmt.Sprintf(`{"name":"stdout","text":%q}`, line)))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ops...)
	}
	all = append(all, l.Finish()...)
	st := l.Stats()
	if st.StreamBytes["stdout"] != int64(total) {
		t.Errorf("counted %d stream bytes, want %d", st.StreamBytes["stdout"], total)
	}
	if st.ElidedBytes != int64(total-1000) {
		t.Errorf("elided %d, want %d", st.ElidedBytes, total-1000)
	}
	outs := l.Outputs()
	if len(outs) != 1 {
		t.Fatalf("%d outputs", len(outs))
	}
	var o struct{ Text string }
	json.Unmarshal(outs[0], &o)
	if !strings.HasPrefix(o.Text, "line 0\nline 1\n") || !strings.HasSuffix(o.Text, "line 499\n") {
		t.Errorf("head/tail lost: %q…%q", o.Text[:20], o.Text[len(o.Text)-20:])
	}
	dropped := total - 1000 - 250
	if want := fmt.Sprintf("[... %d bytes of stdout elided", dropped); !strings.Contains(o.Text, want) {
		t.Errorf("no elision note %q in output", want)
	}
	if len(o.Text) > 1000+250+200 {
		t.Errorf("kept %d bytes, over the bound", len(o.Text))
	}
	if diff := cmp.Diff(canon(t, outs), replay(t, all)); diff != "" {
		t.Errorf("replay (-want +got):\n%s", diff)
	}
}

func TestLogCursorAcrossClear(t *testing.T) {
	l := NewLog(Options{})
	for i := range 100 {
		l.Apply("clear_output", json.RawMessage(`{"wait":true}`))
		l.Apply("stream", json.RawMessage(fmt.Sprintf(`{"name":"stdout","text":"progress %d"}`, i)))
	}
	ops, next := l.Ops(0)
	if next != 200 { // every deferred clear emits its clear op, then the output
		t.Errorf("next = %d, want 200", next)
	}
	if len(ops) > 2 {
		t.Errorf("%d ops retained after clears, want the last clear and its output", len(ops))
	}
	if diff := cmp.Diff([]string{`{"name":"stdout","output_type":"stream","text":"progress 99"}`}, replay(t, ops)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLogBadContent(t *testing.T) {
	l := NewLog(Options{})
	if _, err := l.Apply("stream", json.RawMessage(`{not json`)); err == nil {
		t.Error("want an error for malformed content")
	}
	if len(l.Outputs()) != 0 {
		t.Error("malformed message produced an output")
	}
}

func FuzzApply(f *testing.F) {
	f.Add("stream", `{"name":"stdout","text":"a"}`)
	f.Add("display_data", `{"data":{"text/plain":"x"},"transient":{"display_id":"d"}}`)
	f.Add("update_display_data", `{"data":{},"transient":{"display_id":"d"}}`)
	f.Add("clear_output", `{"wait":true}`)
	f.Add("error", `{"ename":"E"}`)
	f.Fuzz(func(t *testing.T, typ, content string) {
		l := NewLog(Options{MaxStreamBytes: 16})
		for range 3 {
			l.Apply(typ, json.RawMessage(content))
		}
		l.Finish()
		// Every output must be valid JSON whatever came in.
		for _, o := range l.Outputs() {
			if !json.Valid(o) {
				t.Fatalf("invalid output %q from %s %q", o, typ, content)
			}
		}
	})
}

func TestLogCompactsUpdates(t *testing.T) {
	l := NewLog(Options{MaxStreamBytes: 1000})
	var all []Op
	apply := func(typ, content string) {
		ops, err := l.Apply(typ, json.RawMessage(content))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ops...)
	}
	apply("stream", `{"name":"stdout","text":"start\n"}`)
	apply("display_data", `{"data":{"text/plain":"0"},"metadata":{},"transient":{"display_id":"p"}}`)
	for i := 1; i <= 5000; i++ {
		apply("update_display_data", fmt.Sprintf(`{"data":{"text/plain":"%d"},"metadata":{},"transient":{"display_id":"p"}}`, i))
	}
	want := []string{
		`{"name":"stdout","output_type":"stream","text":"start\n"}`,
		`{"data":{"text/plain":"5000"},"metadata":{},"output_type":"display_data"}`,
	}
	if diff := cmp.Diff(want, canon(t, l.Outputs())); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	for i, op := range all {
		if op.Seq != i {
			t.Fatalf("op %d has seq %d", i, op.Seq)
		}
	}
	if diff := cmp.Diff(want, replay(t, all)); diff != "" {
		t.Errorf("live replay (-want +got):\n%s", diff)
	}
	ops, next := l.Ops(0)
	if next != len(all) {
		t.Errorf("next %d, want %d", next, len(all))
	}
	if len(ops) > 200 {
		t.Errorf("%d ops retained for 2 outputs: the log is not bounded", len(ops))
	}
	if diff := cmp.Diff(want, replay(t, ops)); diff != "" {
		t.Errorf("cursor replay (-want +got):\n%s", diff)
	}
	// Big outputs alone never trigger compaction loops.
	big := NewLog(Options{MaxStreamBytes: 10})
	for range 3 {
		ops, _ := big.Apply("display_data", json.RawMessage(`{"data":{"text/plain":"`+strings.Repeat("x", 100)+`"}}`))
		if len(ops) != 1 {
			t.Errorf("a plain append produced %d ops", len(ops))
		}
	}
}
