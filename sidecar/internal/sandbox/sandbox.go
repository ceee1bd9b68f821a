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
//
// Dirs a killed sidecar left (it could not remove them) are removed first:
// each dir names its owner (host/pid/start time) in a file "owner".
func RuntimeDir() (string, error) {
	parent := os.TempDir()
	if len(parent) > 40 && runtime.GOOS != "windows" {
		parent = "/tmp"
	}
	reapRuntimeDirs(parent)
	dir, err := os.MkdirTemp(parent, runtimePrefix)
	if err != nil {
		return "", fmt.Errorf("sandbox runtime dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(Owner()), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("sandbox runtime dir: %w", err)
	}
	return dir, nil
}

const runtimePrefix = "mcpj-sandbox-"

// reapRuntimeDirs removes our private runtime dirs whose owning sidecar is
// gone. The owner file is read only when it is a small regular file (the
// jail could have replaced it with a FIFO or a link); RemoveAll does not
// follow links.
func reapRuntimeDirs(parent string) {
	dirs, _ := filepath.Glob(filepath.Join(parent, runtimePrefix+"*"))
	for _, d := range dirs {
		fi, err := os.Lstat(d)
		if err != nil || !fi.IsDir() || !ownedByUs(fi) {
			continue
		}
		of := filepath.Join(d, "owner")
		ofi, err := os.Lstat(of)
		if err != nil || !ofi.Mode().IsRegular() || ofi.Size() > 512 {
			continue
		}
		b, err := os.ReadFile(of)
		if err != nil || ownerAlive(strings.TrimSpace(string(b))) {
			continue
		}
		os.RemoveAll(d)
	}
}

// NetworkFromEnv is MCP_JUPYTER_SANDBOX_NETWORK=1: the user allows sandboxed
// kernels the network (off by default).
func NetworkFromEnv() bool { return os.Getenv("MCP_JUPYTER_SANDBOX_NETWORK") == "1" }

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
	// The masks are read-only too: nothing written there could be mistaken
	// for the host's (the jail's own /tmp stays writable).
	for _, m := range masks {
		if st, err := os.Stat(m); err == nil && st.IsDir() {
			argv = append(argv, "--remount-ro", m)
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
	if os.Getuid() == 0 {
		// Run as root, the jail's uid 0 still owns root's files: hide the
		// well-known root-only secrets (other root-owned files stay readable).
		cands = append(cands, "/etc/shadow", "/etc/gshadow", "/etc/ssh", "/etc/sudoers", "/etc/sudoers.d", "/var/lib/docker")
	}
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

// Container labels: every kernel container carries LabelKernel and
// LabelOwner (host, pid and start time of the sidecar that started it), so a
// later sidecar finds the containers of one that was killed (ReapOrphans).
const (
	LabelKernel = "org.mcp-jupyter.kernel"
	LabelOwner  = "org.mcp-jupyter.owner"
)

// DockerLaunch is the launch of a kernel in a container of image: the
// image's own python3 (Debian and Ubuntu images may have no "python"),
// nothing of the host's Python. Wrap adds the docker run around it.
func DockerLaunch(image, dir string) kernel.LaunchSpec {
	return kernel.LaunchSpec{
		Name:          "docker:" + image,
		DisplayName:   "Python 3 (docker: " + image + ")",
		Language:      "python",
		Argv:          []string{"python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"},
		Env:           hostEnvForDocker(),
		Dir:           dir,
		InterruptMode: "message",
	}
}

// hostEnvForDocker is the docker CLI's environment: ours (DOCKER_HOST,
// DOCKER_CONFIG, …) without the host Python environment's markers, which
// would otherwise be reported as the kernel's environment.
func hostEnvForDocker() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONHOME", "PYTHONPATH", "JPY_PARENT_PID":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Owner is this process's owner label value: host/pid/start time.
func Owner() string {
	host, _ := os.Hostname()
	st, _ := kernel.ProcessStartTime(os.Getpid())
	return fmt.Sprintf("%s/%d/%d", host, os.Getpid(), st)
}

// ownerAlive reports whether the sidecar an owner label names still runs
// (on another host: assumed so, we cannot tell).
func ownerAlive(owner string) bool {
	parts := strings.Split(owner, "/")
	if len(parts) != 3 {
		return false
	}
	if host, _ := os.Hostname(); parts[0] != host {
		return true
	}
	var pid int
	var st uint64
	if _, err := fmt.Sscan(parts[1], &pid); err != nil {
		return false
	}
	if _, err := fmt.Sscan(parts[2], &st); err != nil {
		return false
	}
	if !kernel.ProcessRunning(pid) {
		return false
	}
	now, err := kernel.ProcessStartTime(pid)
	return err == nil && now == st
}

func wrapDocker(docker string, spec kernel.LaunchSpec, o Options) kernel.LaunchSpec {
	argv := []string{docker, "run", "--rm", "-i", "--init",
		"--name", "mcp-jupyter-" + filepath.Base(o.RuntimeDir),
		"--label", LabelKernel + "=1",
		"--label", LabelOwner + "=" + Owner(),
		"--cidfile", filepath.Join(o.RuntimeDir, "container.id"),
		"--cap-drop", "ALL", "--security-opt", "no-new-privileges",
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
	inner := spec.Argv
	if len(inner) == 0 || filepath.IsAbs(inner[0]) {
		inner = []string{"python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"}
	}
	argv = append(argv, o.Image)
	argv = append(argv, inner...)
	out := spec
	out.Argv = argv
	// The docker CLI forwards signals unreliably across its client/daemon hop:
	// interrupt through the control channel instead.
	out.InterruptMode = "message"
	return out
}

// ReapOrphans removes the kernel containers whose sidecar is gone (killed
// before it could stop them); their `docker run` clients exit with them.
// It returns how many it removed.
func ReapOrphans(ctx context.Context) (int, error) {
	docker, err := exec.LookPath("docker")
	if err != nil {
		return 0, fmt.Errorf("%w: docker is not installed", ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, docker, "ps", "-a", "--filter", "label="+LabelKernel+"=1",
		"--format", "{{.ID}} {{.Label \""+LabelOwner+"\"}}").Output()
	if err != nil {
		return 0, fmt.Errorf("list kernel containers: %w", err)
	}
	var orphans []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		id, owner, _ := strings.Cut(strings.TrimSpace(line), " ")
		if id == "" || ownerAlive(owner) {
			continue
		}
		orphans = append(orphans, id)
	}
	if len(orphans) == 0 {
		return 0, nil
	}
	if b, err := exec.CommandContext(ctx, docker, append([]string{"rm", "-f"}, orphans...)...).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("remove orphaned kernel containers: %v: %s", err, firstLine(string(b)))
	}
	return len(orphans), nil
}

// CheckImage fails with a clear error when image is not on the engine
// (docker run would try a registry, which may be unreachable).
func CheckImage(ctx context.Context, image string) error {
	docker, err := exec.LookPath("docker")
	if err != nil {
		return fmt.Errorf("%w: docker is not installed", ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if b, err := exec.CommandContext(ctx, docker, "image", "inspect", "--format", "{{.Id}}", image).CombinedOutput(); err != nil {
		return fmt.Errorf("docker image %q is not on this Docker engine (%s): pull or build it first (docker pull %s); it needs python3 with ipykernel", image, firstLine(string(b)), image)
	}
	return nil
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
		// The namespaces and mounts a kernel's jail uses, so a host that
		// refuses them (user namespaces disabled) fails here, clearly.
		probe := []string{"--unshare-user", "--cap-drop", "ALL", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net",
			"--new-session", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "true"}
		if out, err := exec.CommandContext(ctx, bwrap, probe...).CombinedOutput(); err != nil {
			return fmt.Errorf("%w: bubblewrap cannot create a sandbox here (%v: %s); user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone, or an AppArmor profile restricting them)", ErrUnavailable, err, strings.TrimSpace(string(out)))
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

// Description says what a (possibly wrapped) launch runs, for kernel info.
type Description struct {
	Kind Kind
	// Executable is the kernel's interpreter: argv[0] inside the jail, or
	// the image's python3 for a container ("python3 (image IMAGE)").
	Executable string
	// Environment is the activated environment prefix (VIRTUAL_ENV or
	// CONDA_PREFIX), or "docker:IMAGE" for a container.
	Environment string
}

// Describe tells what spec runs: unwrapped, in bubblewrap, or in Docker.
func Describe(spec kernel.LaunchSpec) Description {
	var d Description
	if len(spec.Argv) == 0 {
		return d
	}
	d.Executable = spec.Argv[0]
	switch filepath.Base(spec.Argv[0]) {
	case "bwrap":
		d.Kind = Bubblewrap
		for i, a := range spec.Argv {
			if a == "--" && i+1 < len(spec.Argv) {
				d.Executable = spec.Argv[i+1]
				break
			}
		}
	case "docker":
		d.Kind = Docker
		if image, ok := strings.CutPrefix(spec.Name, "docker:"); ok {
			d.Environment = "docker:" + image
			for i, a := range spec.Argv {
				if a == image && i+1 < len(spec.Argv) {
					d.Executable = spec.Argv[i+1] + " (image " + image + ")"
					break
				}
			}
		}
		return d
	}
	for _, kv := range spec.Env {
		if v, ok := strings.CutPrefix(kv, "VIRTUAL_ENV="); ok && d.Environment == "" {
			d.Environment = v
		} else if v, ok := strings.CutPrefix(kv, "CONDA_PREFIX="); ok {
			d.Environment = v
		}
	}
	return d
}
