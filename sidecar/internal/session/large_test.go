package session_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/output"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
	"go.uber.org/goleak"
)

func TestLargeOutputsCounted(t *testing.T) {
	t.Parallel()
	m, spec := newManager(t)
	s := start(t, m, spec, filepath.Join(spec.Dir, "big.ipynb"))

	t.Run("100k lines", func(t *testing.T) {
		e, _ := s.Submit(session.Request{Code: "for i in range(100000):\n    print(i)"})
		if st := wait(t, e); st.Status != "ok" {
			t.Fatalf("%+v", st)
		}
		want := 0
		for i := range 100000 {
			want += len(fmt.Sprint(i)) + 1
		}
		if got := e.Stats().StreamBytes["stdout"]; got != int64(want) {
			t.Errorf("counted %d stdout bytes, want %d", got, want)
		}
		if got := stdoutOf(t, e); len(got) != want || !strings.HasSuffix(got, "99999\n") {
			t.Errorf("kept %d bytes, want %d (under the cap nothing is elided)", len(got), want)
		}
	})
	t.Run("50 MB execute_result", func(t *testing.T) {
		e, _ := s.Submit(session.Request{Code: "'x' * 50_000_000"})
		if st := wait(t, e); st.Status != "ok" {
			t.Fatalf("%+v", st)
		}
		outs := e.Outputs()
		if len(outs) != 1 {
			t.Fatalf("%d outputs", len(outs))
		}
		var o struct {
			Data map[string]string `json:"data"`
		}
		if err := json.Unmarshal(outs[0], &o); err != nil {
			t.Fatal(err)
		}
		// Over the per-output cap: head and tail around a note; every byte counted.
		tp := o.Data["text/plain"]
		if n := len(tp); n > output.DefaultMaxOutputBytes+200 || !strings.HasPrefix(tp, "'xxx") || !strings.HasSuffix(tp, "xxx'") ||
			!strings.Contains(tp, "bytes of text/plain elided: output limit reached, head and tail kept") {
			t.Errorf("text/plain has %d bytes (%.80q...), want head and tail within %d", n, tp, output.DefaultMaxOutputBytes)
		}
		st := e.Stats()
		if st.DataBytes < 50_000_002 {
			t.Errorf("counted %d data bytes", st.DataBytes)
		}
		if st.ElidedDataBytes+int64(len(tp)) < 50_000_002 {
			t.Errorf("elided %d + kept %d < the 50000002 sent", st.ElidedDataBytes, len(tp))
		}
	})
	t.Run("20 MiB display_data cut in the kernel, counted", func(t *testing.T) {
		e, _ := s.Submit(session.Request{Code: "from IPython.display import display\ndisplay({'text/plain': 'y' * (20 << 20), 'image/png': 'A' * (10 << 20)}, raw=True)"})
		if st := wait(t, e); st.Status != "ok" {
			t.Fatalf("%+v", st)
		}
		outs := e.Outputs()
		if len(outs) != 1 || len(outs[0]) > output.DefaultMaxOutputBytes+4096 {
			t.Fatalf("%d outputs, first %d bytes", len(outs), len(outs[0]))
		}
		if !strings.Contains(string(outs[0]), "of text/plain elided") || !strings.Contains(string(outs[0]), "[image/png of 10485760 bytes elided") {
			t.Errorf("output does not say what was cut: %.300s", outs[0])
		}
		st := e.Stats()
		if st.ElidedDataBytes+int64(len(outs[0])) < 30<<20 {
			t.Errorf("elided %d + kept %d < the %d sent", st.ElidedDataBytes, len(outs[0]), 30<<20)
		}
	})
	t.Run("stream over the cap keeps head and tail", func(t *testing.T) {
		m2, spec2 := newManager(t, func(o *session.Options) { o.MaxStreamBytes = 100_000 })
		s2 := start(t, m2, spec2, filepath.Join(spec2.Dir, "cap.ipynb"))
		e, _ := s2.Submit(session.Request{Code: "for i in range(100000):\n    print(i)"})
		if st := wait(t, e); st.Status != "ok" {
			t.Fatalf("%+v", st)
		}
		total := 0
		for i := range 100000 {
			total += len(fmt.Sprint(i)) + 1
		}
		st := e.Stats()
		if st.StreamBytes["stdout"] != int64(total) || st.ElidedBytes != int64(total-100_000) {
			t.Errorf("stats %+v, want %d bytes with %d elided", st, total, total-100_000)
		}
		got := stdoutOf(t, e)
		if !strings.HasPrefix(got, "0\n1\n2\n") || !strings.HasSuffix(got, "\n99999\n") || !strings.Contains(got, "bytes of stdout elided") {
			t.Errorf("head/tail/note missing: %q … %q", got[:20], got[len(got)-40:])
		}
		if len(got) > 100_000+25_000+200 {
			t.Errorf("kept %d bytes, over the bound", len(got))
		}
		// A reader replaying the op log from 0 ends with the same text.
		c := e.Read(context.Background(), 0, 0)
		var text string
		for _, op := range c.Ops {
			switch op.Kind {
			case "append", "replace":
				var o struct{ Text string }
				json.Unmarshal(op.Output, &o)
				text = o.Text
			case "appendText":
				text += op.Text
			}
		}
		if text != got {
			t.Errorf("replayed ops give %d bytes, outputs %d", len(text), len(got))
		}
	})
}

func TestManagerCloseLeaksNothing(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	m, spec := newManager(t)
	for _, nb := range []string{"x.ipynb", "y.ipynb"} {
		s := start(t, m, spec, filepath.Join(spec.Dir, nb))
		e, _ := s.Submit(session.Request{Code: "print(1)"})
		wait(t, e)
		s.Submit(session.Request{Code: "import time; time.sleep(60)"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m.Close(ctx)
	goleak.VerifyNone(t, ignore)
}
