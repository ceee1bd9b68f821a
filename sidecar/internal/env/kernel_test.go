package env

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel/kernelspec"
)

// probeCode prints what the kernel's process sees, as JSON on stdout.
const probeCode = `import json, os, sys
print(json.dumps({"prefix": sys.prefix, "executable": sys.executable, "cwd": os.getcwd(),
  "env": {k: os.environ.get(k) for k in ["VIRTUAL_ENV", "CONDA_PREFIX", "MCPJ_ACTIVATED", "MCPJ_STATE_VAR",
  "LD_LIBRARY_PATH", "PYTHONHOME", "MCPJ_FIXTURE", "MCPJ_PATH_COPY", "MCPJ_UNSET"]},
  "path0": os.environ.get("PATH", "").split(os.pathsep)[0]}))`

type seen struct {
	Prefix     string             `json:"prefix"`
	Executable string             `json:"executable"`
	Cwd        string             `json:"cwd"`
	Env        map[string]*string `json:"env"`
	Path0      string             `json:"path0"`
}

// runProbe starts a kernel from spec, runs probeCode, then each extra check,
// and shuts it down.
func runProbe(t *testing.T, spec kernel.LaunchSpec, extra ...func(*testing.T, *kernel.Local)) seen {
	t.Helper()
	ctx := testCtx(t)
	k, err := kernel.Start(ctx, spec, kernel.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatalf("start kernel %v: %v", spec.Argv, err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 60e9)
		defer cancel()
		if err := k.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	var stdout strings.Builder
	reply, err := k.Execute(ctx, kernel.ExecuteRequest{Code: probeCode}, kernel.Handlers{OnIOPub: func(m kernel.Message) {
		if m.Header.MsgType != "stream" {
			return
		}
		var c struct{ Name, Text string }
		if json.Unmarshal(m.Content, &c) == nil && c.Name == "stdout" {
			stdout.WriteString(c.Text)
		}
	}})
	if err != nil || reply.Status != "ok" {
		t.Fatalf("execute: %v %+v", err, reply)
	}
	var s seen
	if err := json.Unmarshal([]byte(stdout.String()), &s); err != nil {
		t.Fatalf("decode kernel output %q: %v", stdout.String(), err)
	}
	for _, check := range extra {
		check(t, k)
	}
	return s
}

// checkInterrupt: the launch's interrupt mode really stops running code (for
// `conda run`, SIGINT would hit conda; the message mode must reach ipykernel).
func checkInterrupt(t *testing.T, k *kernel.Local) {
	ctx := testCtx(t)
	// The loop announces itself on stdout once it runs, so the interrupt cannot
	// land before the code started (ipykernel would swallow it).
	running := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	var reply *kernel.ExecuteReply
	go func() {
		var err error
		reply, err = k.Execute(ctx, kernel.ExecuteRequest{Code: "import sys\nprint('spinning', flush=True)\nwhile True:\n    pass"},
			kernel.Handlers{OnIOPub: func(m kernel.Message) {
				if m.Header.MsgType == "stream" {
					once.Do(func() { close(running) })
				}
			}})
		done <- err
	}()
	select {
	case <-running:
	case err := <-done:
		t.Fatalf("spin ended early: %v", err)
	}
	if err := k.Interrupt(ctx); err != nil {
		t.Fatalf("interrupt: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("execute after interrupt: %v", err)
	}
	if reply.Ename != "KeyboardInterrupt" {
		t.Errorf("after interrupt: reply %+v, want KeyboardInterrupt", reply)
	}
}

func str(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return *s
}

func TestKernelInVenv(t *testing.T) {
	py := testenv.Python(t)
	venv := filepath.Dir(filepath.Dir(py))
	t.Setenv("PYTHONHOME", "/nonexistent/must/be/unset")
	e, err := Resolve(testCtx(t), venv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	spec, err := e.LaunchSpec(testCtx(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	s := runProbe(t, spec)
	got := map[string]string{"prefix": s.Prefix, "VIRTUAL_ENV": str(s.Env["VIRTUAL_ENV"]), "PYTHONHOME": str(s.Env["PYTHONHOME"]), "path0": s.Path0, "cwd": s.Cwd}
	want := map[string]string{"prefix": venv, "VIRTUAL_ENV": venv, "PYTHONHOME": "<unset>", "path0": filepath.Join(venv, "bin"), "cwd": realpath(dir)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("kernel in venv sees (-want +got):\n%s", diff)
	}
}

func TestKernelInCondaCapturedActivation(t *testing.T) {
	home := t.TempDir()
	prefix := fakeConda(t, filepath.Join(home, "miniconda3", "envs"), "fixture")
	t.Setenv("LD_LIBRARY_PATH", "/opt/keep")
	f := &Finder{HomeDir: home, Conda: "-"}
	e, err := f.Resolve(testCtx(t), prefix)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != KindConda || e.Conda != "" || !e.HasIPyKernel {
		t.Fatalf("Resolve = %+v, want a conda env with ipykernel and no conda executable", e)
	}
	spec, err := f.LaunchSpec(testCtx(t), e, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := runProbe(t, spec)
	got := map[string]string{"prefix": s.Prefix, "CONDA_PREFIX": str(s.Env["CONDA_PREFIX"]), "MCPJ_ACTIVATED": str(s.Env["MCPJ_ACTIVATED"]),
		"MCPJ_STATE_VAR": str(s.Env["MCPJ_STATE_VAR"]), "LD_LIBRARY_PATH": str(s.Env["LD_LIBRARY_PATH"]), "path0": s.Path0}
	want := map[string]string{"prefix": prefix, "CONDA_PREFIX": prefix, "MCPJ_ACTIVATED": "yes:" + prefix,
		"MCPJ_STATE_VAR": "from conda-meta/state", "LD_LIBRARY_PATH": filepath.Join(prefix, "lib") + ":/opt/keep", "path0": filepath.Join(prefix, "bin")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("kernel in captured conda activation sees (-want +got):\n%s", diff)
	}
}

func TestKernelInCondaRun(t *testing.T) {
	home := t.TempDir()
	prefix := fakeConda(t, filepath.Join(home, "miniconda3", "envs"), "runenv")
	logPath := filepath.Join(t.TempDir(), "conda-argv.log")
	t.Setenv("MCPJ_FAKE_CONDA_LOG", logPath)
	fake := filepath.Join(testenv.RepoRoot(), "testfixtures", "envs", "fake-conda")
	f := &Finder{HomeDir: home, Conda: fake}
	e, err := f.Resolve(testCtx(t), prefix)
	if err != nil {
		t.Fatal(err)
	}
	if e.Conda != fake {
		t.Fatalf("Resolve = %+v, want Conda %s", e, fake)
	}
	spec, err := f.LaunchSpec(testCtx(t), e, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := runProbe(t, spec, checkInterrupt)
	if s.Prefix != prefix || str(s.Env["CONDA_PREFIX"]) != prefix || str(s.Env["MCPJ_ACTIVATED"]) != "yes:"+prefix {
		t.Errorf("kernel under conda run: prefix %q CONDA_PREFIX %q MCPJ_ACTIVATED %q, want %s", s.Prefix, str(s.Env["CONDA_PREFIX"]), str(s.Env["MCPJ_ACTIVATED"]), prefix)
	}
	logged, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	argv := strings.Split(strings.TrimSuffix(string(logged), "\n--\n"), "\n")
	if len(argv) < 9 {
		t.Fatalf("conda argv %q", argv)
	}
	// The connection file path is ours to choose; everything else is fixed.
	argv[len(argv)-1] = "{connection_file}"
	want := []string{"run", "-p", prefix, "--no-capture-output", "python", "-m", "ipykernel_launcher", "-f", "{connection_file}"}
	if diff := cmp.Diff(want, argv); diff != "" {
		t.Errorf("conda argv (-want +got):\n%s", diff)
	}
}

func TestKernelFromKernelspec(t *testing.T) {
	py := testenv.Python(t)
	t.Setenv("PATH", filepath.Dir(py)+string(os.PathListSeparator)+os.Getenv("PATH"))
	data := filepath.Join(testenv.RepoRoot(), "testfixtures", "kernelspecs")
	ks, err := kernelspec.Find("MessageKernel", kernelspec.SearchOptions{Getenv: func(k string) string {
		if k == "JUPYTER_PATH" {
			return data
		}
		return ""
	}, HomeDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	spec := KernelspecLaunch(ks, t.TempDir())
	if spec.InterruptMode != "message" {
		t.Errorf("interrupt mode %q, want message", spec.InterruptMode)
	}
	s := runProbe(t, spec)
	got := map[string]string{"MCPJ_FIXTURE": str(s.Env["MCPJ_FIXTURE"]), "MCPJ_PATH_COPY": str(s.Env["MCPJ_PATH_COPY"]), "MCPJ_UNSET": str(s.Env["MCPJ_UNSET"])}
	want := map[string]string{"MCPJ_FIXTURE": "from-kernelspec", "MCPJ_PATH_COPY": os.Getenv("PATH"), "MCPJ_UNSET": "${MCPJ_DEFINITELY_UNSET}-kept"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("kernel from kernelspec sees (-want +got):\n%s", diff)
	}
}

// A kernelspec run inside a conda env gets the env's activation and its own
// env stanza, and its bare "python" becomes the env's interpreter.
func TestKernelspecInConda(t *testing.T) {
	home := t.TempDir()
	prefix := fakeConda(t, filepath.Join(home, "miniconda3", "envs"), "withspec")
	f := &Finder{HomeDir: home, Conda: "-"}
	e, err := f.Resolve(testCtx(t), prefix)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(testenv.RepoRoot(), "testfixtures", "kernelspecs")
	ks, err := kernelspec.Find("messagekernel", kernelspec.SearchOptions{Getenv: func(k string) string {
		if k == "JUPYTER_PATH" {
			return data
		}
		return ""
	}, HomeDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// PATH must not be where "python" comes from.
	t.Setenv("PATH", "/usr/bin:/bin")
	spec, err := f.KernelspecLaunchIn(testCtx(t), e, ks, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if spec.Argv[0] != e.Python || spec.InterruptMode != "message" {
		t.Errorf("spec argv[0] %q mode %q, want %q and message", spec.Argv[0], spec.InterruptMode, e.Python)
	}
	s := runProbe(t, spec)
	got := map[string]string{"prefix": s.Prefix, "MCPJ_ACTIVATED": str(s.Env["MCPJ_ACTIVATED"]), "MCPJ_FIXTURE": str(s.Env["MCPJ_FIXTURE"]),
		"MCPJ_PATH_COPY": str(s.Env["MCPJ_PATH_COPY"])}
	want := map[string]string{"prefix": prefix, "MCPJ_ACTIVATED": "yes:" + prefix, "MCPJ_FIXTURE": "from-kernelspec",
		"MCPJ_PATH_COPY": filepath.Join(prefix, "bin") + ":/usr/bin:/bin"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("kernelspec in conda env sees (-want +got):\n%s", diff)
	}
}
