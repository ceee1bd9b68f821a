//go:build linux

package sandbox_test

// docker_image for real: the test starts its own Docker engine (no bridge,
// no iptables, no ip_forward: the host network is left alone), builds the
// kernel image offline once (testfixtures/docker/build-image.sh, cached in
// the engine's data root), and drives the real sidecar binary. Where no
// engine can start (no dockerd, not root, no mmdebstrap or mirror) the tests
// skip saying why, unless MCP_JUPYTER_REQUIRE_DOCKER=1.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
)

const (
	// testImage has apt's python3 and ipykernel only: no `python`.
	testImage = "mcp-jupyter-test-kernel:bookworm-1"
	// dockerState is the test engine's home; its data root keeps the image
	// between runs. MCP_JUPYTER_TEST_DOCKER_DIR overrides it.
	defaultDockerState = "/var/lib/mcp-jupyter-test-docker"
)

// testEngine is a dockerd this test started (or found running at its socket).
type testEngine struct {
	host string // DOCKER_HOST value
}

func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("MCP_JUPYTER_REQUIRE_DOCKER") == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

func (e *testEngine) docker(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+e.host)
	return cmd
}

// startEngine starts a private dockerd for the test, one test process at a
// time (a lock file), and stops it when the test ends.
func startEngine(t *testing.T) *testEngine {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		skipOrFail(t, "no docker client: install docker.io to run the docker_image tests (see real-docker-for-tests note)")
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		skipOrFail(t, "no dockerd: apt-get install --no-install-recommends docker.io to run the docker_image tests")
	}
	if os.Geteuid() != 0 {
		skipOrFail(t, "dockerd needs root here (uid %d): the docker_image tests run as root only", os.Geteuid())
	}
	state := os.Getenv("MCP_JUPYTER_TEST_DOCKER_DIR")
	if state == "" {
		state = defaultDockerState
	}
	if err := os.MkdirAll(state, 0o700); err != nil {
		skipOrFail(t, "docker test state dir %s: %v", state, err)
	}
	lock, err := os.OpenFile(filepath.Join(state, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		skipOrFail(t, "docker test lock: %v", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		lock.Close()
		skipOrFail(t, "docker test lock: %v", err)
	}
	t.Cleanup(func() { lock.Close() }) // releases the lock
	// Short socket and exec paths: containerd's socket paths must fit sun_path.
	run, err := os.MkdirTemp("/run", "mcpj-docker-")
	if err != nil {
		skipOrFail(t, "docker exec root: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(run) })
	e := &testEngine{host: "unix://" + filepath.Join(run, "docker.sock")}
	logf, err := os.Create(filepath.Join(run, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(dockerd,
		// Host-network-neutral: no docker0 bridge, no NAT or FORWARD rules,
		// ip_forward untouched. Kernels use --network none.
		"--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none",
		"--data-root", filepath.Join(state, "data"),
		"--exec-root", filepath.Join(run, "exec"),
		"--pidfile", filepath.Join(run, "docker.pid"),
		"-H", e.host)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		skipOrFail(t, "start dockerd: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, err := e.docker(ctx, "ps", "-aq").Output(); err == nil && len(strings.TrimSpace(string(out))) > 0 {
			e.docker(ctx, append([]string{"rm", "-f"}, strings.Fields(string(out))...)...).Run()
		}
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := e.docker(ctx, "info", "--format", "{{.ServerVersion}}").Run()
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			b, _ := os.ReadFile(filepath.Join(run, "dockerd.log"))
			skipOrFail(t, "dockerd did not come up: %v\n%s", err, lastLines(string(b), 15))
		}
		time.Sleep(200 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if e.docker(ctx, "image", "inspect", testImage).Run() != nil {
		t.Logf("building %s offline (once; cached in %s)", testImage, state)
		build := exec.CommandContext(ctx, filepath.Join(testenv.RepoRoot(), "testfixtures", "docker", "build-image.sh"), testImage)
		build.Env = append(os.Environ(), "DOCKER_HOST="+e.host)
		if out, err := build.CombinedOutput(); err != nil {
			skipOrFail(t, "cannot build the test image %s (mmdebstrap and the Debian mirror are needed): %v\n%s", testImage, err, lastLines(string(out), 15))
		}
	}
	return e
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// containers lists the engine's kernel containers (ID, running or not).
func (e *testEngine) containers(t *testing.T) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := e.docker(ctx, "ps", "-aq", "--filter", "label=org.mcp-jupyter.kernel=1").Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	return strings.Fields(string(out))
}

// hostWithoutPython is a PATH holding docker and a shell only: no Python
// with ipykernel anywhere the sidecar could find one.
func hostWithoutPython(t *testing.T, h *jailHost, e *testEngine) []string {
	t.Helper()
	bin := filepath.Join(h.base, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"docker", "sh"} {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	var env []string
	for _, kv := range h.env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_EXE", "JUPYTER_PATH", "PYENV_ROOT", "PYENV_VERSION", "DOCKER_HOST":
			continue
		}
		env = append(env, kv)
	}
	h.env = append(env, "PATH="+bin, "DOCKER_HOST="+e.host)
	return h.env
}

func sandboxDirs(t *testing.T) []string {
	t.Helper()
	m1, _ := filepath.Glob(filepath.Join(os.TempDir(), "mcpj-sandbox-*"))
	m2, _ := filepath.Glob(filepath.Join(os.TempDir(), "mcp-jupyter-sandbox-*"))
	return append(m1, m2...)
}

// TestDockerImageKernel: docker_image runs a cell in a real container on a
// host with no Python kernel of its own; the kernel reports the image's
// python, not a host venv; the image has only python3; stop_kernel leaves
// no container and no runtime dir behind.
func TestDockerImageKernel(t *testing.T) {
	e := startEngine(t)
	h := newJailHost(t)
	hostWithoutPython(t, h, e)
	before := len(sandboxDirs(t))
	cs := h.client(t)

	k, errText := callTool(t, cs, "start_kernel", map[string]any{"notebook_path": "nb.ipynb", "docker_image": testImage, "timeout_s": 120})
	if errText != "" {
		t.Fatalf("start_kernel docker_image=%s on a host without Python: %s", testImage, errText)
	}
	t.Logf("kernel: %v", k)
	if k["sandbox"] != "docker" {
		t.Errorf("sandbox = %v, want docker", k["sandbox"])
	}
	if exe, _ := k["executable"].(string); !strings.Contains(exe, "python3") || !strings.Contains(exe, testImage) {
		t.Errorf("executable = %q, want the image's python3", exe)
	}
	if env, _ := k["environment"].(string); env != "docker:"+testImage {
		t.Errorf("environment = %q, want docker:%s", env, testImage)
	}
	if dn, _ := k["display_name"].(string); !strings.Contains(dn, testImage) {
		t.Errorf("display_name = %q does not name the image", dn)
	}
	got := runJSON(t, cs, fmt.Sprintf(`
import json, os, platform, shutil, sys
open(os.path.join(%q, "from-container.txt"), "w").write("hi")
print(json.dumps({"exe": sys.executable, "version": platform.python_version(), "debian": open("/etc/debian_version").read().strip(), "has_python": shutil.which("python") is not None}))
`, h.ws))
	t.Logf("in the container: %v", got)
	if got["exe"] != "/usr/bin/python3" || got["has_python"] != false || !strings.HasPrefix(fmt.Sprint(got["debian"]), "12") {
		t.Errorf("not the image's python3: %v", got)
	}
	if b, err := os.ReadFile(filepath.Join(h.ws, "from-container.txt")); err != nil || string(b) != "hi" {
		t.Errorf("the container's write to the workspace: %q %v", b, err)
	}
	info, errText := callTool(t, cs, "get_kernel_info", map[string]any{"notebook_path": "nb.ipynb"})
	if errText != "" {
		t.Fatal(errText)
	}
	if info["language_version"] != got["version"] {
		t.Errorf("language_version %v, the image's python is %v", info["language_version"], got["version"])
	}
	if n := len(e.containers(t)); n != 1 {
		t.Errorf("%d labelled kernel containers while the kernel runs, want 1", n)
	}
	if _, errText := callTool(t, cs, "stop_kernel", map[string]any{"notebook_path": "nb.ipynb"}); errText != "" {
		t.Fatal(errText)
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(e.containers(t)) > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if c := e.containers(t); len(c) > 0 {
		t.Errorf("containers left after stop_kernel: %v", c)
	}
	if after := len(sandboxDirs(t)); after > before {
		t.Errorf("sandbox runtime dirs: %d before, %d after stop_kernel", before, after)
	}

	// A missing image is a clear error naming it, not a registry timeout.
	_, errText = callTool(t, cs, "start_kernel", map[string]any{"notebook_path": "nb.ipynb", "docker_image": "mcp-jupyter-no-such-image:0", "timeout_s": 60})
	if !strings.Contains(errText, "mcp-jupyter-no-such-image:0") || !strings.Contains(errText, "not on this Docker engine") {
		t.Errorf("missing image error: %q", errText)
	}
}

// TestDockerOrphansReaped: a sidecar killed with SIGKILL cannot stop its
// container; the next sidecar that starts a docker kernel removes it (and
// the orphaned `docker run` client exits with it).
func TestDockerOrphansReaped(t *testing.T) {
	e := startEngine(t)
	h := newJailHost(t)
	hostWithoutPython(t, h, e)
	first := exec.Command(testenv.Binary(t), "mcp", "--standalone", "--workspace", h.ws)
	first.Env = h.env
	cs := h.clientCmd(t, first)
	if _, errText := callTool(t, cs, "start_kernel", map[string]any{"notebook_path": "nb.ipynb", "docker_image": testImage, "timeout_s": 120}); errText != "" {
		t.Fatal(errText)
	}
	orphan := e.containers(t)
	if len(orphan) != 1 {
		t.Fatalf("kernel containers: %v", orphan)
	}
	first.Process.Kill()
	first.Wait()
	time.Sleep(time.Second)
	if c := e.containers(t); len(c) != 1 {
		t.Fatalf("after SIGKILL of the sidecar the container is already gone (%v): nothing to reap", c)
	}

	cs2 := h.client(t)
	if _, errText := callTool(t, cs2, "start_kernel", map[string]any{"notebook_path": "nb.ipynb", "docker_image": testImage, "timeout_s": 120}); errText != "" {
		t.Fatal(errText)
	}
	now := e.containers(t)
	for _, id := range now {
		if strings.HasPrefix(orphan[0], id) || strings.HasPrefix(id, orphan[0]) {
			t.Errorf("the killed sidecar's container %s was not reaped: %v", orphan[0], now)
		}
	}
	if len(now) != 1 {
		t.Errorf("kernel containers: %v, want the new kernel's only", now)
	}
	for _, d := range sandboxDirs(t) {
		if b, _ := os.ReadFile(filepath.Join(d, "owner")); strings.Contains(string(b), fmt.Sprintf("/%d/", first.Process.Pid)) {
			t.Errorf("the killed sidecar's runtime dir %s was left behind", d)
		}
	}
	// The orphaned docker run client went with its container.
	deadline := time.Now().Add(30 * time.Second)
	for findProcess("mcp-jupyter-mcpj-sandbox-") != 0 && countClients() > 1 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if n := countClients(); n > 1 {
		t.Errorf("%d docker run clients of kernel containers, want 1 (the orphan's should have exited)", n)
	}
	callTool(t, cs2, "stop_kernel", map[string]any{"notebook_path": "nb.ipynb"})
}

// countClients counts running `docker run` processes of kernel containers.
func countClients() int {
	n := 0
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err != nil {
			continue
		}
		s := string(b)
		if strings.Contains(s, "run\x00") && strings.Contains(s, "org.mcp-jupyter.kernel=1") {
			n++
		}
	}
	return n
}
