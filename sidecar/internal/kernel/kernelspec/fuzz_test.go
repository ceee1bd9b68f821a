package kernelspec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad: any kernel.json either loads into a usable spec or is reported as
// malformed; it never panics.
func FuzzLoad(f *testing.F) {
	f.Add(`{"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "P", "language": "python"}`)
	f.Add(`{"argv": ["k"], "interrupt_mode": "message", "env": {"A": "${B}"}, "metadata": {"x": [1]}}`)
	f.Add(`{"argv": [], "display_name": 3}`)
	f.Add(`{`)
	f.Fuzz(func(t *testing.T, body string) {
		dir := filepath.Join(t.TempDir(), "k")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "kernel.json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := load("k", dir)
		if err != nil {
			if _, ok := err.(*SpecError); !ok {
				t.Fatalf("error %v is not a *SpecError", err)
			}
			return
		}
		if len(s.Argv) == 0 || (s.InterruptMode != "signal" && s.InterruptMode != "message") || s.DisplayName == "" {
			t.Fatalf("loaded an unusable spec: %+v", s)
		}
	})
}

// FuzzExpandEnv: expansion never panics, and text without '$' is unchanged.
func FuzzExpandEnv(f *testing.F) {
	for _, s := range []string{"$A", "${A}", "$$", "${", "$", "a${B}c$D_1", "${ }"} {
		f.Add(s)
	}
	lookup := func(k string) (string, bool) {
		if k == "A" {
			return "<a>", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ExpandEnv(s, lookup)
		if !strings.Contains(s, "$") && got != s {
			t.Fatalf("ExpandEnv(%q) = %q, want it unchanged", s, got)
		}
	})
}
