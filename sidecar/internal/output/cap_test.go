package output

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestOversizedOutputsKeepHeadAndTail(t *testing.T) {
	l := NewLog(Options{MaxOutputBytes: 1 << 20, MaxDataBytes: 3 << 20})
	// Text with escapes and multi-byte characters around every cut point.
	unit := "héllo \"wörld\"\n\tà\\b ✓ 😀 "
	text := strings.Repeat(unit, (8<<20)/len(unit))
	content, _ := json.Marshal(map[string]any{"data": map[string]any{"text/plain": text, "image/png": strings.Repeat("A", 5<<20)}, "metadata": map[string]any{}, "transient": map[string]any{}})
	for i := 0; i < 4; i++ {
		if _, err := l.Apply("display_data", content); err != nil {
			t.Fatal(err)
		}
	}
	outs := l.Outputs()
	if len(outs) != 4 {
		t.Fatalf("%d outputs", len(outs))
	}
	total := 0
	for i, o := range outs {
		total += len(o)
		var v struct {
			Data map[string]string `json:"data"`
		}
		if err := json.Unmarshal(o, &v); err != nil {
			t.Fatalf("output %d is not valid JSON: %v", i, err)
		}
		tp := v.Data["text/plain"]
		if _, ok := v.Data["image/png"]; ok {
			t.Errorf("output %d kept the 5 MiB image", i)
		}
		if !strings.Contains(tp, "[image/png of ") || (i == 0 && (!strings.HasPrefix(tp, "héllo") || !strings.Contains(tp, "elided: output limit reached, head and tail kept"))) {
			t.Errorf("output %d text/plain = %.200q", i, tp)
		}
	}
	if total > 3<<20+4096 {
		t.Errorf("kept %d bytes, the budget is %d", total, 3<<20)
	}
	st := l.Stats()
	if st.ElidedDataBytes < 4*(13<<20)-int64(total) {
		t.Errorf("elided %d bytes counted; sent about %d, kept %d", st.ElidedDataBytes, 4*(13<<20), total)
	}
}

func TestLargeStreamChunkCountedExactly(t *testing.T) {
	l := NewLog(Options{MaxStreamBytes: 1 << 20})
	unit := "ünï \"q\" \\ \n😀"
	text := strings.Repeat(unit, (3<<20)/len(unit))
	content, _ := json.Marshal(map[string]string{"name": "stdout", "text": text})
	for i := 0; i < 3; i++ {
		if _, err := l.Apply("stream", content); err != nil {
			t.Fatal(err)
		}
	}
	l.Finish()
	st := l.Stats()
	if st.StreamBytes["stdout"] != int64(3*len(text)) {
		t.Errorf("counted %d stdout bytes, sent %d", st.StreamBytes["stdout"], 3*len(text))
	}
	var o struct{ Text string }
	if err := json.Unmarshal(l.Outputs()[0], &o); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(o.Text, unit) || !strings.HasSuffix(o.Text, unit) || !strings.Contains(o.Text, "elided") {
		t.Errorf("kept %d bytes: %.100q ... %.100q", len(o.Text), o.Text, o.Text[max(len(o.Text)-100, 0):])
	}
	if st.ElidedBytes+int64(1<<20) < int64(3*len(text)) {
		t.Errorf("elided %d + head 1 MiB < sent %d", st.ElidedBytes, 3*len(text))
	}
}
