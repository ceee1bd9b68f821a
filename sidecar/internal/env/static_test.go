package env

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDiscoverNeverRunsWorkspacePython: workspace environments (and a PATH
// python3 inside the workspace, as in an activated terminal) are described
// from their files; the planted interpreter never runs.
func TestDiscoverNeverRunsWorkspacePython(t *testing.T) {
	root := t.TempDir()
	marker := filepath.Join(t.TempDir(), "ran")
	script := "#!/bin/sh\necho ran >> " + marker + "\n"
	files := map[string]string{
		".venv/pyvenv.cfg": "home = /usr/bin\nversion_info = 3.12.1.final.0\n",
		".venv/bin/python": script,
		".venv/lib/python3.12/site-packages/ipykernel/__init__.py": "",
		"condaenv/conda-meta/python-3.10.14-h955ad1f_0.json":       "{}",
		"condaenv/bin/python":     script,
		"old/bin/python":          script, // not an env name, no marker: not a candidate
		"env/bin/python":          script, // virtualenv < 20: no pyvenv.cfg
		"env/lib/python3.9/os.py": "",
		"tools/bin/python3":       script, // on PATH below
	}
	for rel, c := range files {
		p := filepath.Join(root, rel)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(c), 0o755))
	}
	f := &Finder{HomeDir: t.TempDir(), Conda: "-", Getenv: envMap(map[string]string{"PATH": filepath.Join(root, "tools", "bin")})}
	envs, err := f.Discover(testCtx(t), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(marker); err == nil {
		t.Fatalf("Discover ran a workspace python: %s", b)
	}
	type row struct {
		Kind, Name, Version string
		IPy                 bool
	}
	var got []row
	for _, e := range envs {
		got = append(got, row{e.Kind, e.Name, e.Version, e.HasIPyKernel})
	}
	want := []row{
		{KindVenv, ".venv", "3.12.1", true},
		{KindVenv, "env", "3.9", false},
		{KindConda, "condaenv", "3.10.14", false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Discover (-want +got):\n%s", diff)
	}
}
