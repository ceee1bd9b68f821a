//go:build linux

package sandbox_test

// Escape attempts against the real sidecar binary: a real MCP client starts a
// bubblewrap-sandboxed ipykernel and runs attack code in it. Each test plants
// the secret or the target on the host first, then checks from the outside
// that the attack failed.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/sourcegraph/jsonrpc2"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/protocol"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/sandbox"
)

const escapeNotebook = `{"cells": [], "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}`

// jailHost is a user's machine in miniature, outside /tmp (the jail's /tmp is
// private anyway, so secrets there prove nothing): a home folder with the
// workspace inside it, and an XDG runtime dir like a desktop's /run/user/UID.
type jailHost struct {
	base, home, ws, run string
	env                 []string
}

func requireBwrap(t *testing.T) {
	t.Helper()
	if err := sandbox.Check(context.Background(), sandbox.Bubblewrap); err != nil {
		if errors.Is(err, sandbox.ErrUnavailable) && os.Getenv("MCP_JUPYTER_REQUIRE_BWRAP") != "1" {
			t.Skipf("bubblewrap sandbox cannot run here: %v", err)
		}
		t.Fatal(err)
	}
}

func newJailHost(t *testing.T) *jailHost {
	t.Helper()
	base, err := os.MkdirTemp("/var/tmp", "mcpj-escape-")
	if err != nil {
		t.Skipf("need a writable /var/tmp (outside the jail's private /tmp): %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	h := &jailHost{base: base, home: filepath.Join(base, "home"), run: filepath.Join(base, "run")}
	h.ws = filepath.Join(h.home, "project")
	for _, d := range []string{h.ws, h.run} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(h.ws, "nb.ipynb"), []byte(escapeNotebook), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "XDG_"), k == "HOME", k == "MCP_JUPYTER_CHECKPOINT_KEY_FILE", k == "MCP_JUPYTER_SANDBOX_READ":
			continue
		}
		h.env = append(h.env, kv)
	}
	h.env = append(h.env, "HOME="+h.home, "XDG_RUNTIME_DIR="+h.run)
	return h
}

// client starts `mcp-jupyter mcp --standalone` for the workspace and connects a real MCP client.
func (h *jailHost) client(t *testing.T, extraEnv ...string) *mcp.ClientSession {
	t.Helper()
	cmd := exec.Command(testenv.Binary(t), "mcp", "--standalone", "--workspace", h.ws)
	cmd.Env = append(append([]string(nil), h.env...), extraEnv...)
	return h.clientCmd(t, cmd)
}

// clientCmd connects a real MCP client to the sidecar command cmd.
func (h *jailHost) clientCmd(t *testing.T, cmd *exec.Cmd) *mcp.ClientSession {
	t.Helper()
	cmd.Stderr = &testLog{t: t}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "escape-test", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 30 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

type testLog struct{ t *testing.T }

func (l *testLog) Write(p []byte) (int, error) {
	if testing.Verbose() {
		l.t.Logf("sidecar: %s", strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// callTool calls a tool; isErr reports a tool-level error with its text.
func callTool(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (out map[string]any, errText string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	if res.IsError {
		return nil, text.String()
	}
	b, _ := json.Marshal(res.StructuredContent)
	json.Unmarshal(b, &out)
	return out, ""
}

// startJailed starts the notebook's kernel in bubblewrap with the test venv.
func (h *jailHost) startJailed(t *testing.T, cs *mcp.ClientSession) map[string]any {
	t.Helper()
	py := testenv.Python(t)
	out, errText := callTool(t, cs, "start_kernel", map[string]any{"notebook_path": "nb.ipynb", "venv_path": filepath.Dir(filepath.Dir(py)), "sandbox": "bubblewrap", "timeout_s": 120})
	if errText != "" {
		t.Fatalf("start_kernel sandbox=bubblewrap: %s", errText)
	}
	if out["sandbox"] != "bubblewrap" {
		t.Fatalf("kernel not sandboxed: %v", out)
	}
	return out
}

// runJSON runs code in the kernel; the code prints one JSON object as its
// last line, which is returned.
func runJSON(t *testing.T, cs *mcp.ClientSession, code string) map[string]any {
	t.Helper()
	out, errText := callTool(t, cs, "run_cell", map[string]any{"notebook_path": "nb.ipynb", "code_override": code, "timeout_s": 120})
	if errText != "" {
		t.Fatalf("run_cell: %s", errText)
	}
	if out["status"] != "ok" {
		t.Fatalf("run_cell: %v", out)
	}
	var text strings.Builder
	raw, _ := out["raw_outputs"].([]any)
	for _, o := range raw {
		m, _ := o.(map[string]any)
		switch v := m["text"].(type) {
		case string:
			text.WriteString(v)
		case []any:
			for _, s := range v {
				text.WriteString(fmt.Sprint(s))
			}
		}
	}
	lines := strings.Split(strings.TrimSpace(text.String()), "\n")
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("kernel printed %q (%v): %v", text.String(), out, err)
	}
	return got
}

// TestEscapeWorkspacePythonOnHost: a cloned repository's .venv/bin/python
// (here a script that writes a marker into $HOME) must not run on the host
// when the kernel is to be sandboxed, nor when environments are listed.
func TestEscapeWorkspacePythonOnHost(t *testing.T) {
	requireBwrap(t)
	testenv.Python(t)
	h := newJailHost(t)
	marker := filepath.Join(h.home, "pwned")
	venv := filepath.Join(h.ws, ".venv")
	pkg := filepath.Join(venv, "lib", "python3.11", "site-packages", "ipykernel")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(venv, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		filepath.Join(venv, "pyvenv.cfg"):    "home = /usr/bin\nversion = 3.11.7\n",
		filepath.Join(pkg, "__init__.py"):    "",
		filepath.Join(venv, "bin", "python"): "#!/bin/sh\necho ran \"$@\" >> " + marker + "\nexit 3\n",
	}
	for p, c := range files {
		if err := os.WriteFile(p, []byte(c), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cs := h.client(t)

	envs, errText := callTool(t, cs, "list_environments", map[string]any{})
	if errText != "" {
		t.Fatalf("list_environments: %s", errText)
	}
	if b, err := os.ReadFile(marker); err == nil {
		t.Fatalf("list_environments ran the workspace's python on the host: %s", b)
	}
	found := false
	for _, e := range envs["environments"].([]any) {
		m := e.(map[string]any)
		if m["path"] == venv {
			found = true
			if m["version"] != "3.11.7" || m["has_ipykernel"] != true {
				t.Errorf("workspace venv described from its files: %v", m)
			}
		}
	}
	if !found {
		t.Errorf("workspace venv not listed: %v", envs)
	}

	// No venv_path: the workspace's .venv is chosen (it claims ipykernel);
	// it may only ever run inside the jail, where it cannot write $HOME.
	_, errText = callTool(t, cs, "start_kernel", map[string]any{"notebook_path": "nb.ipynb", "sandbox": "bubblewrap", "timeout_s": 30})
	if b, err := os.ReadFile(marker); err == nil {
		t.Fatalf("start_kernel(sandbox=bubblewrap) ran the workspace's python outside the jail: %s", b)
	}
	if errText == "" {
		t.Logf("start_kernel picked another environment")
	}
	// Named explicitly: probed inside the jail only.
	_, errText = callTool(t, cs, "start_kernel", map[string]any{"notebook_path": "nb.ipynb", "venv_path": ".venv", "sandbox": "bubblewrap", "timeout_s": 30})
	if errText == "" {
		t.Errorf("a fake python started a kernel")
	}
	if b, err := os.ReadFile(marker); err == nil {
		t.Fatalf("start_kernel(venv_path, sandbox=bubblewrap) ran the workspace's python outside the jail: %s", b)
	}
}

// TestEscapeSecrets: the jailed kernel cannot read the checkpoint signing key
// (forging a signed checkpoint needs it), nor the attach token or socket of
// a serve sidecar whose XDG_RUNTIME_DIR is outside /tmp (as /run/user/UID on
// desktops), nor anything else in $HOME but what the user allowed.
func TestEscapeSecrets(t *testing.T) {
	requireBwrap(t)
	h := newJailHost(t)
	key := filepath.Join(h.home, ".config", "mcp-jupyter", "checkpoint.key")
	attachDir := filepath.Join(h.run, "mcp-jupyter")
	token := filepath.Join(attachDir, "token-abc.json")
	sock := filepath.Join(attachDir, "s.sock")
	sshKey := filepath.Join(h.home, ".ssh", "id_ed25519")
	allowed := filepath.Join(h.home, "data", "allowed.csv")
	for p, c := range map[string]string{key: "K" + strings.Repeat("k", 31), token: `{"token":"secret"}`, sshKey: "PRIVATE", allowed: "a,b\n1,2\n"} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			c.Close()
		}
	}()
	cs := h.client(t, "MCP_JUPYTER_SANDBOX_READ="+filepath.Dir(allowed))
	h.startJailed(t, cs)
	code := fmt.Sprintf(`
import json, os, socket
r = {}
for name, p in [("key", %q), ("token", %q), ("ssh", %q), ("allowed", %q)]:
    try:
        r[name] = open(p).read()[:8]
    except OSError as e:
        r[name] = type(e).__name__
for name, d in [("attach_dir", %q), ("run_user", "/run/user"), ("home", %q)]:
    try:
        r[name] = sorted(os.listdir(d))
    except OSError as e:
        r[name] = type(e).__name__
try:
    s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(%q); r["socket"] = "connected"
except OSError as e:
    r["socket"] = type(e).__name__
print(json.dumps(r))
`, key, token, sshKey, allowed, attachDir, h.home, sock)
	got := runJSON(t, cs, code)
	t.Logf("inside the jail: %v", got)
	for _, k := range []string{"key", "token", "ssh"} {
		if got[k] != "FileNotFoundError" {
			t.Errorf("%s readable in the jail: %v", k, got[k])
		}
	}
	if got["socket"] == "connected" {
		t.Errorf("the jail connected to the attach socket")
	}
	select {
	case <-accepted:
		t.Errorf("the attach socket accepted a connection from the jail")
	default:
	}
	if got["allowed"] != "a,b\n1,2\n"[:8] {
		t.Errorf("MCP_JUPYTER_SANDBOX_READ path not readable: %v", got["allowed"])
	}
	if l, ok := got["attach_dir"].([]any); ok && len(l) > 0 {
		t.Errorf("attach dir listed in the jail: %v", l)
	}
	if home, ok := got["home"].([]any); ok {
		for _, e := range home {
			if e != "project" && e != "data" {
				t.Errorf("home folder entry %v visible in the jail: %v", e, home)
			}
		}
	}
}

// TestEscapeProcessesAndCapabilities: run as root (CI containers, dev
// containers), the jailed kernel holds no capabilities and cannot remount /
// writable; it sees no host process and cannot signal one; a child that
// calls setsid does not outlive stop_kernel; the network is unreachable.
func TestEscapeProcessesAndCapabilities(t *testing.T) {
	requireBwrap(t)
	h := newJailHost(t)
	victim := exec.Command("sleep", "600")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { victim.Process.Kill(); victim.Wait() }()
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
	survivor := fmt.Sprintf("%d.%d", os.Getpid(), time.Now().UnixNano()%1000000)
	cs := h.client(t)
	h.startJailed(t, cs)
	code := fmt.Sprintf(`
import json, os, signal, socket, subprocess
r = {"uid": os.getuid()}
r["cap_eff"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
p = subprocess.run(["mount", "-o", "remount,rw", "/"], capture_output=True)
r["remount"] = p.returncode
try:
    open("/etc/mcpj-escape", "w").write("x"); r["etc"] = "written"
except OSError as e:
    r["etc"] = type(e).__name__
try:
    open("/etc/shadow").read(); r["shadow"] = "read"
except OSError as e:
    r["shadow"] = type(e).__name__
r["pids"] = len([d for d in os.listdir("/proc") if d.isdigit()])
r["victim_visible"] = os.path.exists("/proc/%d")
try:
    os.kill(%d, signal.SIGSTOP); r["signal"] = "sent"
except OSError as e:
    r["signal"] = type(e).__name__
subprocess.Popen(["setsid", "sleep", "%s"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
try:
    socket.create_connection(("127.0.0.1", %d), timeout=3).close(); r["net"] = "connected"
except OSError as e:
    r["net"] = type(e).__name__
print(json.dumps(r))
`, victim.Process.Pid, victim.Process.Pid, survivor, l.Addr().(*net.TCPAddr).Port)
	got := runJSON(t, cs, code)
	t.Logf("inside the jail (host uid %d): %v", os.Getuid(), got)
	if got["cap_eff"] != "0000000000000000" {
		t.Errorf("capabilities in the jail: CapEff %v", got["cap_eff"])
	}
	if got["remount"] == float64(0) {
		t.Errorf("the jail remounted / read-write")
	}
	if got["etc"] == "written" {
		os.Remove("/etc/mcpj-escape")
		t.Errorf("the jail wrote /etc")
	}
	if got["shadow"] == "read" {
		t.Errorf("the jail read /etc/shadow")
	}
	if got["victim_visible"] != false {
		t.Errorf("host process %d visible in the jail", victim.Process.Pid)
	}
	if n, _ := got["pids"].(float64); n > 10 {
		t.Errorf("the jail sees %v processes", n)
	}
	if got["signal"] == "sent" {
		t.Errorf("the jail signalled host process %d", victim.Process.Pid)
	}
	if got["net"] == "connected" {
		t.Errorf("the jail reached the host's loopback")
	}
	if found := findProcess(survivor); found == 0 {
		t.Fatalf("the setsid child (sleep %s) is not running on the host: the check would prove nothing", survivor)
	}
	if _, errText := callTool(t, cs, "stop_kernel", map[string]any{"notebook_path": "nb.ipynb"}); errText != "" {
		t.Fatalf("stop_kernel: %s", errText)
	}
	deadline := time.Now().Add(30 * time.Second)
	for findProcess(survivor) != 0 {
		if time.Now().After(deadline) {
			pid := findProcess(survivor)
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the setsid child %d outlived stop_kernel", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// findProcess is the pid of a host process whose command line holds marker, or 0.
func findProcess(marker string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), "\x00"+marker) && !zombieProc(pid) {
			return pid
		}
	}
	return 0
}

func zombieProc(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z'
}

// serveSidecar is `mcp-jupyter serve` as the VS Code extension runs it.
type serveSidecar struct {
	cmd  *exec.Cmd
	conn *jsonrpc2.Conn
	init protocol.InitializeResult
}

type serveHandler struct{}

func (serveHandler) Handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	if req.Notif {
		return
	}
	if req.Method == protocol.MethodEditorSnapshot {
		conn.Reply(ctx, req.ID, nil) // no open editor: the file on disk is the truth
		return
	}
	conn.ReplyWithError(ctx, req.ID, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: req.Method})
}

func (h *jailHost) serve(t *testing.T, runtimeDir string) *serveSidecar {
	t.Helper()
	cmd := exec.Command(testenv.Binary(t), "serve", "--runtime-dir", runtimeDir)
	cmd.Dir = h.ws
	cmd.Env = h.env
	cmd.Stderr = &testLog{t: t}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serveSidecar{cmd: cmd}
	s.conn = jsonrpc2.NewConn(context.Background(), jsonrpc2.NewBufferedStream(rwc{stdout, stdin}, jsonrpc2.VSCodeObjectCodec{}), serveHandler{})
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.conn.Call(ctx, protocol.MethodInitialize, protocol.InitializeParams{ClientName: "escape-test", ClientVersion: "0", WorkspaceFolders: []string{h.ws}, ProtocolHash: protocol.Hash}, &s.init); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return s
}

type rwc struct {
	io.ReadCloser
	w io.WriteCloser
}

func (p rwc) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p rwc) Close() error {
	p.w.Close()
	return p.ReadCloser.Close()
}

// TestEscapeServeMode: under `serve` with XDG_RUNTIME_DIR outside /tmp (a
// desktop's /run/user/UID), an agent attached through `mcp` starts a
// sandboxed kernel. The kernel can neither reach the attach socket (and
// through it start an unsandboxed kernel) nor plant a kernel record the next
// sidecar trusts: a forged record naming an unrelated process group (with
// "connectionFile": "") must not get that group killed on re-attach.
func TestEscapeServeMode(t *testing.T) {
	requireBwrap(t)
	testenv.Python(t)
	h := newJailHost(t)
	shared := filepath.Join(h.base, "kernels")
	s := h.serve(t, shared)
	if s.init.AttachSocket == "" || !strings.HasPrefix(s.init.AttachSocket, h.run) {
		t.Fatalf("attach socket %q not under XDG_RUNTIME_DIR %s", s.init.AttachSocket, h.run)
	}
	victim := exec.Command("sh", "-c", "sleep 600 & wait")
	victim.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	vpid := victim.Process.Pid
	t.Cleanup(func() { syscall.Kill(-vpid, syscall.SIGKILL); victim.Wait() })

	agent := exec.Command(testenv.Binary(t), "mcp", "--workspace", h.ws)
	agent.Env = h.env
	agent.Stderr = &testLog{t: t}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: agent}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	h.startJailed(t, cs)
	code := fmt.Sprintf(`
import json, os, socket
from ipykernel.kernelapp import IPKernelApp
r = {}
try:
    s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(%q); r["attach"] = "connected"
except OSError as e:
    r["attach"] = type(e).__name__
try:
    r["tokens"] = os.listdir(%q)
except OSError as e:
    r["tokens"] = type(e).__name__
cf = IPKernelApp.instance().connection_file
rec = json.dumps({"pid": %d, "connectionFile": "", "label": %q, "spec": {"name": "python3", "argv": ["python3"]}})
r["planted"] = []
for d in {os.path.dirname(cf), os.path.dirname(os.path.dirname(cf)), %q}:
    try:
        open(os.path.join(d, "kernel-evil.meta.json"), "w").write(rec); r["planted"].append(d)
    except OSError as e:
        pass
print(json.dumps(r))
`, s.init.AttachSocket, filepath.Join(h.run, "mcp-jupyter"), vpid, filepath.Join(h.ws, "evil.ipynb"), shared)
	got := runJSON(t, cs, code)
	t.Logf("inside the jail: %v", got)
	if got["attach"] == "connected" {
		t.Errorf("the jailed kernel connected to the attach socket %s", s.init.AttachSocket)
	}
	if l, _ := got["tokens"].([]any); len(l) > 0 {
		t.Errorf("the jail lists the attach dir: %v", l)
	}
	if _, err := os.Stat(filepath.Join(shared, "kernel-evil.meta.json")); err == nil {
		t.Errorf("the jailed kernel planted a record in the shared runtime dir %s", shared)
	}
	// Stop the sidecar (the jailed kernel dies with it), start the next one:
	// its re-attach reads the shared runtime dir.
	cs.Close()
	if _, errText := callToolQuiet(s); errText != "" {
		t.Logf("shutdown: %s", errText)
	}
	s2 := h.serve(t, shared)
	_ = s2
	time.Sleep(2 * time.Second) // re-attach runs in the background; a kill would be immediate
	if !processAlive(vpid) {
		t.Fatalf("the next sidecar's re-attach killed the unrelated process group %d", vpid)
	}
}

// callToolQuiet asks a serve sidecar to shut down.
func callToolQuiet(s *serveSidecar) (any, string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.conn.Call(ctx, protocol.MethodShutdown, protocol.ShutdownParams{}, nil); err != nil {
		return nil, err.Error()
	}
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
	}
	return nil, ""
}

func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil && !zombieProc(pid)
}
