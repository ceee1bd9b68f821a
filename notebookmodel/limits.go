package notebookmodel

import (
	"errors"
	"fmt"
	"strings"
)

// Limits checked before any JSON parsing: the validators and scanners that
// follow recurse once per nesting level, and a Go stack overflow is a fatal
// error that no recover() catches, so a file of 20 million '[' would take the
// whole sidecar down. Real notebooks nest a few dozen levels (Jupyter's own
// reader, Python's json module, gives up near 1,000).
const (
	// MaxDepth is the deepest nesting of arrays and objects accepted.
	MaxDepth = 10000
	// MaxBytes is the largest notebook document accepted.
	MaxBytes = 512 << 20
)

// ErrLimit is wrapped by the error for a document over MaxDepth or MaxBytes.
var ErrLimit = errors.New("notebook over a safety limit")

// CheckLimits reports, without recursion and in one pass, whether doc is
// larger than MaxBytes or nests arrays/objects deeper than MaxDepth. It does
// not validate the JSON (the parser does, once this passed).
func CheckLimits(doc string) error {
	if len(doc) > MaxBytes {
		return fmt.Errorf("%w: the document is %d bytes, the limit is %d", ErrLimit, len(doc), MaxBytes)
	}
	depth := 0
	for i := 0; i < len(doc); i++ {
		switch doc[i] {
		case '"':
			// Jump to the closing quote: skip escaped characters.
			for {
				j := strings.IndexAny(doc[i+1:], `"\`)
				if j < 0 {
					return nil // unterminated string: the parser reports it
				}
				i += 1 + j
				if doc[i] == '"' {
					break
				}
				i++ // the escaped character
			}
		case '[', '{':
			depth++
			if depth > MaxDepth {
				return fmt.Errorf("%w: arrays and objects nest more than %d levels deep (at byte %d); a notebook never does, this file is damaged or hostile", ErrLimit, MaxDepth, i)
			}
		case ']', '}':
			depth--
		}
	}
	return nil
}
