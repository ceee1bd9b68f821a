package notebookmodel

import (
	"encoding/json"
	"hash/fnv"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestAppendStringMatchesEncodingJSON checks the fast unescape against encoding/json.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, want := range []string{"", "plain", "line\n", "tab\there \"quoted\" back\\slash /", "\r\b\f", "é ☕ 🎉", "\u2028\x01", "\\n literal", "ends with \\"} {
		enc, _ := json.Marshal(want)
		var b strings.Builder
		appendString(&b, string(enc), 0, len(enc))
		if b.String() != want {
			t.Errorf("appendString(%s) = %q, want %q", enc, b.String(), want)
		}
	}
	// Escapes encoding/json does not produce but other writers do.
	for enc, want := range map[string]string{`"a\/b"`: "a/b", `"\u00e9\n"`: "é\n", `"\ud83c\udf89"`: "🎉"} {
		var b strings.Builder
		appendString(&b, enc, 0, len(enc))
		if b.String() != want {
			t.Errorf("appendString(%s) = %q, want %q", enc, b.String(), want)
		}
	}
}

// FuzzAppendString: for every valid JSON string, the fast decoder agrees with encoding/json.
func FuzzAppendString(f *testing.F) {
	f.Add(`"a\nb"`)
	f.Add(`"\ud83c\udf89 \/ \\"`)
	f.Fuzz(func(t *testing.T, enc string) {
		var want string
		// Invalid UTF-8 is kept byte for byte (as gjson does); encoding/json would replace it.
		if !utf8.ValidString(enc) || json.Unmarshal([]byte(enc), &want) != nil || len(enc) < 2 || enc[0] != '"' {
			return
		}
		var b strings.Builder
		appendString(&b, enc, 0, len(enc))
		if b.String() != want {
			t.Fatalf("appendString(%s) = %q, want %q", enc, b.String(), want)
		}
	})
}

func TestSourceHashIsFNV1a(t *testing.T) {
	for _, s := range []string{"", "a", "print('é')\n"} {
		h := fnv.New64a()
		h.Write([]byte(s))
		if got, want := sourceHash(s), strconv.FormatUint(h.Sum64(), 16); got != want {
			t.Errorf("sourceHash(%q) = %s, want %s", s, got, want)
		}
	}
}
