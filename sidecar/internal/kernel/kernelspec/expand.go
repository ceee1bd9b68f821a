package kernelspec

import (
	"sort"
	"strings"
)

// ExpandEnv substitutes $VAR and ${VAR} in s from lookup, with the semantics
// of Python's string.Template.safe_substitute that jupyter_client applies to a
// kernelspec's env stanza: "$$" is a literal "$", and a reference to an unset
// variable (or a malformed one) is left exactly as written.
func ExpandEnv(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		next := s[i+1]
		switch {
		case next == '$':
			b.WriteByte('$')
			i += 2
		case next == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				b.WriteByte(c)
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok && isIdent(name) {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 3 + end
		case isIdentStart(next):
			j := i + 2
			for j < len(s) && isIdentPart(s[j]) {
				j++
			}
			name := s[i+1 : j]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i:j])
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }

func isIdent(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentPart(s[i]) {
			return false
		}
	}
	return true
}

// Environ merges a kernelspec's env stanza into base (KEY=VALUE entries) the
// way jupyter_client does: each value is expanded against base, then set,
// replacing any existing entry with that key.
func Environ(base []string, specEnv map[string]string) []string {
	if len(specEnv) == 0 {
		return base
	}
	vals := make(map[string]string, len(base))
	for _, kv := range base {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vals[k] = v
		}
	}
	lookup := func(k string) (string, bool) { v, ok := vals[k]; return v, ok }
	expanded := make(map[string]string, len(specEnv))
	for k, v := range specEnv {
		expanded[k] = ExpandEnv(v, lookup)
	}
	out := make([]string, 0, len(base)+len(specEnv))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, replaced := expanded[k]; replaced {
			continue
		}
		out = append(out, kv)
	}
	keys := make([]string, 0, len(expanded))
	for k := range expanded {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+expanded[k])
	}
	return out
}
