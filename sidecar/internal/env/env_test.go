package env

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel/kernelspec"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// fakeConda builds a conda-like prefix from testfixtures/envs/fakeconda whose
// python really has the prefix as sys.prefix and can import the test venv's
// packages (ipykernel included).
func fakeConda(t *testing.T, parent, name string) string {
	t.Helper()
	venvPy := testenv.Python(t)
	venv := filepath.Dir(filepath.Dir(venvPy))
	prefix := filepath.Join(parent, name)
	copyTree(t, filepath.Join(testenv.RepoRoot(), "testfixtures", "envs", "fakeconda"), prefix)
	if err := os.MkdirAll(filepath.Join(prefix, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	real, err := filepath.EvalSymlinks(venvPy)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.Symlink(real, filepath.Join(prefix, "bin", "python")))
	must(t, os.Symlink("python", filepath.Join(prefix, "bin", "python3")))
	must(t, os.Symlink(filepath.Join(venv, "lib"), filepath.Join(prefix, "lib")))
	cfg, err := os.ReadFile(filepath.Join(venv, "pyvenv.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(prefix, "pyvenv.cfg"), cfg, 0o644))
	return prefix
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// makeVenv creates a real venv without pip (and so without ipykernel).
func makeVenv(t *testing.T, dir string) string {
	t.Helper()
	py := testenv.Python(t)
	out, err := exec.Command(py, "-m", "venv", "--without-pip", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("python -m venv: %v\n%s", err, out)
	}
	return dir
}

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestWorkspaceCandidates(t *testing.T) {
	root := t.TempDir()
	mk := func(parts ...string) {
		p := filepath.Join(append([]string{root}, parts...)...)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte("x"), 0o755))
	}
	mk("venv", "pyvenv.cfg")
	mk("venv", "bin", "python")
	mk(".venv", "pyvenv.cfg")
	mk(".venv", "bin", "python3")
	mk("env", "bin", "python") // old virtualenv: no pyvenv.cfg, known name
	mk("tools", "pyvenv.cfg")  // any folder with pyvenv.cfg one level down
	mk("tools", "bin", "python")
	mk(".conda", "conda-meta", "history")
	mk(".conda", "bin", "python")
	mk("src", "bin", "python")        // not an env: no marker, not a known name
	mk("broken", "pyvenv.cfg")        // a venv without python: skipped
	mk("deep", "inner", "pyvenv.cfg") // two levels down: not searched
	mk("deep", "inner", "bin", "python")
	type row struct{ Kind, Name, Python string }
	var got []row
	for _, c := range workspaceCandidates(root) {
		rel, _ := filepath.Rel(root, c.python)
		got = append(got, row{c.kind, c.name, rel})
	}
	want := []row{
		{KindVenv, ".venv", ".venv/bin/python3"},
		{KindVenv, "venv", "venv/bin/python"},
		{KindVenv, "env", "env/bin/python"},
		{KindConda, ".conda", ".conda/bin/python"},
		{KindVenv, "tools", "tools/bin/python"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workspace candidates (-want +got):\n%s", diff)
	}
}

func TestCondaCandidates(t *testing.T) {
	home := t.TempDir()
	mk := func(prefix string) string {
		must(t, os.MkdirAll(filepath.Join(prefix, "conda-meta"), 0o755))
		must(t, os.MkdirAll(filepath.Join(prefix, "bin"), 0o755))
		must(t, os.WriteFile(filepath.Join(prefix, "bin", "python"), []byte("x"), 0o755))
		return prefix
	}
	base := mk(filepath.Join(home, "miniconda3"))
	must(t, os.MkdirAll(filepath.Join(base, "condabin"), 0o755))
	ds := mk(filepath.Join(home, "miniconda3", "envs", "ds"))
	elsewhere := mk(filepath.Join(home, "projects", "envs", "listed"))
	active := mk(filepath.Join(home, "active"))
	fromConda := mk(filepath.Join(home, "from-conda-list"))
	noPython := filepath.Join(home, "anaconda3", "envs", "r-only")
	must(t, os.MkdirAll(filepath.Join(noPython, "conda-meta"), 0o755))
	must(t, os.MkdirAll(filepath.Join(home, ".conda"), 0o755))
	must(t, os.WriteFile(filepath.Join(home, ".conda", "environments.txt"), []byte(elsewhere+"\n"+noPython+"\n/does/not/exist\n"), 0o644))

	t.Setenv("MCPJ_FAKE_CONDA_ENVS", fromConda+"\n"+ds)
	f := &Finder{HomeDir: home, Getenv: envMap(map[string]string{"CONDA_PREFIX": active}),
		Conda: filepath.Join(testenv.RepoRoot(), "testfixtures", "envs", "fake-conda")}
	type row struct{ Name, Prefix string }
	var got []row
	for _, c := range f.condaCandidates(testCtx(t)) {
		if c.kind != KindConda {
			t.Errorf("%s: kind %q", c.prefix, c.kind)
		}
		if !strings.HasPrefix(c.prefix, home) {
			continue // a real /opt/conda on this machine
		}
		got = append(got, row{c.name, c.prefix})
	}
	want := []row{
		{"from-conda-list", fromConda}, {"ds", ds}, // conda env list first
		{"active", active},
		{"listed", elsewhere},
		{"base", base}, {"ds", ds},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("conda candidates (-want +got):\n%s", diff)
	}
}

func TestResolveRealVenv(t *testing.T) {
	py := testenv.Python(t)
	venv := filepath.Dir(filepath.Dir(py))
	for _, path := range []string{venv, py} {
		e, err := Resolve(testCtx(t), path)
		if err != nil {
			t.Fatalf("Resolve(%s): %v", path, err)
		}
		want := Environment{Kind: KindVenv, Name: filepath.Base(venv), Prefix: venv, Python: py, HasIPyKernel: true}
		want.Version = e.Version
		if diff := cmp.Diff(want, e); diff != "" {
			t.Errorf("Resolve(%s) (-want +got):\n%s", path, diff)
		}
		if !strings.HasPrefix(e.Version, "3.") {
			t.Errorf("version %q, want 3.x", e.Version)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Resolve(testCtx(t), dir); !errors.Is(err, ErrNotEnvironment) {
		t.Errorf("empty dir: err %v, want ErrNotEnvironment", err)
	}
	if _, err := Resolve(testCtx(t), filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: err %v, want not exist", err)
	}
	// A "python" that is not Python: the probe fails with a readable error, not a hang.
	fake := filepath.Join(dir, "bin", "python")
	must(t, os.MkdirAll(filepath.Dir(fake), 0o755))
	must(t, os.WriteFile(fake, []byte("#!/bin/sh\necho nope >&2\nexit 3\n"), 0o755))
	if _, err := Resolve(testCtx(t), fake); !errors.Is(err, ErrProbe) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("fake python: err %v, want ErrProbe with its stderr", err)
	}
	// One that hangs: bounded by the probe timeout.
	must(t, os.WriteFile(fake, []byte("#!/bin/sh\nexec sleep 60\n"), 0o755))
	f := &Finder{ProbeTimeout: 300 * time.Millisecond}
	start := time.Now()
	if _, err := f.Resolve(testCtx(t), fake); !errors.Is(err, ErrProbe) {
		t.Errorf("hanging python: err %v, want ErrProbe", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("hanging probe took %s", d)
	}
}

func TestMissingIPyKernel(t *testing.T) {
	venv := makeVenv(t, filepath.Join(t.TempDir(), "bare env"))
	e, err := Resolve(testCtx(t), venv)
	if err != nil {
		t.Fatal(err)
	}
	if e.HasIPyKernel || e.Kind != KindVenv {
		t.Fatalf("Resolve = %+v, want a venv without ipykernel", e)
	}
	_, err = e.LaunchSpec(testCtx(t), venv)
	if !errors.Is(err, ErrNoIPyKernel) {
		t.Fatalf("LaunchSpec err = %v, want ErrNoIPyKernel", err)
	}
	cmd := "'" + filepath.Join(venv, "bin", "python") + "' -m pip install ipykernel"
	want := `venv environment "bare env" at ` + venv + " has no ipykernel: install it with `" + cmd + "`"
	if err.Error() != want {
		t.Errorf("message:\n got %s\nwant %s", err, want)
	}
}

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	makeVenv(t, filepath.Join(root, ".venv"))
	home := t.TempDir()
	conda := fakeConda(t, filepath.Join(home, "miniconda3", "envs"), "fixture")
	sysPy := testenv.Python(t) // stands in for the system python3 found on PATH
	f := &Finder{HomeDir: home, Conda: "-", Getenv: envMap(map[string]string{"PATH": filepath.Dir(sysPy)})}
	envs, err := f.Discover(testCtx(t), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Kind, Name, Prefix string
		IPy                bool
	}
	var got []row
	for _, e := range envs {
		got = append(got, row{e.Kind, e.Name, e.Prefix, e.HasIPyKernel})
	}
	want := []row{
		{KindVenv, ".venv", filepath.Join(root, ".venv"), false},
		{KindConda, "fixture", conda, true},
		{KindVenv, filepath.Base(testenv.VenvDir()), testenv.VenvDir(), true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Discover (-want +got):\n%s", diff)
	}
}

func TestCaptureActivation(t *testing.T) {
	prefix := fakeConda(t, t.TempDir(), "capture")
	f := &Finder{}
	base := []string{"PATH=/usr/bin:/bin", "LD_LIBRARY_PATH=/opt/lib", "PYTHONHOME=/bad", "VIRTUAL_ENV=/other", "KEEP=me"}
	got, err := f.CaptureActivation(testCtx(t), prefix, base)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"CONDA_PREFIX":      prefix,
		"CONDA_DEFAULT_ENV": "capture",
		"PATH":              filepath.Join(prefix, "bin") + ":/usr/bin:/bin",
		"LD_LIBRARY_PATH":   filepath.Join(prefix, "lib") + ":/opt/lib",
		"MCPJ_ACTIVATED":    "yes:" + prefix,
		"MCPJ_STATE_VAR":    "from conda-meta/state",
		"KEEP":              "me",
		"PYTHONHOME":        "",
		"VIRTUAL_ENV":       "",
	}
	for k, v := range want {
		if g := getKey(got, k); g != v {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
	for _, kv := range got {
		if strings.Contains(kv, "chatter") {
			t.Errorf("script stdout leaked into the environment: %q", kv)
		}
	}

	// A failing activation script is an error naming the prefix, not a half environment.
	bad := filepath.Join(prefix, "etc", "conda", "activate.d", "zz-fail.sh")
	must(t, os.WriteFile(bad, []byte("echo activation exploded >&2\nexit 7\n"), 0o644))
	if _, err := f.CaptureActivation(testCtx(t), prefix, base); err == nil || !strings.Contains(err.Error(), "activation exploded") {
		t.Errorf("failing script: err %v, want it to carry the script's message", err)
	}
}

func TestLaunchSpecShapes(t *testing.T) {
	t.Setenv("PYTHONHOME", "/should/go")
	t.Setenv("PATH", "/usr/bin:/bin")
	venv := Environment{Kind: KindVenv, Name: "v", Prefix: "/w/.venv", Python: "/w/.venv/bin/python", Version: "3.12.1", HasIPyKernel: true}
	ls, err := venv.LaunchSpec(testCtx(t), "/w/nb")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/w/.venv/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"}, ls.Argv); diff != "" {
		t.Errorf("venv argv (-want +got):\n%s", diff)
	}
	if getKey(ls.Env, "VIRTUAL_ENV") != "/w/.venv" || getKey(ls.Env, "PATH") != "/w/.venv/bin:/usr/bin:/bin" || hasKey(ls.Env, "PYTHONHOME") {
		t.Errorf("venv env: VIRTUAL_ENV=%q PATH=%q PYTHONHOME present=%v", getKey(ls.Env, "VIRTUAL_ENV"), getKey(ls.Env, "PATH"), hasKey(ls.Env, "PYTHONHOME"))
	}
	if ls.Dir != "/w/nb" || ls.InterruptMode != "signal" || ls.Language != "python" || ls.DisplayName != "Python 3.12.1 (venv: v)" {
		t.Errorf("venv spec = %+v", ls)
	}

	sys := Environment{Kind: KindSystem, Name: "system", Prefix: "/usr", Python: "/usr/bin/python3", HasIPyKernel: true}
	ls, err = sys.LaunchSpec(testCtx(t), "/w")
	if err != nil {
		t.Fatal(err)
	}
	if ls.Argv[0] != "/usr/bin/python3" || ls.Env != nil {
		t.Errorf("system spec = %+v, want the python as is and an inherited env", ls)
	}

	conda := Environment{Kind: KindConda, Name: "ds", Prefix: "/c/envs/ds", Python: "/c/envs/ds/bin/python", HasIPyKernel: true, Conda: "/c/bin/conda"}
	ls, err = conda.LaunchSpec(testCtx(t), "/w")
	if err != nil {
		t.Fatal(err)
	}
	wantArgv := []string{"/c/bin/conda", "run", "-p", "/c/envs/ds", "--no-capture-output", "python", "-m", "ipykernel_launcher", "-f", "{connection_file}"}
	if diff := cmp.Diff(wantArgv, ls.Argv); diff != "" {
		t.Errorf("conda run argv (-want +got):\n%s", diff)
	}
	if ls.InterruptMode != "message" {
		t.Errorf("conda run interrupt mode %q, want message", ls.InterruptMode)
	}
}

func hasKey(environ []string, key string) bool {
	for _, kv := range environ {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

func TestKernelspecLaunch(t *testing.T) {
	t.Setenv("PATH", "/usr/bin")
	spec := kernelspec.Spec{Name: "k", DisplayName: "K", Language: "python", ResourceDir: "/r",
		Argv: []string{"python", "-f", "{connection_file}"}, Env: map[string]string{"X": "${PATH}:x"}}
	ls := KernelspecLaunch(spec, "/nb")
	if getKey(ls.Env, "X") != "/usr/bin:x" || ls.InterruptMode != "signal" || ls.ResourceDir != "/r" || ls.Dir != "/nb" {
		t.Errorf("KernelspecLaunch = %+v", ls)
	}
	spec.Env = nil
	if ls := KernelspecLaunch(spec, "/nb"); ls.Env != nil {
		t.Errorf("no spec env: Env = %v, want nil (inherit)", ls.Env)
	}
}

// A python found on PATH that is a launcher shim (pyenv-style) resolves to the
// interpreter it really runs, classified as the system Python.
func TestResolveSystemShim(t *testing.T) {
	py := testenv.Python(t)
	base := strings.TrimSpace(string(runOut(t, py, "-c", "import sys; print(sys._base_executable)")))
	shim := filepath.Join(t.TempDir(), "python3")
	must(t, os.WriteFile(shim, []byte("#!/bin/sh\nexec '"+base+"' \"$@\"\n"), 0o755))
	e, err := Resolve(testCtx(t), shim)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != KindSystem || e.Name != "system" || e.Python == shim || !filepath.IsAbs(e.Python) {
		t.Errorf("Resolve(shim) = %+v, want a system env pinned to the real interpreter", e)
	}
}

func runOut(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out
}
