package kernelspec

import (
	"path/filepath"
	"strings"
)

// IsIPyKernel reports whether the spec runs ipykernel (`python -m
// ipykernel_launcher …` or `-m ipykernel`), the one kernel the Python-only
// features (checkpoints, the safe inspector) speak to.
func (s Spec) IsIPyKernel() bool {
	for i, a := range s.Argv {
		if a == "-m" && i+1 < len(s.Argv) {
			switch s.Argv[i+1] {
			case "ipykernel_launcher", "ipykernel":
				return true
			}
		}
	}
	return false
}

// InPrefix reports whether the spec was installed into prefix (a venv's or
// conda env's sys.prefix): its directory is prefix/share/jupyter/kernels/NAME,
// the place `--sys-prefix` installs and package wheels ship kernelspecs to.
func (s Spec) InPrefix(prefix string) bool {
	if prefix == "" || s.ResourceDir == "" {
		return false
	}
	kernels := filepath.Dir(s.ResourceDir)
	want := filepath.Join(prefix, "share", "jupyter", "kernels")
	if kernels == want {
		return true
	}
	a, err1 := filepath.EvalSymlinks(kernels)
	b, err2 := filepath.EvalSymlinks(want)
	return err1 == nil && err2 == nil && a == b
}

// InstallHint is the advice given with a missing kernelspec.
func InstallHint(name string) string {
	switch strings.ToLower(name) {
	case "bash":
		return "`pip install bash_kernel && python -m bash_kernel.install --sys-prefix` in the workspace environment"
	case "xpython", "xpython-raw":
		return "`pip install xeus-python` in the workspace environment"
	case "deno":
		return "`deno jupyter --install`"
	case "ir":
		return "`install.packages('IRkernel'); IRkernel::installspec()` in R"
	case "python3", "python":
		return "`python -m pip install ipykernel` in the workspace environment"
	}
	return "the kernel's own install step (`jupyter kernelspec list` must show it), into the workspace environment (--sys-prefix) or for the user (--user)"
}
