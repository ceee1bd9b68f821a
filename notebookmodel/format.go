package notebookmodel

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// The formatter writes JSON the way Jupyter does — json.dumps(sort_keys=True,
// indent=1, ensure_ascii=False) — with the document's own indentation unit,
// so inserted or replaced JSON looks like what Jupyter would have written.

type formatter struct {
	indent string // "" = compact
	eol    string // line break: "\n", or "\r\n" for documents written that way ("" = "\n")
}

func (f formatter) newline(b *strings.Builder, depth int) {
	if f.indent == "" {
		return
	}
	if f.eol != "" {
		b.WriteString(f.eol)
	} else {
		b.WriteByte('\n')
	}
	for range depth {
		b.WriteString(f.indent)
	}
}

func (f formatter) sep() string {
	if f.indent == "" {
		return ":"
	}
	return ": "
}

// value writes raw JSON re-indented for a value starting at depth, with
// object keys sorted; numbers and literals keep their original text.
func (f formatter) value(b *strings.Builder, v gjson.Result, depth int) {
	switch {
	case v.IsObject():
		type kv struct{ k, v gjson.Result }
		var kvs []kv
		v.ForEach(func(k, val gjson.Result) bool {
			kvs = append(kvs, kv{k, val})
			return true
		})
		if len(kvs) == 0 {
			b.WriteString("{}")
			return
		}
		sort.SliceStable(kvs, func(i, j int) bool { return kvs[i].k.Str < kvs[j].k.Str })
		b.WriteByte('{')
		for i, e := range kvs {
			if i > 0 {
				b.WriteByte(',')
			}
			f.newline(b, depth+1)
			writeString(b, e.k.Str)
			b.WriteString(f.sep())
			f.value(b, e.v, depth+1)
		}
		f.newline(b, depth)
		b.WriteByte('}')
	case v.IsArray():
		n := 0
		v.ForEach(func(_, val gjson.Result) bool {
			if n == 0 {
				b.WriteByte('[')
			} else {
				b.WriteByte(',')
			}
			f.newline(b, depth+1)
			f.value(b, val, depth+1)
			n++
			return true
		})
		if n == 0 {
			b.WriteString("[]")
			return
		}
		f.newline(b, depth)
		b.WriteByte(']')
	case v.Type == gjson.String:
		writeString(b, v.Str)
	case !v.Exists():
		b.WriteString("null")
	default:
		b.WriteString(v.Raw)
	}
}

// field is one key of an object the formatter builds.
type field struct {
	key string
	raw string // JSON text (any formatting; it is re-indented)
}

// object writes an object from fields (sorted by key) at depth.
func (f formatter) object(b *strings.Builder, fields []field, depth int) {
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].key < fields[j].key })
	b.WriteByte('{')
	for i, fl := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		f.newline(b, depth+1)
		writeString(b, fl.key)
		b.WriteString(f.sep())
		f.value(b, gjson.Parse(fl.raw), depth+1)
	}
	f.newline(b, depth)
	b.WriteByte('}')
}

// sourceJSON renders a source as nbformat stores it: a list of lines
// (keeping their newlines) when asList, else one string.
func sourceJSON(src string, asList bool) string {
	var b strings.Builder
	if !asList {
		writeString(&b, src)
		return b.String()
	}
	b.WriteByte('[')
	for i, line := range splitLines(src) {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(&b, line)
	}
	b.WriteByte(']')
	return b.String()
}

// splitLines splits after each "\n", like Python's splitlines(keepends=True) for nbformat.
func splitLines(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// writeString encodes a JSON string as Python's json.dumps(ensure_ascii=False) does.
func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b.WriteByte(c)
			i++
			continue
		}
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				h := strconv.FormatInt(int64(c), 16)
				if len(h) == 1 {
					b.WriteByte('0')
				}
				b.WriteString(h)
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString(`\ufffd`)
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		i++
	}
	b.WriteByte('"')
}

// compactJSON re-encodes JSON without whitespace and with sorted keys, for comparisons.
func compactJSON(raw []byte) string {
	var b strings.Builder
	formatter{}.value(&b, gjson.ParseBytes(raw), 0)
	return b.String()
}
