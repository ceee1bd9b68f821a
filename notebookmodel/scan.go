package notebookmodel

import (
	"strings"

	"github.com/tidwall/gjson"
)

// A minimal scanner over JSON that gjson.Valid already accepted. Parsing a
// notebook with nested gjson.ForEach walks every cell's bytes once per level;
// this walks them once, which is what keeps a 5,000-cell outline fast.

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at s[i] == '"'.
func skipString(s string, i int) int {
	i++
	for {
		j := strings.IndexByte(s[i:], '"')
		if j < 0 {
			return len(s)
		}
		i += j
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for k := i - 1; k >= 0 && s[k] == '\\'; k-- {
			n++
		}
		i++
		if n%2 == 0 {
			return i
		}
	}
}

// skipValue returns the index after the value starting at s[i].
func skipValue(s string, i int) int {
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for i < len(s) {
			switch s[i] {
			case '"':
				i = skipString(s, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(s) {
		switch s[i] {
		case ',', '}', ']', ' ', '\n', '\r', '\t':
			return i
		}
		i++
	}
	return i
}

// eachField calls fn for each member of the object at s[i] == '{' with the
// value's span; false from fn stops. It returns the index after the object.
func eachField(s string, i int, fn func(key string, vs, ve int) bool) int {
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1
	}
	for i < len(s) {
		ke := skipString(s, i)
		key := s[i+1 : ke-1]
		if strings.IndexByte(key, '\\') >= 0 {
			key = gjson.Parse(s[i:ke]).Str
		}
		vs := skipWS(s, skipWS(s, ke)+1) // past ':'
		ve := skipValue(s, vs)
		if fn != nil && !fn(key, vs, ve) {
			fn = nil // keep scanning to find the end
		}
		i = skipWS(s, ve)
		if i < len(s) && s[i] == ',' {
			i = skipWS(s, i+1)
			continue
		}
		return i + 1
	}
	return i
}

// eachMember walks the object at s[i] == '{'; fn gets each key and the start
// of its value and returns the index after the value. It returns the index
// after the object.
func eachMember(s string, i int, fn func(key string, vs int) int) int {
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1
	}
	for i < len(s) {
		ke := skipString(s, i)
		key := s[i+1 : ke-1]
		if strings.IndexByte(key, '\\') >= 0 {
			key = gjson.Parse(s[i:ke]).Str
		}
		vs := skipWS(s, skipWS(s, ke)+1) // past ':'
		i = skipWS(s, fn(key, vs))
		if i < len(s) && s[i] == ',' {
			i = skipWS(s, i+1)
			continue
		}
		return i + 1
	}
	return i
}

// eachElem calls fn for each element of the array at s[i] == '['.
func eachElem(s string, i int, fn func(vs, ve int) bool) int {
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == ']' {
		return i + 1
	}
	for i < len(s) {
		ve := skipValue(s, i)
		if fn != nil && !fn(i, ve) {
			fn = nil
		}
		i = skipWS(s, ve)
		if i < len(s) && s[i] == ',' {
			i = skipWS(s, i+1)
			continue
		}
		return i + 1
	}
	return i
}

// eachObject walks the array at s[i] == '[' whose elements are handled by
// fn, which returns the index after the element it was given (so each element
// is scanned once); ok false stops. Non-objects are passed to fn too.
func eachObject(s string, i int, fn func(vs int) (ve int, ok bool)) int {
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == ']' {
		return i + 1
	}
	for i < len(s) {
		ve, ok := fn(i)
		if !ok {
			return ve
		}
		i = skipWS(s, ve)
		if i < len(s) && s[i] == ',' {
			i = skipWS(s, i+1)
			continue
		}
		return i + 1
	}
	return i
}

// resultAt is the gjson view of the value s[vs:ve], with Index set for edits.
func resultAt(s string, vs, ve int) gjson.Result {
	r := gjson.Parse(s[vs:ve])
	r.Index = vs
	return r
}

// appendString decodes the JSON string s[vs:ve] onto b. Source lines nearly
// all end in "\n": decoding the simple escapes here avoids an allocation per line.
func appendString(b *strings.Builder, s string, vs, ve int) {
	if ve-vs < 2 || s[vs] != '"' {
		return
	}
	inner := s[vs+1 : ve-1]
	if strings.IndexByte(inner, '\\') < 0 {
		b.WriteString(inner)
		return
	}
	if strings.Contains(inner, `\u`) {
		b.WriteString(gjson.Parse(s[vs:ve]).Str) // surrogate pairs and all
		return
	}
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		if c != '\\' || i+1 == len(inner) {
			b.WriteByte(c)
			continue
		}
		i++
		switch inner[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		default: // '"', '\\', '/'
			b.WriteByte(inner[i])
		}
	}
}

// stringAt decodes the JSON string s[vs:ve] (no allocation when it has no escapes).
func stringAt(s string, vs, ve int) string {
	if ve-vs >= 2 && s[vs] == '"' {
		inner := s[vs+1 : ve-1]
		if strings.IndexByte(inner, '\\') < 0 {
			return inner
		}
		return gjson.Parse(s[vs:ve]).Str
	}
	return ""
}
