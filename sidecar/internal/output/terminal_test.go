package output

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRenderTerminal(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain text is untouched", "a\nb\n", "a\nb\n"},
		{"carriage return overwrites the line", "loss=1.0000\rloss=0.5", "loss=0.5000"},
		{"CRLF is a newline", "a\r\nb\r\n", "a\nb\n"},
		{"backspace", "abc\b\bX", "aXc"},
		{"erase to end of line", "100%|####|\r\x1b[K50%", "50%"},
		{"erase whole line then write", "old text\x1b[2K\rnew", "new"},
		{"colours are dropped", "\x1b[31mred\x1b[0m ok", "red ok"},
		{"cursor up rewrites an earlier bar", "bar1 10%\nbar2 10%\n\x1b[A\x1b[Abar1 99%\n", "bar1 99%\nbar2 10%\n"},
		{"column moves", "abcdef\x1b[3GX", "abXdef"},
		{"OSC title dropped", "\x1b]0;title\aok", "ok"},
		{"unfinished escape at the end", "ok\x1b[", "ok"},
	} {
		if got := RenderTerminal(tc.in); got != tc.want {
			t.Errorf("%s: RenderTerminal(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// A tqdm-style training bar: 20,001 "\r" updates (~1 MB) summarise as the final state, one line.
func TestSummaryShowsAProgressBarsLastState(t *testing.T) {
	var b strings.Builder
	for i := 0; i <= 20000; i++ {
		fmt.Fprintf(&b, "\r%5d/20000 [%-40s] loss=%.4f", i, strings.Repeat("#", i*40/20000), 1.0/float64(i+1))
	}
	b.WriteString("\ntraining done\n")
	raw, _ := json.Marshal(map[string]any{"output_type": "stream", "name": "stderr", "text": b.String()})
	got := Summarize([]json.RawMessage{raw}, SummaryOptions{})
	want := "[stderr] 20000/20000 [########################################] loss=0.0000\ntraining done"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary of a %d-byte progress bar (-want +got):\n%s", b.Len(), diff)
	}
}

func TestSummaryRendersHTMLOnlyOutputsAsText(t *testing.T) {
	table := `<style>.x{color:red}</style><table><thead><tr><th></th><th>a</th><th>b</th></tr></thead>` +
		`<tbody><tr><th>0</th><td>1</td><td>x y</td></tr><tr><th>1</th><td>2</td><td>z</td></tr></tbody></table>`
	for name, data := range map[string]map[string]any{
		"HTML object":   {"text/html": table, "text/plain": "<IPython.core.display.HTML object>"},
		"Styler":        {"text/html": table, "text/plain": "<pandas.io.formats.style.Styler at 0x7f3a2c1b5d90>"},
		"no text/plain": {"text/html": table},
	} {
		raw, _ := json.Marshal(map[string]any{"output_type": "display_data", "data": data, "metadata": map[string]any{}})
		got := Summarize([]json.RawMessage{raw}, SummaryOptions{})
		if want := "| a | b\n0 | 1 | x y\n1 | 2 | z"; got != want {
			t.Errorf("%s: summary %q, want %q", name, got, want)
		}
	}
	// A DataFrame's own text/plain repr stays what the model sees.
	raw, _ := json.Marshal(map[string]any{"output_type": "execute_result", "data": map[string]any{"text/html": table, "text/plain": "   a  b\n0  1  x"}})
	if got := Summarize([]json.RawMessage{raw}, SummaryOptions{}); got != "   a  b\n0  1  x" {
		t.Errorf("a useful text/plain must win over HTML, got %q", got)
	}
}
