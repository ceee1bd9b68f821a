package output

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// RenderTerminal returns the text a terminal (and JupyterLab, and VS Code's
// output renderer) shows for stream text: `\r` returns to the start of the
// line and what follows overwrites it, `\b` steps back one column, and the
// ANSI cursor and erase codes progress bars use (CSI A/B/C/D/G/K/J) are
// applied; colours and other escape sequences are dropped. A tqdm bar with
// 20,000 updates renders as its last state, one line.
func RenderTerminal(s string) string {
	if !strings.ContainsAny(s, "\r\b\x1b") {
		return s
	}
	t := terminal{lines: [][]rune{nil}}
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '\n':
			t.row++
			t.col = 0
			t.ensureRow()
			i++
		case '\r':
			t.col = 0
			i++
		case '\b':
			if t.col > 0 {
				t.col--
			}
			i++
		case '\x1b':
			i += t.escape(s[i:])
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			t.put(r)
			i += size
		}
	}
	var b strings.Builder
	for i, l := range t.lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.TrimRight(string(l), " "))
	}
	return b.String()
}

type terminal struct {
	lines    [][]rune
	row, col int
}

func (t *terminal) ensureRow() {
	for len(t.lines) <= t.row {
		t.lines = append(t.lines, nil)
	}
}

func (t *terminal) put(r rune) {
	line := t.lines[t.row]
	for len(line) < t.col {
		line = append(line, ' ')
	}
	if t.col < len(line) {
		line[t.col] = r
	} else {
		line = append(line, r)
	}
	t.lines[t.row] = line
	t.col++
}

// escape applies one escape sequence at the start of s and returns its length.
func (t *terminal) escape(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[': // CSI: parameters, intermediates, one final byte
		j := 2
		for j < len(s) && s[j] >= 0x30 && s[j] <= 0x3f {
			j++
		}
		params := s[2:j]
		for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
			j++
		}
		if j >= len(s) {
			return len(s)
		}
		t.csi(params, s[j])
		return j + 1
	case ']': // OSC (titles, hyperlinks): up to BEL or ST
		for j := 2; j < len(s); j++ {
			if s[j] == '\a' {
				return j + 1
			}
			if s[j] == '\x1b' && j+1 < len(s) && s[j+1] == '\\' {
				return j + 2
			}
		}
		return len(s)
	default:
		return 2
	}
}

func (t *terminal) csi(params string, final byte) {
	n := 1
	if p, err := strconv.Atoi(strings.SplitN(params, ";", 2)[0]); err == nil {
		n = p
	}
	switch final {
	case 'A': // up
		t.row = max(0, t.row-max(n, 1))
	case 'B': // down
		t.row += max(n, 1)
		t.ensureRow()
	case 'C': // forward
		t.col += max(n, 1)
	case 'D': // back
		t.col = max(0, t.col-max(n, 1))
	case 'G': // to column n (1-based)
		t.col = max(n, 1) - 1
	case 'K': // erase in line: 0 to end, 1 to start, 2 all
		line := t.lines[t.row]
		switch params {
		case "", "0":
			if t.col < len(line) {
				t.lines[t.row] = line[:t.col]
			}
		case "1":
			for i := 0; i <= t.col && i < len(line); i++ {
				line[i] = ' '
			}
		case "2":
			t.lines[t.row] = nil
		}
	case 'J': // erase in display: 0 below, 2/3 all
		switch params {
		case "", "0":
			if t.col < len(t.lines[t.row]) {
				t.lines[t.row] = t.lines[t.row][:t.col]
			}
			t.lines = t.lines[:t.row+1]
		case "2", "3":
			for i := range t.lines {
				t.lines[i] = nil
			}
		}
	}
}
