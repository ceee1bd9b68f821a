package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

// Kind of confinement.
type Kind string

// Kinds of sandbox.
const (
	None       Kind = ""
	Bubblewrap Kind = "bubblewrap"
	Docker     Kind = "docker"
)

// ErrUnavailable: the sandbox tool is not installed or its engine is not running.
var ErrUnavailable = errors.New("sandbox unavailable")

// Options say how to confine one kernel.
type Options struct {
	Kind Kind
	// Image is the Docker image (Kind Docker); it must have ipykernel installed.
	Image string
	// ProjectDir is the one host folder the kernel may write (the notebook's
	// workspace root). It is mounted at the same path inside.
	ProjectDir string
	// RuntimeDir is the kernel runtime dir holding the connection file and the
	// ipc sockets (kernel.Options.RuntimeDir).
	RuntimeDir string
	// Network allows network access (off by default).
	Network bool
	// Hide names more host paths the kernel must not see (the sidecar's
	// kernel runtime dir, a key file kept elsewhere); the home folder, the
	// XDG dirs, the runtime dirs and the temp dir are always hidden.
	Hide []string
	// ReadOnly names host paths under a hidden folder the user allows the
	// kernel to read (MCP_JUPYTER_SANDBOX_READ).
	ReadOnly []string
	// LookPath finds executables; nil means exec.LookPath (tests override it).
	LookPath func(string) (string, error)
}

// ParseKind maps the start_kernel `sandbox` argument to a Kind.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none", "off", "false":
		return None, nil
	case "bubblewrap", "bwrap", "true", "on":
		return Bubblewrap, nil
	case "docker":
		return Docker, nil
	}
	return None, fmt.Errorf("unknown sandbox %q: use \"bubblewrap\" or \"docker\" (or leave it empty)", s)
}

// Transport is the kernel transport a sandbox of kind k needs.
func Transport(k Kind) string {
	if k == None {
		return ""
	}
	return "ipc"
}

// Wrap returns spec rewritten to run inside the sandbox. The kernel must then be
// started with kernel.Options{Transport: "ipc", RuntimeDir: o.RuntimeDir}.
func Wrap(spec kernel.LaunchSpec, o Options) (kernel.LaunchSpec, error) {
	if o.Kind == None {
		return spec, nil
	}
	if o.ProjectDir == "" || o.RuntimeDir == "" {
		return spec, fmt.Errorf("sandbox %s: project dir and runtime dir are required", o.Kind)
	}
	for _, d := range []string{o.ProjectDir, o.RuntimeDir} {
		if !filepath.IsAbs(d) {
			return spec, fmt.Errorf("sandbox %s: %q is not an absolute path", o.Kind, d)
		}
	}
	look := o.LookPath
	if look == nil {
		look = exec.LookPath
	}
	switch o.Kind {
	case Bubblewrap:
		bwrap, err := look("bwrap")
		if err != nil {
			return spec, fmt.Errorf("%w: bubblewrap (bwrap) is not installed: install it (apt-get install bubblewrap) or start the kernel without sandbox", ErrUnavailable)
		}
		return wrapBubblewrap(bwrap, spec, o), nil
	case Docker:
		if o.Image == "" {
			return spec, errors.New("sandbox docker: docker_image is required")
		}
		docker, err := look("docker")
		if err != nil {
			return spec, fmt.Errorf("%w: docker is not installed: install Docker or use sandbox \"bubblewrap\"", ErrUnavailable)
		}
		return wrapDocker(docker, spec, o), nil
	}
	return spec, fmt.Errorf("unknown sandbox kind %q", o.Kind)
}

// sandboxEnv are overrides that keep IPython, matplotlib and Jupyter writing into
// the jail's private /tmp instead of the (hidden) home folder.
var sandboxEnv = []string{
	"IPYTHONDIR=/tmp/ipython",
	"MPLCONFIGDIR=/tmp/matplotlib",
	"JUPYTER_RUNTIME_DIR=/tmp/jupyter-runtime",
	"HOME=/tmp",
}

// RuntimeDir makes the private runtime dir of one sandboxed kernel (0700),
// in the temp dir: never the sidecar's shared kernel runtime dir, whose
// records a restarted sidecar reads (a sandboxed kernel dies with its
// sidecar, so it has nothing to re-attach to). The kernel removes it when it
// ends (kernel.Options.PrivateRuntimeDir). The path stays short: ipc socket
// paths (dir + "/kernel-<uuid>-ipc-N") must fit in 104 bytes.
func RuntimeDir() (string, error) {
	parent := os.TempDir()
	if len(parent) > 40 && runtime.GOOS != "windows" {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "mcpj-sandbox-")
	if err != nil {
		return "", fmt.Errorf("sandbox runtime dir: %w", err)
	}
	return dir, nil
}

// AllowedFromEnv is MCP_JUPYTER_SANDBOX_READ: absolute host paths (separated
// like PATH) the user lets a sandboxed kernel read although they lie in a
// hidden folder (e.g. ~/data).
func AllowedFromEnv() []string {
	var out []string
	for _, p := range filepath.SplitList(os.Getenv("MCP_JUPYTER_SANDBOX_READ")) {
		if filepath.IsAbs(p) {
			out = append(out, filepath.Clean(p))
		}
	}
	return out
}

// Command returns argv rewritten to run in a bubblewrap jail like a kernel's,
// with the project read-only and nothing writable but the jail's own /tmp:
// how anything from the workspace (an interpreter probe, conda activation
// scripts) runs when the kernel is sandboxed.
func Command(argv []string, o Options) ([]string, error) {
	if len(argv) == 0 {
		return nil, errors.New("sandbox: empty command")
	}
	look := o.LookPath
	if look == nil {
		look = exec.LookPath
	}
	bwrap, err := look("bwrap")
	if err != nil {
		return nil, fmt.Errorf("%w: bubblewrap (bwrap) is not installed: install it (apt-get install bubblewrap)", ErrUnavailable)
	}
	o.RuntimeDir = ""
	spec := bubblewrapArgs(bwrap, kernel.LaunchSpec{Argv: argv}, o, false)
	return spec, nil
}

func wrapBubblewrap(bwrap string, spec kernel.LaunchSpec, o Options) kernel.LaunchSpec {
	out := spec
	out.Argv = bubblewrapArgs(bwrap, spec, o, true)
	out.Env = withEnv(spec.Env, sandboxEnv)
	// With its own pid namespace the kernel's parent is the jail's init:
	// ipykernel's parent poller would take that for "orphaned" and exit, and
	// a signal to bwrap does not reach the kernel. --die-with-parent ends the
	// jail with us instead, and interrupts go over the control channel.
	out.InterruptMode = "message"
	return out
}

// bubblewrapArgs is the bwrap command line confining spec.Argv. writable:
// the project (and the runtime dir) are bound read-write.
func bubblewrapArgs(bwrap string, spec kernel.LaunchSpec, o Options, writable bool) []string {
	argv := []string{bwrap,
		// Own user namespace with every capability dropped (root outside stays
		// powerless inside), own pid, ipc and uts namespaces, a new session (no
		// TIOCSTI into our terminal), and the whole jail dies with us.
		"--unshare-user", "--cap-drop", "ALL",
		"--unshare-pid", "--unshare-ipc", "--unshare-uts",
		"--new-session", "--die-with-parent",
		"--unsetenv", "JPY_PARENT_PID",
	}
	if !o.Network {
		argv = append(argv, "--unshare-net")
	}
	argv = append(argv,
		"--ro-bind", "/", "/",
		"--dev", "/dev",
		"--proc", "/proc",
		"--tmpfs", "/tmp",
	)
	masks := maskedDirs(o)
	for _, m := range masks {
		if st, err := os.Stat(m); err == nil && !st.IsDir() {
			argv = append(argv, "--ro-bind", "/dev/null", m)
		} else if err == nil {
			argv = append(argv, "--tmpfs", m)
		}
	}
	// Later mounts win: what the kernel needs from under a hidden folder (its
	// interpreter, its environment, the base Python of a venv, what the user
	// allowed) comes back read-only, then the writable binds go on top.
	rebound := reboundPaths(spec, o, masks)
	for _, p := range rebound {
		argv = append(argv, "--ro-bind", p, p)
	}
	mode := "--ro-bind"
	if writable {
		mode = "--bind"
	}
	if o.ProjectDir != "" {
		argv = append(argv, mode, o.ProjectDir, o.ProjectDir)
	}
	if o.RuntimeDir != "" {
		argv = append(argv, "--bind", o.RuntimeDir, o.RuntimeDir)
	}
	// A secret inside what was bound back (a workspace that is the home
	// folder holds ~/.config/mcp-jupyter) is hidden again.
	for _, m := range secretDirs(o) {
		inside := within(m, o.ProjectDir)
		for _, p := range rebound {
			inside = inside || within(m, p)
		}
		if !inside || within(o.RuntimeDir, m) {
			continue
		}
		if st, err := os.Stat(m); err == nil && !st.IsDir() {
			argv = append(argv, "--ro-bind", "/dev/null", m)
		} else if err == nil {
			argv = append(argv, "--tmpfs", m)
		}
	}
	if spec.Dir != "" {
		argv = append(argv, "--chdir", spec.Dir)
	}
	argv = append(argv, "--")
	return append(argv, spec.Argv...)
}

// secretDirs are the places that hold the user's and the sidecar's secrets:
// the mcp-jupyter config folder (checkpoint key), the attach socket and
// token folders, the kernel runtime dirs, plus what o.Hide names.
func secretDirs(o Options) []string {
	var out []string
	if cfg, err := os.UserConfigDir(); err == nil {
		out = append(out, filepath.Join(cfg, "mcp-jupyter"))
	}
	if k := os.Getenv("MCP_JUPYTER_CHECKPOINT_KEY_FILE"); filepath.IsAbs(k) {
		out = append(out, k)
	}
	if x := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(x) {
		out = append(out, x)
	}
	out = append(out, fmt.Sprintf("/run/user/%d", os.Getuid()))
	for _, h := range o.Hide {
		if filepath.IsAbs(h) {
			out = append(out, filepath.Clean(h))
		}
	}
	return out
}

// maskedDirs are the host folders covered by an empty tmpfs (files: by
// /dev/null) in the jail: the home folder, the XDG base dirs, the runtime
// dirs of every user, the temp dir, and the secrets. Nested ones collapse into
// their parent; /tmp is private anyway.
func maskedDirs(o Options) []string {
	cands := secretDirs(o)
	if h, err := os.UserHomeDir(); err == nil {
		cands = append(cands, h)
	}
	for _, k := range []string{"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"} {
		if v := os.Getenv(k); filepath.IsAbs(v) {
			cands = append(cands, v)
		}
	}
	cands = append(cands, "/run/user", "/root", os.TempDir())
	var out []string
	for _, c := range cands {
		c = filepath.Clean(c)
		if c == "/" || within(c, "/tmp") || within("/usr", c) || within("/etc", c) {
			continue // never mask the system itself
		}
		if _, err := os.Stat(c); err != nil {
			continue
		}
		out = append(out, c)
	}
	return collapse(out)
}

// collapse sorts paths and drops those inside another one of them.
func collapse(paths []string) []string {
	sort.Strings(paths)
	var kept []string
	for _, p := range paths {
		if len(kept) > 0 && within(p, kept[len(kept)-1]) {
			continue
		}
		kept = append(kept, p)
	}
	return kept
}

// reboundPaths lists the host paths the kernel needs that the jail's private
// /tmp or a masked folder would hide: the interpreter's prefix and files
// named in argv, the interpreter a venv's python links to and the venv's
// base prefix (pyvenv.cfg home), VIRTUAL_ENV / CONDA_PREFIX, and what the
// user allowed (o.ReadOnly). A path that would uncover a masked folder itself
// (a prefix that is the home folder) is left out; nested paths collapse.
func reboundPaths(spec kernel.LaunchSpec, o Options, masks []string) []string {
	var cands []string
	for i, a := range spec.Argv {
		if !filepath.IsAbs(a) {
			continue
		}
		if i == 0 {
			// <prefix>/bin/python: the whole prefix (stdlib, site-packages).
			cands = append(cands, filepath.Dir(filepath.Dir(a)))
			if real, err := filepath.EvalSymlinks(a); err == nil && real != a {
				cands = append(cands, real, filepath.Dir(filepath.Dir(real)))
			}
			if home := pyvenvHome(filepath.Dir(filepath.Dir(a))); home != "" {
				cands = append(cands, filepath.Dir(home))
			}
		}
		cands = append(cands, a)
	}
	for _, kv := range spec.Env {
		for _, key := range []string{"VIRTUAL_ENV=", "CONDA_PREFIX="} {
			if v, ok := strings.CutPrefix(kv, key); ok && filepath.IsAbs(v) {
				cands = append(cands, v)
			}
		}
	}
	cands = append(cands, o.ReadOnly...)
	hidden := append([]string{"/tmp"}, masks...)
	var out []string
	for _, c := range cands {
		if !filepath.IsAbs(c) {
			continue
		}
		c = filepath.Clean(c)
		under, uncovers := false, false
		for _, m := range hidden {
			under = under || within(c, m)
			uncovers = uncovers || within(m, c)
		}
		for _, s := range secretDirs(o) {
			uncovers = uncovers || within(s, c)
		}
		if !under || uncovers {
			continue
		}
		if _, err := os.Stat(c); err != nil || (o.ProjectDir != "" && within(c, o.ProjectDir)) || (o.RuntimeDir != "" && within(c, o.RuntimeDir)) {
			continue
		}
		out = append(out, c)
	}
	return collapse(out)
}

// pyvenvHome is the "home" of a venv's pyvenv.cfg (the base interpreter's bin folder).
func pyvenvHome(prefix string) string {
	b, err := os.ReadFile(filepath.Join(prefix, "pyvenv.cfg"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == "home" {
			if v = strings.TrimSpace(v); filepath.IsAbs(v) {
				return filepath.Clean(v)
			}
		}
	}
	return ""
}

// within reports whether p is dir or inside it.
func within(p, dir string) bool {
	if p == "" || dir == "" {
		return false
	}
	return p == dir || dir == "/" || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

func wrapDocker(docker string, spec kernel.LaunchSpec, o Options) kernel.LaunchSpec {
	argv := []string{docker, "run", "--rm", "-i", "--init",
		"-v", o.RuntimeDir + ":" + o.RuntimeDir,
		"-v", o.ProjectDir + ":" + o.ProjectDir,
		"--user", fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()),
	}
	if !o.Network {
		argv = append(argv, "--network", "none")
	}
	if spec.Dir != "" {
		argv = append(argv, "-w", spec.Dir)
	}
	for _, kv := range sandboxEnv {
		argv = append(argv, "-e", kv)
	}
	// The host's python does not exist in the image: run the image's own.
	argv = append(argv, o.Image, "python", "-m", "ipykernel_launcher", "-f", "{connection_file}")
	out := spec
	out.Argv = argv
	// The docker CLI forwards signals unreliably across its client/daemon hop:
	// interrupt through the control channel instead.
	out.InterruptMode = "message"
	return out
}

// withEnv returns env (nil = ours) with overrides replacing same-named entries.
func withEnv(env, overrides []string) []string {
	if env == nil {
		env = os.Environ()
	}
	drop := map[string]bool{}
	for _, kv := range overrides {
		drop[kv[:strings.IndexByte(kv, '=')]] = true
	}
	out := make([]string, 0, len(env)+len(overrides))
	for _, kv := range env {
		if i := strings.IndexByte(kv, '='); i > 0 && drop[kv[:i]] {
			continue
		}
		out = append(out, kv)
	}
	return append(out, overrides...)
}

// Check reports whether sandbox kind k can run here, with an actionable error.
func Check(ctx context.Context, k Kind) error {
	switch k {
	case None:
		return nil
	case Bubblewrap:
		bwrap, err := exec.LookPath("bwrap")
		if err != nil {
			return fmt.Errorf("%w: bubblewrap (bwrap) is not installed: install it (apt-get install bubblewrap)", ErrUnavailable)
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, bwrap, "--ro-bind", "/", "/", "--unshare-net", "true").CombinedOutput(); err != nil {
			return fmt.Errorf("%w: bubblewrap cannot create a sandbox here (%v: %s); user namespaces may be disabled", ErrUnavailable, err, strings.TrimSpace(string(out)))
		}
		return nil
	case Docker:
		docker, err := exec.LookPath("docker")
		if err != nil {
			return fmt.Errorf("%w: docker is not installed", ErrUnavailable)
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, docker, "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
			return fmt.Errorf("%w: the Docker engine is not reachable (%s): start it, or use sandbox \"bubblewrap\"", ErrUnavailable, firstLine(string(out)))
		}
		return nil
	}
	return fmt.Errorf("unknown sandbox kind %q", k)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
