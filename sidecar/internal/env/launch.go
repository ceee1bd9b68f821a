package env

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel/kernelspec"
)

// kernelArgs runs ipykernel the way its own kernelspec does.
var kernelArgs = []string{"-m", "ipykernel_launcher", "-f", "{connection_file}"}

// InstallCommand is the exact command that puts ipykernel into e.
func (e Environment) InstallCommand() string {
	return quoteArg(e.Python) + " -m pip install ipykernel"
}

// LaunchSpec builds the launch of an ipykernel inside e, with dir as the
// kernel's working directory. It fails with a *NoIPyKernelError when the
// environment lacks ipykernel.
func (e Environment) LaunchSpec(ctx context.Context, dir string) (kernel.LaunchSpec, error) {
	return defaultFinder.LaunchSpec(ctx, e, dir)
}

// LaunchSpec: see Environment.LaunchSpec.
func (f *Finder) LaunchSpec(ctx context.Context, e Environment, dir string) (kernel.LaunchSpec, error) {
	if !e.HasIPyKernel {
		return kernel.LaunchSpec{}, &NoIPyKernelError{Env: e, Command: e.InstallCommand()}
	}
	spec := kernel.LaunchSpec{
		Name:          e.Kind + ":" + e.Prefix,
		DisplayName:   displayName(e),
		Language:      "python",
		Dir:           dir,
		InterruptMode: "signal",
	}
	switch e.Kind {
	case KindVenv:
		spec.Argv = append([]string{e.Python}, kernelArgs...)
		spec.Env = venvEnviron(os.Environ(), e.Prefix)
	case KindConda:
		if e.Conda != "" {
			// conda run activates the env itself (activate.d scripts included);
			// --no-capture-output keeps the kernel's stdout/stderr streaming.
			spec.Argv = append([]string{e.Conda, "run", "-p", e.Prefix, "--no-capture-output", "python"}, kernelArgs...)
			spec.Env = withoutKeys(os.Environ(), "PYTHONHOME", "VIRTUAL_ENV")
			// The process we start is conda, not the kernel: a SIGINT to it may
			// end `conda run` itself, so interrupt through the control channel.
			spec.InterruptMode = "message"
		} else {
			environ, err := f.CaptureActivation(ctx, e.Prefix, os.Environ())
			if err != nil {
				return kernel.LaunchSpec{}, fmt.Errorf("launch in conda env %q: %w", e.Name, err)
			}
			spec.Argv = append([]string{pythonIn(e.Prefix)}, kernelArgs...)
			if spec.Argv[0] == "" {
				spec.Argv[0] = e.Python
			}
			spec.Env = environ
		}
	default:
		spec.Argv = append([]string{e.Python}, kernelArgs...)
	}
	return spec, nil
}

func displayName(e Environment) string {
	v := e.Version
	if v != "" {
		v = " " + v
	}
	switch e.Kind {
	case KindSystem:
		return "Python" + v + " (system)"
	default:
		return fmt.Sprintf("Python%s (%s: %s)", v, e.Kind, e.Name)
	}
}

// venvEnviron is what `source bin/activate` does: VIRTUAL_ENV set, the venv's
// bin first on PATH, PYTHONHOME unset.
func venvEnviron(base []string, prefix string) []string {
	out := withoutKeys(base, "PYTHONHOME", "VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT")
	out = append(out, "VIRTUAL_ENV="+prefix)
	return setKey(out, "PATH", prependPath(binDir(prefix), getKey(base, "PATH")))
}

func binDir(prefix string) string {
	if runtime.GOOS == "windows" {
		return filepath.Join(prefix, "Scripts")
	}
	return filepath.Join(prefix, "bin")
}

func prependPath(dir, path string) string {
	if path == "" {
		return dir
	}
	return dir + string(os.PathListSeparator) + path
}

// activationScript reproduces `conda activate PREFIX` without conda: the
// variables activate sets, the env's env_vars (conda-meta/state), then every
// etc/conda/activate.d/*.sh sourced in name order. The scripts' own output goes
// to stderr; the resulting environment is written NUL-separated to fd 3.
const activationScript = `exec 1>&2
prefix=$1
unset PYTHONHOME VIRTUAL_ENV
export CONDA_PREFIX="$prefix"
export CONDA_DEFAULT_ENV="$2"
export CONDA_SHLVL=1
export CONDA_PROMPT_MODIFIER="($2) "
export PATH="$prefix/bin${PATH:+:$PATH}"
for f in "$prefix"/etc/conda/activate.d/*.sh; do
  [ -f "$f" ] && . "$f"
done
env -0 >&3
`

// CaptureActivation runs the conda env's activation through bash once and
// returns the environment it produces (base is the environment to start
// from). Used when no conda executable exists to `conda run` with.
func (f *Finder) CaptureActivation(ctx context.Context, prefix string, base []string) ([]string, error) {
	bash, err := lookPath("bash", f.getenv("PATH"))
	if err != nil {
		bash, err = exec.LookPath("bash")
	}
	if err != nil {
		return nil, fmt.Errorf("capture activation of %s: bash not found: %w", prefix, err)
	}
	vars, err := condaStateVars(prefix)
	if err != nil {
		return nil, fmt.Errorf("capture activation of %s: %w", prefix, err)
	}
	ctx, cancel := context.WithTimeout(ctx, f.probeTimeout())
	defer cancel()
	cmd, err := f.command(ctx, bash, "--noprofile", "--norc", "-c", activationScript, "activate", prefix, condaName(prefix))
	if err != nil {
		return nil, fmt.Errorf("capture activation of %s: %w", prefix, err)
	}
	cmd.Env = base
	for _, k := range sortedKeys(vars) {
		cmd.Env = setKey(cmd.Env, k, vars[k])
	}
	cmd.Dir = prefix
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// fd 3 is the pipe the environment comes back on, so script chatter on stdout cannot corrupt it.
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("capture activation of %s: %w", prefix, err)
	}
	w.Close()
	var captured bytes.Buffer
	_, copyErr := captured.ReadFrom(r)
	r.Close()
	if err := cmd.Wait(); err != nil {
		msg := strings.TrimSpace(lastLine(stderr.String() + stdout.String()))
		if ctx.Err() != nil {
			msg = "timed out after " + f.probeTimeout().String()
		}
		return nil, fmt.Errorf("capture activation of %s: activation scripts failed (%v): %s", prefix, err, msg)
	}
	if copyErr != nil {
		return nil, fmt.Errorf("capture activation of %s: %w", prefix, copyErr)
	}
	var out []string
	for _, kv := range strings.Split(captured.String(), "\x00") {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		switch k {
		case "_", "SHLVL", "PWD", "OLDPWD":
			continue // bash's own bookkeeping, not the env's
		}
		out = append(out, kv)
	}
	if getKey(out, "CONDA_PREFIX") != prefix {
		return nil, errors.New("capture activation of " + prefix + ": an activate.d script changed CONDA_PREFIX or the capture was incomplete")
	}
	return out, nil
}

// condaStateVars reads the variables `conda env config vars set` stores in
// conda-meta/state; conda activate exports them.
func condaStateVars(prefix string) (map[string]string, error) {
	data, err := os.ReadFile(filepath.Join(prefix, "conda-meta", "state"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st struct {
		EnvVars map[string]string `json:"env_vars"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(prefix, "conda-meta", "state"), err)
	}
	return st.EnvVars, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// KernelspecLaunch turns a kernelspec into a launch: its argv as written
// ({connection_file}/{resource_dir} left for kernel.Start), and its env stanza
// expanded against and merged into our environment like jupyter_client does.
func KernelspecLaunch(spec kernelspec.Spec, dir string) kernel.LaunchSpec {
	ls := kernel.LaunchSpec{
		Name:          spec.Name,
		DisplayName:   spec.DisplayName,
		Language:      spec.Language,
		Argv:          append([]string(nil), spec.Argv...),
		Dir:           dir,
		InterruptMode: spec.InterruptMode,
		ResourceDir:   spec.ResourceDir,
	}
	if ls.InterruptMode == "" {
		ls.InterruptMode = "signal"
	}
	if len(spec.Env) > 0 {
		ls.Env = kernelspec.Environ(os.Environ(), spec.Env)
	}
	return ls
}

func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"'$`\\!*?;&|<>()[]{}#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// barePython matches the argv[0] jupyter_client replaces with sys.executable.
var barePython = regexp.MustCompile(`^python(\d(\.\d+)?)?$`)

// KernelspecLaunchIn runs a kernelspec inside e: e's activation (what
// LaunchSpec would set up) with the spec's env stanza expanded on top, and a
// bare "python"/"python3"/"python3.X" argv[0] replaced by e's interpreter, as
// jupyter_client does with sys.executable when it runs from that environment.
func (e Environment) KernelspecLaunchIn(ctx context.Context, spec kernelspec.Spec, dir string) (kernel.LaunchSpec, error) {
	return defaultFinder.KernelspecLaunchIn(ctx, e, spec, dir)
}

// KernelspecLaunchIn: see Environment.KernelspecLaunchIn.
func (f *Finder) KernelspecLaunchIn(ctx context.Context, e Environment, spec kernelspec.Spec, dir string) (kernel.LaunchSpec, error) {
	ls := KernelspecLaunch(spec, dir)
	argv := append([]string(nil), spec.Argv...)
	if barePython.MatchString(argv[0]) {
		argv[0] = e.Python
	} else if !strings.ContainsAny(argv[0], `/\`) && e.Prefix != "" {
		// A console script of the environment (xpython, deno): activation puts
		// its bin first on the kernel's PATH, but the launch looks argv[0] up
		// on the sidecar's own PATH, so name the environment's program here.
		if p, err := lookPath(argv[0], binDir(e.Prefix)); err == nil {
			argv[0] = p
		}
	}
	base := os.Environ()
	switch e.Kind {
	case KindVenv:
		base = venvEnviron(base, e.Prefix)
	case KindConda:
		if e.Conda != "" {
			argv = append([]string{e.Conda, "run", "-p", e.Prefix, "--no-capture-output"}, argv...)
			base = withoutKeys(base, "PYTHONHOME", "VIRTUAL_ENV")
			ls.InterruptMode = "message" // see LaunchSpec: SIGINT would reach conda, not the kernel
		} else {
			captured, err := f.CaptureActivation(ctx, e.Prefix, base)
			if err != nil {
				return kernel.LaunchSpec{}, fmt.Errorf("launch kernelspec %q in conda env %q: %w", spec.Name, e.Name, err)
			}
			base = captured
		}
	}
	ls.Argv = argv
	ls.Env = kernelspec.Environ(base, spec.Env)
	return ls, nil
}
