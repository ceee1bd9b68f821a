package output

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif"  // registers GIF for DecodeConfig
	_ "image/jpeg" // registers JPEG for DecodeConfig
	_ "image/png"  // registers PNG for DecodeConfig
	"regexp"
	"sort"
	"strings"
)

// SummaryOptions bounds the text view of outputs given to a model.
type SummaryOptions struct {
	MaxBytes       int // whole summary; 0 = 4000
	StreamHead     int // lines kept from the start of a long stream; 0 = 20
	StreamTail     int // lines kept from its end; 0 = 10
	TracebackLines int // last traceback lines kept; 0 = 4
}

func (o SummaryOptions) withDefaults() SummaryOptions {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 4000
	}
	if o.StreamHead <= 0 {
		o.StreamHead = 20
	}
	if o.StreamTail <= 0 {
		o.StreamTail = 10
	}
	if o.TracebackLines <= 0 {
		o.TracebackLines = 4
	}
	return o
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-Z\\-_]`)

// StripANSI removes terminal escape sequences (colours, cursor moves, OSC titles).
func StripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }

// Summarize renders nbformat outputs as bounded plain text: streams head+tail,
// images as their type, size and dimensions, plotly figures as trace types and
// title, errors as "ename: evalue" plus the last traceback lines. MIME bundles
// themselves are never altered: this is the model's view, raw outputs stay raw.
func Summarize(outputs []json.RawMessage, opts SummaryOptions) string {
	opts = opts.withDefaults()
	var parts []string
	for _, raw := range outputs {
		if s := summarizeOne(raw, opts); s != "" {
			parts = append(parts, s)
		}
	}
	out := strings.Join(parts, "\n")
	if len(out) > opts.MaxBytes {
		cut := opts.MaxBytes
		for cut > 0 && !utf8Start(out[cut]) {
			cut--
		}
		out = out[:cut] + fmt.Sprintf("\n… [summary truncated: %d more bytes; read raw_outputs or the output resource]", len(out)-cut)
	}
	return out
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

type nbOutput struct {
	OutputType string                     `json:"output_type"`
	Name       string                     `json:"name"`
	Text       multiline                  `json:"text"`
	Data       map[string]json.RawMessage `json:"data"`
	Ename      string                     `json:"ename"`
	Evalue     string                     `json:"evalue"`
	Traceback  []string                   `json:"traceback"`
}

// multiline is nbformat's string-or-list-of-strings.
type multiline string

func (m *multiline) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*m = multiline(s)
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*m = multiline(strings.Join(l, ""))
	return nil
}

func summarizeOne(raw json.RawMessage, opts SummaryOptions) string {
	var o nbOutput
	if err := json.Unmarshal(raw, &o); err != nil {
		return "[unreadable output]"
	}
	switch o.OutputType {
	case "stream":
		// As a terminal shows it: a progress bar's \r updates collapse to its last state before head+tail.
		text := headTail(RenderTerminal(string(o.Text)), opts.StreamHead, opts.StreamTail)
		if o.Name == "stderr" {
			return "[stderr] " + text
		}
		return text
	case "error":
		s := fmt.Sprintf("%s: %s", o.Ename, StripANSI(o.Evalue))
		tb := o.Traceback
		if len(tb) > opts.TracebackLines {
			tb = tb[len(tb)-opts.TracebackLines:]
		}
		var lines []string
		for _, l := range tb {
			l = strings.TrimRight(StripANSI(l), "\n")
			if l != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			s += "\n" + headTail(strings.Join(lines, "\n"), 15, 15)
		}
		return s
	case "execute_result", "display_data":
		return summarizeBundle(o.Data, opts)
	default:
		return ""
	}
}

func summarizeBundle(data map[string]json.RawMessage, opts SummaryOptions) string {
	str := func(mime string) (string, bool) {
		raw, ok := data[mime]
		if !ok {
			return "", false
		}
		var m multiline
		if err := json.Unmarshal(raw, &m); err != nil {
			return string(raw), true
		}
		return string(m), true
	}
	var parts []string
	if raw, ok := data["application/vnd.plotly.v1+json"]; ok {
		parts = append(parts, plotlySummary(raw))
	}
	for _, mime := range []string{"image/png", "image/jpeg", "image/gif"} {
		if b64, ok := str(mime); ok {
			parts = append(parts, imageSummary(mime, b64))
		}
	}
	if svg, ok := str("image/svg+xml"); ok {
		parts = append(parts, fmt.Sprintf("[image/svg+xml, %s]", kb(len(svg))))
	}
	if len(parts) == 0 {
		if txt, ok := str("text/markdown"); ok {
			parts = append(parts, headTail(txt, opts.StreamHead, opts.StreamTail))
		}
	}
	plain, hasPlain := str("text/plain")
	if h, ok := str("text/html"); ok && len(parts) == 0 && (!hasPlain || defaultRepr.MatchString(strings.TrimSpace(plain))) {
		// An HTML-only output (a styled table, a widget's fallback): its text, not "<IPython.core.display.HTML object>".
		if text := HTMLText(h, 1<<20); text != "" {
			parts = append(parts, headTail(text, opts.StreamHead, opts.StreamTail))
			hasPlain = false
		}
	}
	if hasPlain && (len(parts) == 0 || !strings.HasPrefix(plain, "<Figure")) {
		// text/plain beside a figure is usually a repr like "<Figure size…>": keep it only when it adds something.
		if len(parts) == 0 || len(plain) < 200 {
			parts = append(parts, headTail(StripANSI(plain), opts.StreamHead, opts.StreamTail))
		}
	}
	if len(parts) == 0 {
		var mimes []string
		for m, raw := range data {
			mimes = append(mimes, fmt.Sprintf("%s, %s", m, kb(len(raw))))
		}
		sort.Strings(mimes)
		for _, m := range mimes {
			parts = append(parts, "["+m+"]")
		}
	}
	return strings.Join(parts, "\n")
}

func imageSummary(mime, b64 string) string {
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return fmt.Sprintf("[%s, undecodable base64]", mime)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return fmt.Sprintf("[%s, %s]", mime, kb(len(b)))
	}
	return fmt.Sprintf("[%s %dx%d, %s]", mime, cfg.Width, cfg.Height, kb(len(b)))
}

func plotlySummary(raw json.RawMessage) string {
	var fig struct {
		Data []struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"data"`
		Layout struct {
			Title json.RawMessage `json:"title"`
		} `json:"layout"`
	}
	if err := json.Unmarshal(raw, &fig); err != nil {
		return fmt.Sprintf("[plotly figure, %s]", kb(len(raw)))
	}
	var types []string
	for _, d := range fig.Data {
		t := d.Type
		if t == "" {
			t = "scatter" // plotly's default trace type
		}
		if d.Name != "" {
			t += " " + fmt.Sprintf("%q", d.Name)
		}
		types = append(types, t)
	}
	if len(types) > 10 {
		types = append(types[:10], fmt.Sprintf("… %d more", len(fig.Data)-10))
	}
	s := fmt.Sprintf("[plotly figure: %d trace(s): %s", len(fig.Data), strings.Join(types, ", "))
	if title := plotlyTitle(fig.Layout.Title); title != "" {
		s += fmt.Sprintf("; title %q", title)
	}
	return s + "]"
}

func plotlyTitle(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Text
	}
	return ""
}

func kb(n int) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	if n < 1024*1024 {
		return fmt.Sprintf("%d KB", (n+512)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
}

// headTail keeps the first head and last tail lines of s, naming the elided count.
func headTail(s string, head, tail int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	const maxLine = 500
	for i, l := range lines {
		if len(l) > maxLine {
			cut := maxLine
			for cut > 0 && !utf8Start(l[cut]) {
				cut--
			}
			lines[i] = l[:cut] + fmt.Sprintf("… [%d more chars]", len(l)-cut)
		}
	}
	if len(lines) <= head+tail {
		return strings.Join(lines, "\n")
	}
	kept := append([]string{}, lines[:head]...)
	kept = append(kept, fmt.Sprintf("… [%d lines elided] …", len(lines)-head-tail))
	kept = append(kept, lines[len(lines)-tail:]...)
	return strings.Join(kept, "\n")
}
