package sidecar_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// TestHTTPTransport: `mcp --http` serves MCP on loopback with a bearer token;
// requests without it, or with a foreign Host/Origin, are refused.
func TestHTTPTransport(t *testing.T) {
	ws, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "nb.ipynb"), []byte(testNotebook), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(testenv.Binary(t), "mcp", "--http", "0.0.0.0:0", "--workspace", ws).CombinedOutput(); err == nil || !strings.Contains(string(out), "loopback") {
		t.Errorf("--http 0.0.0.0:0 must be refused: %v %s", err, out)
	}
	cmd := exec.Command(testenv.Binary(t), "mcp", "--http", "127.0.0.1:0", "--workspace", ws)
	cmd.Env = append(os.Environ(), "MCP_JUPYTER_TOKEN=test-token-0123456789abcdef0123456789", "XDG_RUNTIME_DIR="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	addrRE := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`)
	sc := bufio.NewScanner(stderr)
	var addr string
	for sc.Scan() {
		t.Logf("sidecar: %s", sc.Text())
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
			break
		}
	}
	if addr == "" {
		t.Fatal("no listen address printed")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	url := "http://" + addr + "/"
	post := func(host, origin, auth string) int {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name, host, origin, auth string
		want                     int
	}{
		{"missing token", "", "", "", http.StatusUnauthorized},
		{"wrong token", "", "", "Bearer wrong", http.StatusUnauthorized},
		{"foreign origin", "", "https://evil.example", "Bearer test-token-0123456789abcdef0123456789", http.StatusForbidden},
		{"non-loopback host", "evil.example", "", "Bearer test-token-0123456789abcdef0123456789", http.StatusForbidden},
	} {
		if got := post(tc.host, tc.origin, tc.auth); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	transport := &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: bearer{"test-token-0123456789abcdef0123456789", http.DefaultTransport}}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "http-test", Version: "1"}, nil).Connect(ctx, transport, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_notebook_outline", Arguments: map[string]any{"notebook_path": "nb.ipynb"}})
	if err != nil || res.IsError {
		t.Fatalf("outline over HTTP: %v %+v", err, res)
	}
	// The Python SDK client, in both protocol eras (2026-07-28 needs the stateless handler).
	py := testenv.Python(t)
	out, err := exec.Command(py, filepath.Join(testenv.RepoRoot(), "tests", "mcp", "http_eras.py"), url, "test-token-0123456789abcdef0123456789", "nb.ipynb").CombinedOutput()
	t.Logf("http_eras.py:\n%s", out)
	if err != nil {
		t.Errorf("Python client over HTTP: %v", err)
	}
}

// TestHeadlessExitStopsKernels: when the MCP client goes away (stdin EOF), the
// headless server shuts its kernels down instead of leaking them.
func TestHeadlessExitStopsKernels(t *testing.T) {
	py := testenv.Python(t)
	ws, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "nb.ipynb"), []byte(testNotebook), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.Binary(t), "mcp", "--standalone", "--workspace", ws)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 60 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "start_kernel", Arguments: map[string]any{"notebook_path": "nb.ipynb", "venv_path": filepath.Dir(filepath.Dir(py))}})
	if err != nil || res.IsError {
		t.Fatalf("start_kernel: %v %+v", err, res)
	}
	var k struct {
		PID int `json:"pid"`
	}
	b, _ := json.Marshal(res.StructuredContent)
	json.Unmarshal(b, &k)
	if k.PID <= 0 {
		t.Fatalf("no pid in %s", b)
	}
	cs.Close() // closes stdin, waits for the process
	if kernel.ProcessRunning(k.PID) {
		t.Errorf("kernel %d still alive after the MCP server exited", k.PID)
	}
}
