package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
// the jail's private /tmp instead of the (read-only) home folder.
var sandboxEnv = []string{
	"IPYTHONDIR=/tmp/ipython",
	"MPLCONFIGDIR=/tmp/matplotlib",
	"JUPYTER_RUNTIME_DIR=/tmp/jupyter-runtime",
	"HOME=/tmp",
}

func wrapBubblewrap(bwrap string, spec kernel.LaunchSpec, o Options) kernel.LaunchSpec {
	argv := []string{bwrap,
		"--die-with-parent",
		"--ro-bind", "/", "/",
		"--dev", "/dev",
		"--proc", "/proc",
		"--tmpfs", "/tmp",
		"--unshare-ipc", "--unshare-uts",
	}
	if !o.Network {
		argv = append(argv, "--unshare-net")
	}
	// Later mounts win: what the kernel needs from under /tmp (its interpreter,
	// its environment) comes back read-only over the private /tmp, then the
	// writable binds go on top of everything.
	for _, p := range hiddenByTmp(spec, o) {
		argv = append(argv, "--ro-bind", p, p)
	}
	argv = append(argv, "--bind", o.ProjectDir, o.ProjectDir, "--bind", o.RuntimeDir, o.RuntimeDir)
	if spec.Dir != "" {
		argv = append(argv, "--chdir", spec.Dir)
	}
	argv = append(argv, "--")
	out := spec
	out.Argv = append(argv, spec.Argv...)
	out.Env = withEnv(spec.Env, sandboxEnv)
	return out
}

// hiddenByTmp lists the host paths the kernel needs that the jail's private
// /tmp would hide: the interpreter's prefix and files named in argv, and the
// environment's VIRTUAL_ENV / CONDA_PREFIX. Nested paths collapse into their parent.
func hiddenByTmp(spec kernel.LaunchSpec, o Options) []string {
	var cands []string
	for i, a := range spec.Argv {
		if !filepath.IsAbs(a) {
			continue
		}
		if i == 0 {
			// <prefix>/bin/python: the whole prefix (stdlib, site-packages).
			cands = append(cands, filepath.Dir(filepath.Dir(a)))
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
	var out []string
	for _, c := range cands {
		c = filepath.Clean(c)
		if c != "/tmp" && !strings.HasPrefix(c, "/tmp/") {
			continue
		}
		if _, err := os.Stat(c); err != nil || within(c, o.ProjectDir) || within(c, o.RuntimeDir) {
			continue
		}
		out = append(out, c)
	}
	sort.Strings(out)
	var kept []string
	for _, p := range out {
		if len(kept) > 0 && within(p, kept[len(kept)-1]) {
			continue
		}
		kept = append(kept, p)
	}
	return kept
}

// within reports whether p is dir or inside it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
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
