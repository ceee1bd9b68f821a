package env

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Kinds of environment.
const (
	KindVenv   = "venv"
	KindConda  = "conda"
	KindSystem = "system"
)

// Environment is one Python installation a kernel can run in.
type Environment struct {
	Kind         string // venv | conda | system
	Name         string // folder name (conda: env name, "base" for a root install)
	Prefix       string // sys.prefix
	Python       string // the interpreter, not symlink-resolved (a venv's bin/python)
	Version      string // platform.python_version(), e.g. "3.12.3"
	HasIPyKernel bool
	// Conda is the conda (or mamba) executable that launches a conda env with
	// `conda run`; empty means the activation is captured instead.
	Conda string
}

var (
	// ErrNoIPyKernel: the environment has no ipykernel; the error text carries the install command.
	ErrNoIPyKernel = errors.New("ipykernel is not installed")
	// ErrNotEnvironment: the path is neither an environment prefix nor a Python interpreter.
	ErrNotEnvironment = errors.New("not a Python environment")
	// ErrProbe: running the environment's python to inspect it failed.
	ErrProbe = errors.New("python probe failed")
)

// NoIPyKernelError names the environment and the command that fixes it.
type NoIPyKernelError struct {
	Env     Environment
	Command string // e.g. "/p/.venv/bin/python -m pip install ipykernel"
}

func (e *NoIPyKernelError) Error() string {
	return fmt.Sprintf("%s environment %q at %s has no ipykernel: install it with `%s`", e.Env.Kind, e.Env.Name, e.Env.Prefix, e.Command)
}

func (e *NoIPyKernelError) Unwrap() error { return ErrNoIPyKernel }

// Finder holds what discovery reads from the outside world, so tests can fake it.
// The zero value uses the real process environment.
type Finder struct {
	Getenv       func(string) string // nil: os.Getenv
	HomeDir      string              // empty: os.UserHomeDir
	ProbeTimeout time.Duration       // per python probe; 0: 20 s
	Logger       *slog.Logger        // nil: slog.Default()
	// Conda overrides the conda executable; empty: $CONDA_EXE, then conda,
	// mamba, micromamba on PATH. "-" means: act as if no conda exists.
	Conda string
	// Jail, when set, rewrites every command the Finder runs (interpreter
	// probes, conda activation scripts) to run confined, e.g. inside the
	// bubblewrap sandbox the kernel will run in. Workspace environments are
	// never run by Discover at all (see inspectStatic).
	Jail func(argv []string) ([]string, error)
}

// command builds the exec.Cmd for argv, through Jail when one is set.
func (f *Finder) command(ctx context.Context, argv ...string) (*exec.Cmd, error) {
	if f.Jail != nil {
		jailed, err := f.Jail(argv)
		if err != nil {
			return nil, err
		}
		argv = jailed
	}
	return exec.CommandContext(ctx, argv[0], argv[1:]...), nil
}

func (f *Finder) getenv(k string) string {
	if f.Getenv != nil {
		return f.Getenv(k)
	}
	return os.Getenv(k)
}

func (f *Finder) home() string {
	if f.HomeDir != "" {
		return f.HomeDir
	}
	h, _ := os.UserHomeDir()
	return h
}

func (f *Finder) log() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.Default()
}

// condaExe finds the conda executable, or "" when there is none.
func (f *Finder) condaExe() string {
	if f.Conda == "-" {
		return ""
	}
	if f.Conda != "" {
		return f.Conda
	}
	if c := f.getenv("CONDA_EXE"); c != "" {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c
		}
	}
	for _, name := range []string{"conda", "mamba", "micromamba"} {
		if p, err := lookPath(name, f.getenv("PATH")); err == nil {
			return p
		}
	}
	return ""
}

// lookPath is exec.LookPath over an explicit PATH value.
func lookPath(name, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if runtime.GOOS == "windows" {
			p += ".exe"
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() && (runtime.GOOS == "windows" || st.Mode()&0o111 != 0) {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

var defaultFinder = &Finder{}

// Discover lists the environments of the workspace roots, the conda envs this
// user has, and the system python3, each probed once. Order: workspace envs,
// conda envs, system. Unusable candidates are logged and left out.
func Discover(ctx context.Context, workspaceRoots []string) ([]Environment, error) {
	return defaultFinder.Discover(ctx, workspaceRoots)
}

// Resolve inspects one environment named by its prefix or its python executable.
func Resolve(ctx context.Context, path string) (Environment, error) {
	return defaultFinder.Resolve(ctx, path)
}

// candidate is a python to probe, with what we already know about it.
type candidate struct {
	kind, name, prefix, python string
	// workspace: the candidate lives in a workspace folder (a cloned
	// repository may plant any "python" there), so it is inspected from its
	// files, never run.
	workspace bool
}

// Discover: see the package-level Discover.
func (f *Finder) Discover(ctx context.Context, workspaceRoots []string) ([]Environment, error) {
	var cands []candidate
	for _, root := range workspaceRoots {
		cands = append(cands, workspaceCandidates(root)...)
	}
	cands = append(cands, f.condaCandidates(ctx)...)
	if py := f.systemPython(); py != "" {
		cands = append(cands, candidate{kind: KindSystem, name: "system", python: py})
	}
	// A conda env or PATH's python3 inside a workspace folder (an activated
	// terminal puts .venv/bin first on PATH) is the workspace's too.
	for i := range cands {
		for _, root := range workspaceRoots {
			if inWorkspace(cands[i].python, root) || (cands[i].prefix != "" && inWorkspace(cands[i].prefix, root)) {
				cands[i].workspace = true
			}
		}
	}

	// Same prefix found twice (e.g. CONDA_PREFIX and environments.txt): keep the first.
	seen := map[string]bool{}
	var uniq []candidate
	for _, c := range cands {
		key := c.python
		if c.prefix != "" {
			key = realpath(c.prefix)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		uniq = append(uniq, c)
	}

	envs := make([]*Environment, len(uniq))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, c := range uniq {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if c.workspace {
				e, err := f.inspectStatic(c)
				if err != nil {
					f.log().Info("skipping python environment", "prefix", c.prefix, "python", c.python, "err", err)
					return
				}
				envs[i] = &e
				return
			}
			e, err := f.probeCandidate(ctx, c)
			if err != nil {
				f.log().Info("skipping python environment", "prefix", c.prefix, "python", c.python, "err", err)
				return
			}
			envs[i] = &e
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("discover environments: %w", err)
	}
	var out []Environment
	seenPrefix := map[string]bool{}
	for _, e := range envs {
		if e == nil {
			continue
		}
		// The system python3 may turn out to live in an env already listed.
		key := realpath(e.Prefix)
		if seenPrefix[key] {
			continue
		}
		seenPrefix[key] = true
		out = append(out, *e)
	}
	return out, nil
}

// workspaceCandidates: root/.venv, root/venv, root/env, and any direct
// subfolder that is a venv (pyvenv.cfg) or a conda env (conda-meta/).
func workspaceCandidates(root string) []candidate {
	var out []candidate
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	preferred := map[string]int{".venv": 0, "venv": 1, "env": 2}
	sort.SliceStable(entries, func(i, j int) bool {
		pi, iok := preferred[entries[i].Name()]
		pj, jok := preferred[entries[j].Name()]
		if iok != jok {
			return iok
		}
		return iok && pi < pj
	})
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		kind := prefixKind(dir)
		if kind == "" {
			if _, named := preferred[e.Name()]; !named || pythonIn(dir) == "" {
				continue
			}
			kind = KindVenv // a venv without pyvenv.cfg (virtualenv < 20)
		}
		py := pythonIn(dir)
		if py == "" {
			continue
		}
		out = append(out, candidate{kind: kind, name: e.Name(), prefix: dir, python: py, workspace: true})
	}
	return out
}

// prefixKind says what a directory is by its markers; "" when neither.
func prefixKind(dir string) string {
	if st, err := os.Stat(filepath.Join(dir, "conda-meta")); err == nil && st.IsDir() {
		return KindConda
	}
	if st, err := os.Stat(filepath.Join(dir, "pyvenv.cfg")); err == nil && !st.IsDir() {
		return KindVenv
	}
	return ""
}

// pythonIn finds the interpreter of a prefix without resolving symlinks (a
// venv's python is a symlink to the base interpreter, but running it through
// the link is what makes it the venv).
func pythonIn(prefix string) string {
	var names []string
	if runtime.GOOS == "windows" {
		names = []string{"python.exe", filepath.Join("Scripts", "python.exe")}
	} else {
		names = []string{filepath.Join("bin", "python"), filepath.Join("bin", "python3")}
	}
	for _, n := range names {
		p := filepath.Join(prefix, n)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

func (f *Finder) condaCandidates(ctx context.Context) []candidate {
	var prefixes []string
	if exe := f.condaExe(); exe != "" {
		prefixes = append(prefixes, f.condaEnvList(ctx, exe)...)
	}
	if cp := f.getenv("CONDA_PREFIX"); cp != "" {
		prefixes = append(prefixes, cp)
	}
	home := f.home()
	if home != "" {
		prefixes = append(prefixes, readLines(filepath.Join(home, ".conda", "environments.txt"))...)
		for _, root := range []string{"miniconda3", "anaconda3", "miniforge3", "mambaforge", "micromamba", ".conda"} {
			r := filepath.Join(home, root)
			prefixes = append(prefixes, r)
			prefixes = append(prefixes, subdirs(filepath.Join(r, "envs"))...)
		}
	}
	prefixes = append(prefixes, "/opt/conda")
	prefixes = append(prefixes, subdirs("/opt/conda/envs")...)

	var out []candidate
	for _, p := range prefixes {
		if prefixKind(p) != KindConda {
			continue
		}
		py := pythonIn(p)
		if py == "" {
			continue // an env without python (e.g. an R-only env) cannot run ipykernel
		}
		out = append(out, candidate{kind: KindConda, name: condaName(p), prefix: p, python: py})
	}
	return out
}

// condaEnvList runs `conda env list --json` ({"envs": [prefix, ...]}).
func (f *Finder) condaEnvList(ctx context.Context, exe string) []string {
	ctx, cancel := context.WithTimeout(ctx, f.probeTimeout())
	defer cancel()
	out, err := exec.CommandContext(ctx, exe, "env", "list", "--json").Output()
	if err != nil {
		f.log().Info("conda env list failed", "conda", exe, "err", err)
		return nil
	}
	var v struct {
		Envs []string `json:"envs"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		f.log().Info("conda env list: unexpected output", "conda", exe, "err", err)
		return nil
	}
	return v.Envs
}

// condaName is the env's name: its folder, or "base" for a root install
// (the prefix holding envs/ or condabin/).
func condaName(prefix string) string {
	for _, marker := range []string{"condabin", "envs"} {
		if st, err := os.Stat(filepath.Join(prefix, marker)); err == nil && st.IsDir() {
			return "base"
		}
	}
	return filepath.Base(prefix)
}

func readLines(path string) []string {
	fh, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func subdirs(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

func (f *Finder) systemPython() string {
	for _, n := range []string{"python3", "python"} {
		if p, err := lookPath(n, f.getenv("PATH")); err == nil {
			return p
		}
	}
	return ""
}

func realpath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return filepath.Clean(p)
}

func (f *Finder) probeTimeout() time.Duration {
	if f.ProbeTimeout > 0 {
		return f.ProbeTimeout
	}
	return 20 * time.Second
}

// Resolve: see the package-level Resolve.
func (f *Finder) Resolve(ctx context.Context, path string) (Environment, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Environment{}, fmt.Errorf("resolve environment %q: %w", path, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return Environment{}, fmt.Errorf("resolve environment %q: %w", path, err)
	}
	var c candidate
	if st.IsDir() {
		py := pythonIn(abs)
		if py == "" {
			return Environment{}, fmt.Errorf("resolve environment %q: no bin/python in it: %w", path, ErrNotEnvironment)
		}
		if prefixKind(abs) == "" && !pythonName(py) {
			return Environment{}, fmt.Errorf("resolve environment %q: no pyvenv.cfg or conda-meta, and its bin/python is not a Python interpreter: %w", path, ErrNotEnvironment)
		}
		c = candidate{kind: prefixKind(abs), name: filepath.Base(abs), prefix: abs, python: py}
		if c.kind == "" {
			c.kind = KindSystem
		}
		if c.kind == KindConda {
			c.name = condaName(abs)
		}
	} else {
		if st.Mode()&0o111 == 0 && runtime.GOOS != "windows" {
			return Environment{}, fmt.Errorf("resolve environment %q: not an executable: %w", path, ErrNotEnvironment)
		}
		// Only an interpreter is ever run to probe it: /bin/sh or any other
		// program passed as venv_path is refused before it is executed.
		if !pythonName(abs) {
			return Environment{}, fmt.Errorf("resolve environment %q: not a Python interpreter (pass an environment folder with pyvenv.cfg or conda-meta, or its python executable): %w", path, ErrNotEnvironment)
		}
		// A python inside an env (prefix/bin/python): the env is the grandparent.
		c = candidate{python: abs}
		if pfx := filepath.Dir(filepath.Dir(abs)); prefixKind(pfx) != "" {
			c.prefix, c.kind, c.name = pfx, prefixKind(pfx), filepath.Base(pfx)
			if c.kind == KindConda {
				c.name = condaName(pfx)
			}
		}
	}
	e, err := f.probeCandidate(ctx, c)
	if err != nil {
		return Environment{}, fmt.Errorf("resolve environment %q: %w", path, err)
	}
	return e, nil
}

// probeScript prints what we need to know about an interpreter as one JSON line.
const probeScript = `import json, platform, sys, importlib.util
print(json.dumps({"version": platform.python_version(), "prefix": sys.prefix, "base_prefix": getattr(sys, "base_prefix", sys.prefix), "ipykernel": importlib.util.find_spec("ipykernel") is not None, "executable": sys.executable}))`

type probeResult struct {
	Version    string `json:"version"`
	Prefix     string `json:"prefix"`
	BasePrefix string `json:"base_prefix"`
	IPyKernel  bool   `json:"ipykernel"`
	Executable string `json:"executable"`
}

func (f *Finder) probeCandidate(ctx context.Context, c candidate) (Environment, error) {
	ctx, cancel := context.WithTimeout(ctx, f.probeTimeout())
	defer cancel()
	cmd, err := f.command(ctx, c.python, "-c", probeScript)
	if err != nil {
		return Environment{}, fmt.Errorf("probe %s: %w", c.python, err)
	}
	// Probe the interpreter as it is, not as our own environment bends it.
	cmd.Env = withoutKeys(os.Environ(), "PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV")
	cmd.WaitDelay = time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return Environment{}, fmt.Errorf("run %s: no answer within %s: %w", c.python, f.probeTimeout(), ErrProbe)
		}
		return Environment{}, fmt.Errorf("run %s: %v: %s: %w", c.python, err, strings.TrimSpace(lastLine(stderr.String())), ErrProbe)
	}
	var pr probeResult
	if err := json.Unmarshal([]byte(lastLine(string(out))), &pr); err != nil {
		return Environment{}, fmt.Errorf("run %s: unexpected output %q: %w", c.python, out, ErrProbe)
	}
	e := Environment{Kind: c.kind, Name: c.name, Prefix: c.prefix, Python: c.python, Version: pr.Version, HasIPyKernel: pr.IPyKernel}
	if e.Prefix == "" {
		e.Prefix = pr.Prefix
		// A python named directly (e.g. /usr/bin/python3 or an env's python via PATH).
		switch {
		case prefixKind(pr.Prefix) == KindConda:
			e.Kind, e.Name = KindConda, condaName(pr.Prefix)
		case pr.Prefix != pr.BasePrefix || prefixKind(pr.Prefix) == KindVenv:
			e.Kind, e.Name = KindVenv, filepath.Base(pr.Prefix)
		default:
			e.Kind, e.Name = KindSystem, "system"
			// PATH's python3 may be a launcher shim (pyenv) whose choice depends
			// on the working directory: pin the interpreter it resolved to.
			if pr.Executable != "" {
				e.Python = pr.Executable
			}
		}
	}
	if e.Kind == KindConda {
		e.Conda = f.condaExe()
	}
	return e, nil
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\r\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func withoutKeys(environ []string, keys ...string) []string {
	out := make([]string, 0, len(environ))
next:
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		for _, drop := range keys {
			if k == drop {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

func setKey(environ []string, key, value string) []string {
	return append(withoutKeys(environ, key), key+"="+value)
}

func getKey(environ []string, key string) string {
	for i := len(environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(environ[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

var pythonNameRE = regexp.MustCompile(`^python(\d+(\.\d+)*)?[tw]?(\.exe)?$`)

// pythonName reports whether p, and what it links to, are named like a
// Python interpreter (python, python3, python3.12, python3.13t, python.exe).
func pythonName(p string) bool {
	if !pythonNameRE.MatchString(strings.ToLower(filepath.Base(p))) {
		return false
	}
	real, err := filepath.EvalSymlinks(p)
	return err == nil && pythonNameRE.MatchString(strings.ToLower(filepath.Base(real)))
}
