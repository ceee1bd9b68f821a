package workspace_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/workspace"
)

func TestResolve(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ws := filepath.Join(base, "ws")
	evil := filepath.Join(base, "ws-evil")
	for _, d := range []string{ws, evil, filepath.Join(ws, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(ws, "a.ipynb"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A symlink inside the workspace that points out of it, and one that stays inside.
	if err := os.Symlink(evil, filepath.Join(ws, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(ws, "sub"), filepath.Join(ws, "in")); err != nil {
		t.Fatal(err)
	}
	roots, err := workspace.New(ws)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want string
		outside        bool
	}{
		{name: "relative", in: "a.ipynb", want: filepath.Join(ws, "a.ipynb")},
		{name: "absolute", in: filepath.Join(ws, "a.ipynb"), want: filepath.Join(ws, "a.ipynb")},
		{name: "new file in subfolder", in: "sub/new.ipynb", want: filepath.Join(ws, "sub", "new.ipynb")},
		{name: "new file below missing folder", in: "x/y/new.ipynb", want: filepath.Join(ws, "x", "y", "new.ipynb")},
		{name: "dotdot inside", in: "sub/../a.ipynb", want: filepath.Join(ws, "a.ipynb")},
		{name: "root itself", in: ws, want: ws},
		{name: "symlink staying inside", in: "in/n.ipynb", want: filepath.Join(ws, "sub", "n.ipynb")},
		{name: "dotdot escape", in: "../ws-evil/a.ipynb", outside: true},
		{name: "prefix trick", in: filepath.Join(evil, "a.ipynb"), outside: true},
		{name: "symlink escape", in: "out/a.ipynb", outside: true},
		{name: "symlink escape to new file", in: "out/new/b.ipynb", outside: true},
		{name: "etc", in: "/etc/passwd", outside: true},
		{name: "parent of root", in: base, outside: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := roots.Resolve(tc.in)
			if tc.outside {
				if !errors.Is(err, workspace.ErrOutside) {
					t.Fatalf("Resolve(%q) = %q, %v; want ErrOutside", tc.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("Resolve(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	empty, _ := workspace.New()
	if _, err := empty.Resolve("a.ipynb"); !errors.Is(err, workspace.ErrNoRoots) {
		t.Errorf("no roots: got %v, want ErrNoRoots", err)
	}
	roots, err := workspace.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"", "  ", "a\x00b"} {
		if _, err := roots.Resolve(in); err == nil {
			t.Errorf("Resolve(%q): want an error", in)
		}
	}
	if _, err := workspace.New(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("New(missing root): want an error")
	}
}
