// Package remotetest starts real Jupyter servers on loopback for tests, from
// a venv that ../testdata/setup-venv.sh creates (jupyter_server 2.x,
// jupyter-kernel-gateway, ipykernel); MCP_JUPYTER_REMOTE_VENV points at
// another one. Without the venv (and no PyPI to make it) tests are skipped
// with the reason.
package remotetest

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	venvOnce sync.Once
	venvDir  string
	venvErr  error
)

func repoRoot() string {
	_, f, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(f), "..", "..", "..", "..", ".."))
}

// Venv returns the test venv, installing it on first use; the test is
// skipped (with the reason) when it cannot be had.
func Venv(t testing.TB) string {
	t.Helper()
	venvOnce.Do(func() {
		venvDir = os.Getenv("MCP_JUPYTER_REMOTE_VENV")
		if venvDir == "" {
			venvDir = filepath.Join(repoRoot(), ".cache", "remote-venv")
		}
		start := time.Now()
		cmd := exec.Command("bash", filepath.Join(repoRoot(), "sidecar", "internal", "kernel", "remote", "testdata", "setup-venv.sh"), venvDir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			venvErr = fmt.Errorf("setup-venv.sh: %v: %s", err, Tail(out.String(), 800))
			return
		}
		if d := time.Since(start); d > 5*time.Second {
			fmt.Fprintf(os.Stderr, "remote test venv installed in %s\n", d.Round(time.Second))
		}
	})
	if venvErr != nil {
		t.Skipf("no jupyter_server test venv (needs PyPI once): %v", venvErr)
	}
	return venvDir
}

func Tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

type Server struct {
	URL, Token string
	cmd        *exec.Cmd
	log        *bytes.Buffer
	home       string
	exited     chan struct{}
}

func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Start runs `jupyter server` on a loopback port with a token,
// in an isolated Jupyter config/data/runtime dir; stopped at test cleanup.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	return StartKind(t, JupyterServer, extra...)
}

// StartTLS starts a jupyter_server that serves https with that certificate.
func StartTLS(t testing.TB, certFile, keyFile string) *Server {
	t.Helper()
	s := LaunchKind(t, Venv(t), JupyterServer, "--ServerApp.certfile="+certFile, "--ServerApp.keyfile="+keyFile)
	s.URL = "https://" + strings.TrimPrefix(s.URL, "http://")
	t.Cleanup(func() { s.Stop(t) })
	s.WaitReady(t)
	return s
}

// Kinds of server.
const (
	JupyterServer = "jupyter_server"
	KernelGateway = "kernel_gateway"
)

// StartKind starts a server of that kind (JupyterServer, KernelGateway).
func StartKind(t testing.TB, kind string, extra ...string) *Server {
	t.Helper()
	s := LaunchKind(t, Venv(t), kind, extra...)
	t.Cleanup(func() { s.Stop(t) })
	s.WaitReady(t)
	return s
}

// Launch starts a jupyter_server without waiting for it (see WaitReady).
func Launch(t testing.TB, venv string, extra ...string) *Server {
	t.Helper()
	return LaunchKind(t, venv, JupyterServer, extra...)
}

// LaunchKind starts a server of that kind without waiting for it.
func LaunchKind(t testing.TB, venv, kind string, extra ...string) *Server {
	t.Helper()
	home, err := os.MkdirTemp("", "mcpj-remote-")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(home, "root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	s := &Server{home: home, Token: randToken(), log: &bytes.Buffer{}, exited: make(chan struct{})}
	s.URL = fmt.Sprintf("http://127.0.0.1:%d/", port)
	var args []string
	switch kind {
	case JupyterServer:
		args = []string{"-m", "jupyter_server",
			"--ServerApp.ip=127.0.0.1", fmt.Sprintf("--ServerApp.port=%d", port), "--ServerApp.port_retries=0",
			"--ServerApp.open_browser=False", "--ServerApp.root_dir=" + root,
			"--IdentityProvider.token=" + s.Token,
			"--ServerApp.shutdown_no_activity_timeout=600", // an orphaned server of a killed test run ends by itself
		}
		if os.Geteuid() == 0 {
			args = append(args, "--allow-root")
		}
	case KernelGateway:
		args = []string{"-m", "kernel_gateway",
			"--KernelGatewayApp.ip=127.0.0.1", fmt.Sprintf("--KernelGatewayApp.port=%d", port), "--KernelGatewayApp.port_retries=0",
			"--KernelGatewayApp.auth_token=" + s.Token,
		}
	default:
		t.Fatalf("unknown server kind %q", kind)
	}
	args = append(args, extra...)
	s.cmd = exec.Command(filepath.Join(venv, "bin", "python"), args...)
	s.cmd.Dir = root
	s.cmd.Env = append(os.Environ(),
		"JUPYTER_CONFIG_DIR="+filepath.Join(home, "config"),
		"JUPYTER_DATA_DIR="+filepath.Join(home, "data"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(home, "runtime"),
		"JUPYTER_PLATFORM_DIRS=1", "PYTHONUNBUFFERED=1", "HOME="+home)
	s.cmd.Stdout, s.cmd.Stderr = &syncWriter{b: s.log}, &syncWriter{b: s.log}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	return s
}

func (s *Server) WaitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			t.Fatalf("jupyter server exited before it was ready:\n%s", Tail(s.Log(), 3000))
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL+"api/kernelspecs", nil)
		req.Header.Set("Authorization", "token "+s.Token)
		// Readiness only: the tests check the certificate with the client under test.
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("jupyter server not ready after 120s:\n%s", Tail(s.Log(), 3000))
}

func (s *Server) Stop(t testing.TB) {
	if s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
	// Kernels are in the server's process group only if they did not leave it.
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	if t != nil && t.Failed() {
		t.Logf("jupyter server log:\n%s", Tail(s.Log(), 4000))
	}
	_ = os.RemoveAll(s.home)
}

func (s *Server) Log() string {
	mu.Lock()
	defer mu.Unlock()
	return s.log.String()
}

var mu sync.Mutex

type syncWriter struct{ b *bytes.Buffer }

func (w *syncWriter) Write(p []byte) (int, error) {
	mu.Lock()
	defer mu.Unlock()
	return w.b.Write(p)
}
