package output

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// defaultRepr matches a text/plain that only names the object
// ("<IPython.core.display.HTML object>", "<pandas.io.formats.style.Styler at 0x7f…>"):
// beside an HTML rendering it tells the model nothing.
var defaultRepr = regexp.MustCompile(`^<[\w.]+ (object|at 0x[0-9a-fA-F]+)>$`)

// HTMLText renders HTML as the text a reader sees: tables as rows with cells
// joined by " | ", block elements on their own lines, scripts and styles
// dropped. It reads at most maxBytes of input.
func HTMLText(s string, maxBytes int) string {
	if maxBytes > 0 && len(s) > maxBytes {
		s = s[:maxBytes]
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0       // inside <script>/<style>/<head>
	cellsInRow := 0 // cells written in the current table row
	newline := func() {
		str := b.String()
		if len(str) > 0 && !strings.HasSuffix(str, "\n") {
			b.WriteByte('\n')
		}
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidyLines(b.String())
		case html.TextToken:
			if skip > 0 {
				continue
			}
			text := strings.Join(strings.Fields(string(z.Text())), " ")
			if text == "" {
				continue
			}
			str := b.String()
			if len(str) > 0 && !strings.HasSuffix(str, "\n") && !strings.HasSuffix(str, " ") && !strings.HasSuffix(str, "| ") {
				b.WriteByte(' ')
			}
			b.WriteString(text)
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			start := tt != html.EndTagToken
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Template:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case atom.Tr:
				newline()
				cellsInRow = 0
			case atom.Td, atom.Th:
				if start {
					if cellsInRow > 0 {
						b.WriteString(" | ")
					}
					cellsInRow++
				}
			case atom.Br, atom.P, atom.Div, atom.Li, atom.Table, atom.Thead, atom.Tbody, atom.Caption, atom.Pre,
				atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Hr, atom.Section, atom.Details, atom.Summary:
				newline()
			}
		}
	}
}

// tidyLines trims each line and drops empty ones.
func tidyLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
