package tools_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

// isolateJupyter points every Jupyter search dir the test does not create at
// empty temp dirs, so the machine's own kernelspecs do not leak in.
func isolateJupyter(t *testing.T) (userData, jupyterPath string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	userData = filepath.Join(home, "data")
	jupyterPath = filepath.Join(home, "jpath")
	t.Setenv("JUPYTER_DATA_DIR", userData)
	t.Setenv("JUPYTER_PATH", jupyterPath)
	t.Setenv("PYTHONUSERBASE", filepath.Join(home, "userbase"))
	t.Setenv("CONDA_PREFIX", "")
	t.Setenv("CONDA_EXE", "")
	return userData, jupyterPath
}

func writeSpec(t *testing.T, kernelsDir, name string, spec map[string]any) string {
	t.Helper()
	dir := filepath.Join(kernelsDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(spec)
	if err := os.WriteFile(filepath.Join(dir, "kernel.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fakeVenv lays out a workspace venv from files only (discovery of workspace
// environments never runs their python).
func fakeVenv(t *testing.T, prefix string) {
	t.Helper()
	for _, d := range []string{"bin", "lib/python3.11/site-packages/ipykernel", "share/jupyter/kernels"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(prefix, "pyvenv.cfg"), []byte("home = /usr/bin\nversion = 3.11.7\n"), 0o644)
	os.WriteFile(filepath.Join(prefix, "bin", "python"), []byte("#!/bin/sh\nexit 99\n"), 0o755)
}

// Kernelspecs are found where `jupyter kernelspec list` finds them: JUPYTER_PATH,
// the user data dir, the workspace environment's sys.prefix/share/jupyter, the
// system dirs; a name in several places resolves to the first.
func TestListEnvironmentsFindsKernelspecsLikeJupyter(t *testing.T) {
	userData, jpath := isolateJupyter(t)
	reg, c, ws := setup(t)
	venv := filepath.Join(ws, ".venv")
	fakeVenv(t, venv)
	venvKernels := filepath.Join(venv, "share", "jupyter", "kernels")
	bashDir := writeSpec(t, venvKernels, "bash", map[string]any{"argv": []string{filepath.Join(venv, "bin", "python"), "-m", "bash_kernel", "-f", "{connection_file}"}, "display_name": "Bash", "language": "bash"})
	pyDir := writeSpec(t, venvKernels, "python3", map[string]any{"argv": []string{"python", "-m", "ipykernel_launcher", "-f", "{connection_file}"}, "display_name": "Python 3 (ipykernel)", "language": "python"})
	writeSpec(t, venvKernels, "dup", map[string]any{"argv": []string{"x"}, "display_name": "dup (venv)", "language": "x"})
	userDir := writeSpec(t, filepath.Join(userData, "kernels"), "dup", map[string]any{"argv": []string{"x"}, "display_name": "dup (user)", "language": "x"})
	jpDir := writeSpec(t, filepath.Join(jpath, "kernels"), "jp", map[string]any{"argv": []string{"deno", "jupyter", "--kernel", "--conn", "{connection_file}"}, "display_name": "Deno", "language": "typescript"})

	out := invoke[tools.EnvironmentsOut](t, reg, c, "list_environments", map[string]any{})
	got := map[string]tools.EnvironmentOut{}
	for _, e := range out.Environments {
		if e.Kind == "kernelspec" {
			got[e.KernelName] = e
		}
	}
	want := map[string]struct {
		dir, lang, env string
		ipy            bool
	}{
		"bash":    {bashDir, "bash", venv, false},
		"python3": {pyDir, "python", venv, true},
		"dup":     {userDir, "x", "", false}, // the user dir comes before the environment's
		"jp":      {jpDir, "typescript", "", false},
	}
	for name, w := range want {
		e, ok := got[name]
		if !ok {
			t.Errorf("kernelspec %q not listed (got %v)", name, keys(got))
			continue
		}
		if e.ResourceDir != w.dir || e.Language != w.lang || e.Path != w.env || e.HasIPyKernel != w.ipy {
			t.Errorf("kernelspec %q = {resource_dir %q language %q path %q has_ipykernel %v}, want {%q %q %q %v}",
				name, e.ResourceDir, e.Language, e.Path, e.HasIPyKernel, w.dir, w.lang, w.env, w.ipy)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// start_kernel(kernel_name=…) finds a kernelspec installed into the workspace
// environment (--sys-prefix), which Jupyter run from that environment lists.
func TestStartKernelByNameFindsWorkspaceEnvSpec(t *testing.T) {
	py := testenv.Python(t)
	isolateJupyter(t)
	reg, c, ws := setup(t)
	venv := filepath.Join(ws, ".venv")
	fakeVenv(t, venv)
	writeSpec(t, filepath.Join(venv, "share", "jupyter", "kernels"), "venvonly", map[string]any{"argv": []string{py, "-m", "ipykernel_launcher", "-f", "{connection_file}"}, "display_name": "Venv only", "language": "python"})
	out := invoke[tools.KernelOut](t, reg, c, "start_kernel", map[string]any{"notebook_path": "nb.ipynb", "kernel_name": "venvonly", "timeout_s": 120})
	if out.Name != "venvonly" || out.Status == "dead" {
		t.Fatalf("start_kernel = %+v, want the venvonly kernelspec running", out)
	}
	invoke[tools.StatusOut](t, reg, c, "stop_kernel", map[string]any{"notebook_path": "nb.ipynb"})
}

// writeNotebook writes an empty notebook whose metadata names kernelspec name.
func writeNotebook(t *testing.T, path, name, language string) {
	t.Helper()
	nb := map[string]any{
		"cells": []any{}, "nbformat": 4, "nbformat_minor": 5,
		"metadata": map[string]any{
			"kernelspec":    map[string]any{"name": name, "display_name": name, "language": language},
			"language_info": map[string]any{"name": language},
		},
	}
	b, _ := json.MarshalIndent(nb, "", " ")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// start_kernel with neither kernel_name nor venv_path starts the kernelspec
// the notebook's metadata names, not the workspace's ipykernel.
func TestStartKernelHonoursNotebookKernelspec(t *testing.T) {
	py := testenv.Python(t)
	isolateJupyter(t)
	reg, c, ws := setup(t)
	venv := filepath.Join(ws, ".venv")
	fakeVenv(t, venv) // its python exits 99: choosing the environment instead of the spec fails
	writeSpec(t, filepath.Join(venv, "share", "jupyter", "kernels"), "custom", map[string]any{"argv": []string{py, "-m", "ipykernel_launcher", "-f", "{connection_file}"}, "display_name": "Custom", "language": "python"})
	writeNotebook(t, filepath.Join(ws, "custom.ipynb"), "custom", "python")
	out := invoke[tools.KernelOut](t, reg, c, "start_kernel", map[string]any{"notebook_path": "custom.ipynb", "timeout_s": 120})
	if out.Name != "custom" {
		t.Fatalf("start_kernel = %+v, want the notebook's kernelspec \"custom\"", out)
	}
	invoke[tools.StatusOut](t, reg, c, "stop_kernel", map[string]any{"notebook_path": "custom.ipynb"})
}

// A notebook whose kernelspec is not installed (and is not a Python notebook
// the workspace environment could run) is a clear error naming the kernelspec,
// where it was looked for and how to install it; nothing else is started.
func TestStartKernelMissingNotebookKernelspec(t *testing.T) {
	userData, _ := isolateJupyter(t)
	reg, c, ws := setup(t)
	writeNotebook(t, filepath.Join(ws, "r.ipynb"), "ir", "R")
	b, _ := json.Marshal(map[string]any{"notebook_path": "r.ipynb", "timeout_s": 60})
	_, err := reg.Invoke(t.Context(), c, "start_kernel", b)
	if err == nil {
		c.Core.Sessions.Stop(t.Context(), filepath.Join(ws, "r.ipynb"))
		t.Fatal("start_kernel on an R notebook without the ir kernelspec started a kernel")
	}
	for _, want := range []string{`"ir"`, "metadata.kernelspec", filepath.Join(userData, "kernels"), "IRkernel", "kernel_name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// The python3 kernelspec a pip-installed ipykernel ships (argv "python -m
// ipykernel_launcher …") runs the Python of the environment holding it, as
// jupyter_client does with its own sys.executable, never a python on PATH.
func TestPipInstalledPythonSpecRunsItsEnvironmentsPython(t *testing.T) {
	testenv.Python(t)
	isolateJupyter(t)
	reg, c, ws := setup(t)
	venv := filepath.Join(ws, ".venv")
	if err := os.Symlink(testenv.VenvDir(), venv); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(venv, "share", "jupyter", "kernels", "python3", "kernel.json")); err != nil {
		t.Skipf("the test venv's ipykernel shipped no kernelspec: %v", err)
	}
	t.Setenv("PATH", t.TempDir()) // no python on PATH at all
	out := invoke[tools.KernelOut](t, reg, c, "start_kernel", map[string]any{"notebook_path": "nb.ipynb", "kernel_name": "python3", "timeout_s": 120})
	defer invoke[tools.StatusOut](t, reg, c, "stop_kernel", map[string]any{"notebook_path": "nb.ipynb"})
	if want := filepath.Join(venv, "bin", "python"); out.Executable != want || out.Status == "dead" {
		t.Fatalf("start_kernel = %+v, want the venv's python3 kernelspec running %s", out, want)
	}
}
