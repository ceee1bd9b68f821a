package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

func fakeLook(found ...string) func(string) (string, error) {
	return func(name string) (string, error) {
		for _, f := range found {
			if f == name {
				return "/usr/bin/" + name, nil
			}
		}
		return "", exec.ErrNotFound
	}
}

func TestWrap(t *testing.T) {
	base := kernel.LaunchSpec{
		Name: "python3", Argv: []string{"/venv/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"},
		Env: []string{"PATH=/venv/bin:/usr/bin", "HOME=/home/u"}, Dir: "/ws/nb", InterruptMode: "signal",
	}
	opts := Options{ProjectDir: "/ws", RuntimeDir: "/run/k", LookPath: fakeLook("bwrap", "docker")}

	t.Run("none is unchanged", func(t *testing.T) {
		got, err := Wrap(base, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(base, got); diff != "" {
			t.Errorf("(-want +got)\n%s", diff)
		}
	})
	t.Run("bubblewrap", func(t *testing.T) {
		o := opts
		o.Kind = Bubblewrap
		got, err := Wrap(base, o)
		if err != nil {
			t.Fatal(err)
		}
		// The namespaces and the dropped capabilities come first; the masks
		// depend on this machine's home and runtime dirs; the writable binds
		// and the kernel's argv come last.
		wantHead := []string{"/usr/bin/bwrap", "--unshare-user", "--cap-drop", "ALL", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
			"--new-session", "--die-with-parent", "--unsetenv", "JPY_PARENT_PID", "--unshare-net",
			"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"}
		wantTail := []string{"--chdir", "/ws/nb", "--",
			"/venv/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"}
		if len(got.Argv) < len(wantHead)+len(wantTail) {
			t.Fatalf("argv too short: %q", got.Argv)
		}
		if diff := cmp.Diff(wantHead, got.Argv[:len(wantHead)]); diff != "" {
			t.Errorf("argv head (-want +got)\n%s", diff)
		}
		if diff := cmp.Diff(wantTail, got.Argv[len(got.Argv)-len(wantTail):]); diff != "" {
			t.Errorf("argv tail (-want +got)\n%s", diff)
		}
		if !strings.Contains(strings.Join(got.Argv, " "), " --bind /ws /ws --bind /run/k /run/k ") {
			t.Errorf("project and runtime dir not bound writable: %q", got.Argv)
		}
		if home, err := os.UserHomeDir(); err == nil && home != "/" && !strings.HasPrefix(home, "/tmp/") {
			if !strings.Contains(strings.Join(got.Argv, " "), "--tmpfs "+home+" ") && !strings.Contains(strings.Join(got.Argv, " "), "--tmpfs "+filepath.Dir(home)+" ") {
				t.Errorf("home %s is not hidden: %q", home, got.Argv)
			}
		}
		wantEnv := []string{"PATH=/venv/bin:/usr/bin", "IPYTHONDIR=/tmp/ipython", "MPLCONFIGDIR=/tmp/matplotlib",
			"JUPYTER_RUNTIME_DIR=/tmp/jupyter-runtime", "HOME=/tmp"}
		if diff := cmp.Diff(wantEnv, got.Env); diff != "" {
			t.Errorf("env (-want +got)\n%s", diff)
		}
		if got.InterruptMode != "message" {
			t.Errorf("interrupt mode = %q, want message (a signal to bwrap does not cross the pid namespace)", got.InterruptMode)
		}
	})
	t.Run("bubblewrap with network", func(t *testing.T) {
		o := opts
		o.Kind, o.Network = Bubblewrap, true
		got, err := Wrap(base, o)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.Join(got.Argv, " "), "--unshare-net") {
			t.Errorf("network allowed but argv unshares it: %q", got.Argv)
		}
	})
	t.Run("docker", func(t *testing.T) {
		o := opts
		o.Kind, o.Image = Docker, "jupyter/scipy:1"
		got, err := Wrap(base, o)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"/usr/bin/docker", "run", "--rm", "-i", "--init",
			"--name", "mcp-jupyter-k", "--label", "org.mcp-jupyter.kernel=1", "--label", "org.mcp-jupyter.owner=" + Owner(),
			"--cidfile", "/run/k/container.id", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
			"-v", "/run/k:/run/k", "-v", "/ws:/ws",
			"--user", fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()), "--network", "none", "-w", "/ws/nb",
			"-e", "IPYTHONDIR=/tmp/ipython", "-e", "MPLCONFIGDIR=/tmp/matplotlib", "-e", "JUPYTER_RUNTIME_DIR=/tmp/jupyter-runtime",
			"-e", "HOME=/tmp", "jupyter/scipy:1", "python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"}
		if diff := cmp.Diff(want, got.Argv); diff != "" {
			t.Errorf("argv (-want +got)\n%s", diff)
		}
		if !ownerAlive(Owner()) {
			t.Errorf("our own owner label %q reads as gone", Owner())
		}
		host, _ := os.Hostname()
		st, _ := kernel.ProcessStartTime(os.Getpid())
		if ownerAlive(fmt.Sprintf("%s/%d/%d", host, os.Getpid(), st+1)) {
			t.Errorf("an owner with our pid but another start time (a reused pid) reads as alive")
		}
		if ownerAlive(fmt.Sprintf("%s/%d/%d", host, 0, st)) || ownerAlive("") {
			t.Errorf("a bad owner label reads as alive")
		}
		if !ownerAlive("another-host.example/1/2") {
			t.Errorf("a container of another host's sidecar would be reaped")
		}
		d := Describe(kernel.LaunchSpec{Name: "docker:jupyter/scipy:1", Argv: got.Argv})
		if d.Kind != Docker || d.Executable != "python3 (image jupyter/scipy:1)" || d.Environment != "docker:jupyter/scipy:1" {
			t.Errorf("Describe: %+v", d)
		}
		if got.InterruptMode != "message" {
			t.Errorf("interrupt mode = %q, want message", got.InterruptMode)
		}
	})
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"docker without image", Options{Kind: Docker, ProjectDir: "/ws", RuntimeDir: "/r", LookPath: fakeLook("docker")}, "docker_image is required"},
		{"docker missing", Options{Kind: Docker, Image: "x", ProjectDir: "/ws", RuntimeDir: "/r", LookPath: fakeLook()}, "docker is not installed"},
		{"bwrap missing", Options{Kind: Bubblewrap, ProjectDir: "/ws", RuntimeDir: "/r", LookPath: fakeLook()}, "apt-get install bubblewrap"},
		{"relative project", Options{Kind: Bubblewrap, ProjectDir: "ws", RuntimeDir: "/r", LookPath: fakeLook("bwrap")}, "not an absolute path"},
		{"no runtime dir", Options{Kind: Bubblewrap, ProjectDir: "/ws", LookPath: fakeLook("bwrap")}, "runtime dir are required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Wrap(base, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestParseKind(t *testing.T) {
	for in, want := range map[string]Kind{"": None, "none": None, "bwrap": Bubblewrap, "Bubblewrap": Bubblewrap, "docker": Docker} {
		got, err := ParseKind(in)
		if err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseKind("chroot"); err == nil {
		t.Error("ParseKind(chroot) succeeded")
	}
}

// TestBubblewrapKernel runs a real ipykernel in the jail: it can write the
// project, but not outside it, and has no network.
func TestBubblewrapKernel(t *testing.T) {
	py := testenv.Python(t)
	if err := Check(context.Background(), Bubblewrap); err != nil {
		if errors.Is(err, ErrUnavailable) && os.Getenv("MCP_JUPYTER_REQUIRE_BWRAP") != "1" {
			t.Skipf("bubblewrap sandbox cannot run here: %v", err)
		}
		t.Fatal(err)
	}
	project, runtime := t.TempDir(), t.TempDir()
	// A host-writable folder outside /tmp (the jail's /tmp is private), so it
	// exists inside the jail, read-only.
	outside, err := os.MkdirTemp("/var/tmp", "mcpj-sandbox-outside-")
	if err != nil {
		t.Fatalf("need a writable /var/tmp for the escape check: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(outside) })
	spec := kernel.LaunchSpec{Name: "python3", Argv: []string{py, "-m", "ipykernel_launcher", "-f", "{connection_file}"}, Dir: project}
	var wrapped kernel.LaunchSpec
	wrapped, err = Wrap(spec, Options{Kind: Bubblewrap, ProjectDir: project, RuntimeDir: runtime})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k, err := kernel.Start(ctx, wrapped, kernel.Options{RuntimeDir: runtime, Transport: Transport(Bubblewrap)})
	if err != nil {
		t.Fatalf("start sandboxed kernel: %v", err)
	}
	defer k.Shutdown(context.Background())

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	code := fmt.Sprintf(`
import json, os, socket
r = {}
try:
    open(os.path.join(%[1]q, "inside.txt"), "w").write("ok"); r["project"] = "written"
except OSError as e:
    r["project"] = type(e).__name__
try:
    open(os.path.join(%[2]q, "escape.txt"), "w").write("bad"); r["outside"] = "written"
except OSError as e:
    r["outside"] = type(e).__name__
try:
    socket.create_connection(("127.0.0.1", %[3]d), timeout=2).close(); r["net"] = "connected"
except OSError as e:
    r["net"] = type(e).__name__
print(json.dumps(r))
`, project, outside, port)
	var mu sync.Mutex
	var out strings.Builder
	reply, err := k.Execute(ctx, kernel.ExecuteRequest{Code: code}, kernel.Handlers{OnIOPub: func(m kernel.Message) {
		if m.Header.MsgType != "stream" {
			return
		}
		var c struct{ Text string }
		if json.Unmarshal(m.Content, &c) == nil {
			mu.Lock()
			out.WriteString(c.Text)
			mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if reply.Status != "ok" {
		t.Fatalf("execute: %s %s: %s", reply.Status, reply.Ename, reply.Evalue)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(strings.TrimSpace(out.String())), &got); err != nil {
		t.Fatalf("kernel printed %q: %v", out.String(), err)
	}
	want := map[string]string{"project": "written", "outside": "OSError", "net": "ConnectionRefusedError"}
	// Without a network namespace route, connect fails as unreachable or refused: both mean no way out.
	if got["net"] == "OSError" || got["net"] == "TimeoutError" {
		want["net"] = got["net"]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inside the sandbox (-want +got)\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(outside, "escape.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the kernel wrote outside the project: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(project, "inside.txt")); err != nil || string(b) != "ok" {
		t.Errorf("project file: %q, %v", b, err)
	}
}

// TestHiddenByTmp: an interpreter or environment under /tmp (a checkout in a
// temp folder) is bound back into the jail, read-only, parents only.
func TestHiddenByTmp(t *testing.T) {
	venv := t.TempDir() // under /tmp on Linux
	if !strings.HasPrefix(venv, "/tmp/") {
		t.Skipf("temp dir %s is not under /tmp", venv)
	}
	py := filepath.Join(venv, "bin", "python")
	if err := os.MkdirAll(filepath.Dir(py), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(py, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	project := t.TempDir()
	spec := kernel.LaunchSpec{
		Argv: []string{py, "-m", "ipykernel_launcher", "-f", "{connection_file}", filepath.Join(project, "x.py")},
		Env:  []string{"VIRTUAL_ENV=" + venv, "CONDA_PREFIX=/opt/conda", "HOME=/tmp"},
	}
	o := Options{ProjectDir: project, RuntimeDir: "/run/k"}
	got := reboundPaths(spec, o, maskedDirs(o))
	if diff := cmp.Diff([]string{venv}, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// TestDockerUnavailable checks the clear error where no Docker engine runs (as
// on these CI machines). Where one runs, the real container test needs an image
// with ipykernel, named by MCP_JUPYTER_TEST_DOCKER_IMAGE.
func TestDockerUnavailable(t *testing.T) {
	err := Check(context.Background(), Docker)
	if err == nil {
		t.Skip("a Docker engine is reachable here; the unavailable-engine message cannot be checked")
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "docker") && !strings.Contains(err.Error(), "Docker") {
		t.Errorf("error does not name Docker: %v", err)
	}
}
