package sidecar_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
)

// TestPythonAgentSession drives a full agent session with the official Python
// MCP SDK against the built binary and real kernels, in both protocol eras.
func TestPythonAgentSession(t *testing.T) {
	py := testenv.Python(t)
	bin := testenv.Binary(t)
	venv := filepath.Dir(filepath.Dir(py))
	for _, era := range []string{"handshake", "modern"} {
		t.Run(era, func(t *testing.T) {
			ws, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(ws, "agent.ipynb"), []byte(testNotebook), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(py, filepath.Join(testenv.RepoRoot(), "tests", "mcp", "agent_session.py"), bin, ws, "agent.ipynb", venv, era)
			cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir())
			out, err := cmd.CombinedOutput()
			t.Logf("agent_session.py:\n%s", out)
			if err != nil {
				t.Fatalf("agent session failed: %v", err)
			}
		})
	}
}

// TestTypeScriptClient runs tests/mcp/typescript_client.test.mjs (the official
// TypeScript SDK client) against the built binary with node --test.
func TestTypeScriptClient(t *testing.T) {
	root := testenv.RepoRoot()
	if _, err := os.Stat(filepath.Join(root, "node_modules", "@modelcontextprotocol", "sdk", "package.json")); err != nil {
		t.Skip("@modelcontextprotocol/sdk not installed: run npm install (it is a devDependency)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not on PATH")
	}
	cmd := exec.Command(node, "--test", filepath.Join(root, "tests", "mcp", "typescript_client.test.mjs"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "MCP_JUPYTER_BIN="+testenv.Binary(t), "MCP_JUPYTER_TEST_VENV="+testenv.VenvDir())
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("TypeScript client test failed: %v", err)
	}
}
