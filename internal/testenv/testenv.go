// Package testenv finds the test Python environment (.venv made by `make venv`)
// for tests that need real kernels or Python tools.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// RepoRoot is the repository root (the folder holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// VenvDir is the test virtual environment: $MCP_JUPYTER_TEST_VENV or <repo>/.venv.
func VenvDir() string {
	if v := os.Getenv("MCP_JUPYTER_TEST_VENV"); v != "" {
		return v
	}
	return filepath.Join(RepoRoot(), ".venv")
}

// Python returns the venv's python interpreter. When it is missing the test is
// skipped, unless MCP_JUPYTER_REQUIRE_VENV=1 (set by `make test`), where it fails.
func Python(t testing.TB) string {
	t.Helper()
	py := filepath.Join(VenvDir(), "bin", "python")
	if _, err := os.Stat(py); err != nil {
		if os.Getenv("MCP_JUPYTER_REQUIRE_VENV") == "1" {
			t.Fatalf("test venv missing at %s: run `make venv`", VenvDir())
		}
		t.Skipf("test venv missing at %s: run `make venv` (or `make test`) to run this test", VenvDir())
	}
	return py
}

// Binary builds (once per test binary) and returns the mcp-jupyter sidecar binary
// from this tree, for tests that drive it as a subprocess.
func Binary(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("MCP_JUPYTER_BIN"); b != "" {
		return b
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mcp-jupyter-test-bin-")
		if err != nil {
			buildErr = err.Error()
			return
		}
		builtBin = filepath.Join(dir, "mcp-jupyter")
		cmd := exec.Command("go", "build", "-o", builtBin, "./sidecar/cmd/mcp-jupyter")
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = err.Error() + "\n" + string(b)
		}
	})
	if buildErr != "" {
		t.Fatalf("build mcp-jupyter: %s", buildErr)
	}
	return builtBin
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  string
)
