package output

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func pngB64(t *testing.T, w, h int) string {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSummarize(t *testing.T) {
	var long []string
	for i := range 100 {
		long = append(long, fmt.Sprintf("line %d", i))
	}
	img := pngB64(t, 64, 48)
	imgBytes, _ := base64.StdEncoding.DecodeString(img)
	tests := []struct {
		name    string
		outputs []any
		want    string
	}{
		{
			name:    "stream with ansi",
			outputs: []any{map[string]any{"output_type": "stream", "name": "stdout", "text": []string{"\x1b[31mred\x1b[0m\n", "plain\n"}}},
			want:    "red\nplain",
		},
		{
			name:    "stderr",
			outputs: []any{map[string]any{"output_type": "stream", "name": "stderr", "text": "warn\n"}},
			want:    "[stderr] warn",
		},
		{
			name:    "long stream head and tail",
			outputs: []any{map[string]any{"output_type": "stream", "name": "stdout", "text": strings.Join(long, "\n")}},
			want:    strings.Join(long[:20], "\n") + "\n… [70 lines elided] …\n" + strings.Join(long[90:], "\n"),
		},
		{
			name: "png with dimensions",
			outputs: []any{map[string]any{"output_type": "display_data", "data": map[string]any{
				"image/png": img, "text/plain": "<Figure size 64x48 with 1 Axes>"}}},
			want: fmt.Sprintf("[image/png 64x48, %d B]", len(imgBytes)),
		},
		{
			name: "plotly traces and title",
			outputs: []any{map[string]any{"output_type": "display_data", "data": map[string]any{
				"application/vnd.plotly.v1+json": map[string]any{
					"data":   []any{map[string]any{"type": "bar", "name": "sales"}, map[string]any{"x": []int{1}}},
					"layout": map[string]any{"title": map[string]any{"text": "Revenue"}}},
				"text/html": "<div>…</div>"}}},
			want: `[plotly figure: 2 trace(s): bar "sales", scatter; title "Revenue"]`,
		},
		{
			name: "error with traceback",
			outputs: []any{map[string]any{"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
				"traceback": []string{"a", "b", "c", "d", "\x1b[31mZeroDivisionError\x1b[0m: division by zero"}}},
			want: "ZeroDivisionError: division by zero\nb\nc\nd\nZeroDivisionError: division by zero",
		},
		{
			name:    "execute result",
			outputs: []any{map[string]any{"output_type": "execute_result", "execution_count": 1, "data": map[string]any{"text/plain": "2"}}},
			want:    "2",
		},
		{
			name:    "unknown mime",
			outputs: []any{map[string]any{"output_type": "display_data", "data": map[string]any{"application/x-thing": "abc"}}},
			want:    "[application/x-thing, 5 B]",
		},
		{
			name: "several outputs",
			outputs: []any{
				map[string]any{"output_type": "stream", "name": "stdout", "text": "hi\n"},
				map[string]any{"output_type": "execute_result", "data": map[string]any{"text/plain": "3"}},
			},
			want: "hi\n3",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var raws []json.RawMessage
			for _, o := range tc.outputs {
				raws = append(raws, mustJSON(t, o))
			}
			if diff := cmp.Diff(tc.want, Summarize(raws, SummaryOptions{})); diff != "" {
				t.Errorf("Summarize (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSummarizeBounded(t *testing.T) {
	big := strings.Repeat("é", 5000)
	raws := []json.RawMessage{mustJSON(t, map[string]any{"output_type": "stream", "name": "stdout", "text": strings.Repeat(big+"\n", 50)})}
	got := Summarize(raws, SummaryOptions{MaxBytes: 1000})
	if len(got) > 1200 {
		t.Errorf("summary is %d bytes, want ≤ ~1000", len(got))
	}
	if !strings.Contains(got, "summary truncated") {
		t.Errorf("summary does not say it was truncated: %q", got[len(got)-100:])
	}
	if !json.Valid(mustJSON(t, got)) || strings.ToValidUTF8(got, "?") != got {
		t.Error("summary is not valid UTF-8")
	}
}
