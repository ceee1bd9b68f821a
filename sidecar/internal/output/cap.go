package output

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"
)

// Bounds on the non-stream outputs of one execution (display_data,
// execute_result, update_display_data, error). Streams have their own
// (MaxStreamBytes). Past them, a text value keeps its head and tail around a
// note giving the bytes elided; a binary or structured value (an image, JSON)
// is replaced by a note in text/plain. Everything is counted in Stats.
const (
	// DefaultMaxOutputBytes caps one output's data.
	DefaultMaxOutputBytes = 8 << 20
	// DefaultMaxDataBytes caps the data of every output of one execution.
	DefaultMaxDataBytes = 32 << 20
)

// view reads content without copying it (gjson results then point into it).
// content is a received message, never written to afterwards.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// textual reports whether a MIME value is text one can cut.
func textual(mime string) bool {
	return strings.HasPrefix(mime, "text/") || mime == "application/javascript" || strings.HasSuffix(mime, "+xml") && !strings.HasPrefix(mime, "image/")
}

// capText decodes a JSON string value keeping at most keep bytes: its head
// and tail around a note. Only the kept parts are decoded (a 1 GiB value is
// never copied whole). It returns the text and the bytes elided (of the raw
// JSON value, close to the text's size).
func capText(v gjson.Result, keep int, what string) (string, int64) {
	raw := v.Raw
	if v.Type != gjson.String || len(raw) < 2 {
		return "", int64(len(raw))
	}
	body := raw[1 : len(raw)-1]
	if len(body) <= keep {
		return v.String(), 0
	}
	half := max(keep/2, 0)
	head := decodePart(body[:safeCut(body, half)])
	tailStart := safeCut(body, len(body)-half)
	tail := decodePart(body[tailStart:])
	elided := int64(tailStart - len(head))
	if elided < 0 {
		elided = 0
	}
	var b strings.Builder
	b.Grow(len(head) + len(tail) + 120)
	b.WriteString(head)
	if head != "" && !strings.HasSuffix(head, "\n") {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "[... %d bytes of %s elided: output limit reached, head and tail kept ...]\n", elided, what)
	b.WriteString(tail)
	return b.String(), int64(len(body)) - int64(len(head)+len(tail))
}

// safeCut moves i back so that body[:i] does not end inside an escape
// sequence (\", \\, \uXXXX) or a UTF-8 character.
func safeCut(body string, i int) int {
	if i >= len(body) {
		return len(body)
	}
	if i <= 0 {
		return 0
	}
	for j := i - 1; j >= 0 && j >= i-12; j-- {
		if body[j] != '\\' {
			continue
		}
		// count the run of backslashes ending at j
		k := j
		for k >= 0 && body[k] == '\\' {
			k--
		}
		if (j-k)%2 == 1 { // body[j] starts an escape
			end := j + 2
			if j+1 < len(body) && body[j+1] == 'u' {
				end = j + 6
			}
			if end > i {
				i = j
			}
		}
		break
	}
	for i > 0 && i < len(body) && !utf8.RuneStart(body[i]) {
		i--
	}
	return i
}

// decodePart decodes a slice of a JSON string body cut by safeCut.
func decodePart(s string) string {
	var out string
	if json.Unmarshal([]byte(`"`+s+`"`), &out) == nil {
		return out
	}
	// A lone surrogate half at a cut: drop what does not decode.
	for len(s) > 0 {
		s = s[:len(s)-1]
		if json.Unmarshal([]byte(`"`+s+`"`), &out) == nil {
			return out
		}
	}
	return ""
}

// capBundle shrinks a MIME bundle to at most keep bytes of data. It returns
// the new data and metadata JSON and the bytes elided.
func capBundle(data, metadata gjson.Result, keep int) (json.RawMessage, json.RawMessage, int64) {
	type item struct {
		mime string
		v    gjson.Result
	}
	var items []item
	data.ForEach(func(k, v gjson.Result) bool {
		items = append(items, item{k.String(), v})
		return true
	})
	sort.SliceStable(items, func(i, j int) bool { return textual(items[i].mime) && !textual(items[j].mime) })
	out := map[string]any{}
	var notes []string
	var elided int64
	room := keep
	for _, it := range items {
		size := len(it.v.Raw)
		switch {
		case size <= room:
			out[it.mime] = json.RawMessage(it.v.Raw)
			room -= size
		case textual(it.mime) && it.v.Type == gjson.String:
			s, e := capText(it.v, room, it.mime)
			out[it.mime] = s
			elided += e
			room = max(room-len(s), 0)
		default:
			notes = append(notes, fmt.Sprintf("[%s of %d bytes elided: output limit reached]", it.mime, size))
			elided += int64(size)
		}
	}
	if len(notes) > 0 {
		note := strings.Join(notes, "\n")
		if prev, ok := out["text/plain"]; ok {
			var s string
			if r, isRaw := prev.(json.RawMessage); isRaw {
				_ = json.Unmarshal(r, &s)
			} else {
				s, _ = prev.(string)
			}
			note = s + "\n" + note
		}
		out["text/plain"] = note
	}
	d, _ := json.Marshal(out)
	md := json.RawMessage(metadata.Raw)
	if len(md) > 64<<10 {
		md = json.RawMessage("{}")
		elided += int64(len(metadata.Raw))
	}
	return d, md, elided
}

// decodedLen is the length in bytes of a JSON string body once decoded.
func decodedLen(body string) int64 {
	var n int64
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			n++
			continue
		}
		i++
		if i >= len(body) {
			break
		}
		if body[i] != 'u' || i+4 >= len(body) {
			n++
			continue
		}
		r := hex4(body[i+1 : i+5])
		i += 4
		switch {
		case r >= 0xd800 && r < 0xdc00: // high surrogate: the pair is 4 bytes
			n += 4
			if i+6 < len(body) && body[i+1] == '\\' && body[i+2] == 'u' {
				i += 6
			}
		default:
			n += int64(utf8.RuneLen(r))
		}
	}
	return n
}

func hex4(s string) rune {
	var r rune
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return utf8.RuneError
		}
	}
	return r
}
