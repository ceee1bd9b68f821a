package notebookmodel

import (
	"errors"
	"strings"
	"testing"
)

// 20 million '[' overflowed the stack of the JSON validator: a fatal error
// that kills the process (no recover). Now refused before parsing.
func TestDeepNestingIsRefusedBeforeParsing(t *testing.T) {
	for name, doc := range map[string]string{
		"20M [":              strings.Repeat("[", 20_000_000),
		"20M { in metadata":  `{"cells": [], "metadata": {"a": ` + strings.Repeat(`{"a":`, 2_000_000) + `1` + strings.Repeat("}", 2_000_000) + `}, "nbformat": 4, "nbformat_minor": 5}`,
		"just over":          `{"metadata": ` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`,
		"brackets after str": `{"a": "\"[[[\\", "b": ` + strings.Repeat("[", MaxDepth+1) + `}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(doc))
			if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "levels deep") {
				t.Fatalf("err = %v, want ErrLimit naming the depth", err)
			}
		})
	}
}

func TestNestingWithinTheLimitParses(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth-2) + strings.Repeat("]", MaxDepth-2)
	// Brackets inside strings (with escapes) do not count.
	str := `"` + strings.Repeat(`[\"{`, 50000) + `"`
	doc := `{"cells": [{"cell_type": "code", "id": "a", "metadata": {}, "source": ` + str + `, "outputs": [], "execution_count": null}], "metadata": {"x": ` + deep + `}, "nbformat": 4, "nbformat_minor": 5}`
	nb, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("a notebook nesting %d levels: %v", MaxDepth, err)
	}
	if len(nb.Cells()) != 1 {
		t.Fatalf("cells = %d", len(nb.Cells()))
	}
}

func TestOversizedDocumentIsRefused(t *testing.T) {
	err := CheckLimits(strings.Repeat(" ", MaxBytes+1))
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "bytes") {
		t.Fatalf("err = %v, want ErrLimit naming the size", err)
	}
}
