package kernelspec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
)

// Spec is one kernelspec: the parsed kernel.json plus where it was found.
type Spec struct {
	Name          string // directory name, lowercased (Jupyter's kernel name)
	ResourceDir   string // the directory holding kernel.json (argv's {resource_dir})
	DisplayName   string
	Language      string
	InterruptMode string // "signal" (default) or "message"
	Argv          []string
	Env           map[string]string // raw values; expand with ExpandEnv at launch
	Metadata      json.RawMessage   // nil when absent
}

// SearchOptions tune the search path. The zero value searches like a Jupyter
// installed outside any environment, reading the process environment.
type SearchOptions struct {
	// ExtraPrefixes are environment prefixes (a venv's or conda env's sys.prefix)
	// whose share/jupyter is searched between the user and the system dirs.
	ExtraPrefixes []string
	// Getenv reads environment variables; nil means os.Getenv.
	Getenv func(string) string
	// GOOS selects the per-OS paths; empty means runtime.GOOS.
	GOOS string
	// HomeDir overrides the user's home; empty means os.UserHomeDir.
	HomeDir string
	// Logger receives a warning per malformed spec skipped by List; nil = slog.Default().
	Logger *slog.Logger
}

var (
	// ErrNotFound: no kernelspec with that name on the search path.
	ErrNotFound = errors.New("no such kernelspec")
	// ErrMalformed: a kernel.json exists but cannot be used.
	ErrMalformed = errors.New("malformed kernelspec")
)

// SpecError says which kernelspec is broken, where, and why.
type SpecError struct {
	Name string
	Path string // the kernel.json
	Err  error
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("kernelspec %q (%s): %v", e.Name, e.Path, e.Err)
}

func (e *SpecError) Unwrap() []error { return []error{ErrMalformed, e.Err} }

// Result is everything one scan found: usable specs sorted by name, and the
// malformed ones that were skipped.
type Result struct {
	Specs     []Spec
	Malformed []*SpecError
}

// Scan walks the search path once. Errors reading a directory (missing,
// permission denied) are ignored like Jupyter does; broken kernel.json files
// are collected in Result.Malformed.
func Scan(opts SearchOptions) Result {
	var res Result
	for name, dir := range findDirs(opts) {
		spec, err := load(name, dir)
		if err != nil {
			var se *SpecError
			if errors.As(err, &se) {
				res.Malformed = append(res.Malformed, se)
			}
			continue
		}
		res.Specs = append(res.Specs, spec)
	}
	sort.Slice(res.Specs, func(i, j int) bool { return res.Specs[i].Name < res.Specs[j].Name })
	sort.Slice(res.Malformed, func(i, j int) bool { return res.Malformed[i].Name < res.Malformed[j].Name })
	return res
}

// List returns every usable kernelspec, sorted by name. Malformed ones are
// logged (name, path, reason) and skipped; the error is reserved for failures
// that make the whole listing meaningless (none today).
func List(opts SearchOptions) ([]Spec, error) {
	res := Scan(opts)
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	for _, m := range res.Malformed {
		log.Warn("skipping malformed kernelspec", "name", m.Name, "path", m.Path, "err", m.Err)
	}
	return res.Specs, nil
}

// Find returns the kernelspec called name (case-insensitive). Like
// jupyter_client, the first directory on the search path holding that name
// wins, even when its kernel.json turns out to be broken: the error then says
// which file and why rather than silently using a spec further down the path.
func Find(name string, opts SearchOptions) (Spec, error) {
	key := strings.ToLower(name)
	for _, kdir := range KernelDirs(opts) {
		entries, err := os.ReadDir(kdir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if strings.ToLower(e.Name()) != key {
				continue
			}
			dir := filepath.Join(kdir, e.Name())
			if !isKernelDir(dir) {
				continue
			}
			return load(key, dir)
		}
	}
	return Spec{}, fmt.Errorf("find kernelspec %q (searched %s): %w", name, strings.Join(KernelDirs(opts), string(os.PathListSeparator)), ErrNotFound)
}

// findDirs maps each lowercased kernel name to the first directory holding it.
func findDirs(opts SearchOptions) map[string]string {
	found := map[string]string{}
	for _, kdir := range KernelDirs(opts) {
		entries, err := os.ReadDir(kdir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			dir := filepath.Join(kdir, e.Name())
			if !isKernelDir(dir) {
				continue
			}
			key := strings.ToLower(e.Name())
			if _, ok := found[key]; !ok {
				found[key] = dir
			}
		}
	}
	return found
}

// isKernelDir follows symlinks, as os.path.isdir/isfile do in jupyter_client.
func isKernelDir(dir string) bool {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return false
	}
	st, err = os.Stat(filepath.Join(dir, "kernel.json"))
	return err == nil && st.Mode().IsRegular()
}

// validName is jupyter_client's rule for kernel names; it only warns on
// violations, and so do we (the spec stays usable).
var validName = regexp.MustCompile(`^[a-z0-9._\-]+$`)

// ValidName reports whether name follows Jupyter's kernel naming rule
// (ASCII letters, digits, '-', '.', '_').
func ValidName(name string) bool { return validName.MatchString(strings.ToLower(name)) }

type kernelJSON struct {
	Argv          []string          `json:"argv"`
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode"`
	Env           map[string]string `json:"env"`
	Metadata      json.RawMessage   `json:"metadata"`
}

func load(name, dir string) (Spec, error) {
	path := filepath.Join(dir, "kernel.json")
	bad := func(err error) (Spec, error) { return Spec{}, &SpecError{Name: name, Path: path, Err: err} }
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Spec{}, fmt.Errorf("read kernelspec %q: %w", name, ErrNotFound)
		}
		return bad(err)
	}
	var kj kernelJSON
	if err := json.Unmarshal(data, &kj); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line, col := lineCol(data, syn.Offset)
			return bad(fmt.Errorf("invalid JSON at line %d, column %d: %v", line, col, err))
		}
		return bad(fmt.Errorf("invalid kernel.json: %v", err))
	}
	if len(kj.Argv) == 0 {
		return bad(errors.New(`"argv" is missing or empty`))
	}
	mode := strings.ToLower(kj.InterruptMode)
	switch mode {
	case "":
		mode = "signal"
	case "signal", "message":
	default:
		return bad(fmt.Errorf(`"interrupt_mode" is %q: want "signal" or "message"`, kj.InterruptMode))
	}
	if string(kj.Metadata) == "null" {
		kj.Metadata = nil
	}
	if kj.DisplayName == "" {
		kj.DisplayName = name
	}
	return Spec{
		Name: name, ResourceDir: dir, DisplayName: kj.DisplayName, Language: kj.Language,
		InterruptMode: mode, Argv: kj.Argv, Env: kj.Env, Metadata: kj.Metadata,
	}, nil
}

// lineCol turns a json.SyntaxError offset (bytes read, including the bad one)
// into the 1-based line and column of the offending byte.
func lineCol(data []byte, off int64) (int, int) {
	if off > 0 {
		off--
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// KernelDirs is the ordered list of "kernels" directories searched, as
// jupyter_core.paths.jupyter_path("kernels") builds it with the given
// prefixes standing in for sys.prefix.
func KernelDirs(opts SearchOptions) []string {
	var dirs []string
	for _, d := range DataDirs(opts) {
		dirs = append(dirs, filepath.Join(d, "kernels"))
	}
	return dirs
}

// DataDirs is the Jupyter data search path (without the "kernels" suffix).
func DataDirs(opts SearchOptions) []string {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	goos := opts.GOOS
	if goos == "" {
		goos = runtime.GOOS
	}
	home := opts.HomeDir
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	sep := string(os.PathListSeparator)
	if goos == "windows" {
		sep = ";"
	} else if runtime.GOOS == "windows" {
		sep = ":"
	}

	var paths []string
	seen := map[string]bool{}
	add := func(p string) {
		if p == "" || seen[p] {
			return
		}
		seen[p] = true
		paths = append(paths, p)
	}

	// 1. JUPYTER_PATH always comes first and is purely additive.
	if jp := getenv("JUPYTER_PATH"); jp != "" {
		for _, p := range strings.Split(jp, sep) {
			add(strings.TrimRight(p, `/\`))
		}
	}

	// 2./3. user then environment dirs, or the reverse when JUPYTER_PREFER_ENV_PATH says so.
	user := []string{userDataDir(goos, home, getenv)}
	if goos == "linux" || goos == "freebsd" || goos == "openbsd" || goos == "netbsd" {
		// site.getuserbase()/share/jupyter: ~/.local/share/jupyter unless PYTHONUSERBASE moves it.
		base := getenv("PYTHONUSERBASE")
		if base == "" && home != "" {
			base = filepath.Join(home, ".local")
		}
		if base != "" && getenv("PYTHONNOUSERSITE") == "" {
			user = append(user, filepath.Join(base, "share", "jupyter"))
		}
	}
	system := systemDirs(goos, getenv)
	var envDirs []string
	for _, pfx := range opts.ExtraPrefixes {
		d := filepath.Join(pfx, "share", "jupyter")
		if !contains(system, d) {
			envDirs = append(envDirs, d)
		}
	}
	if envset(getenv, "JUPYTER_PREFER_ENV_PATH") {
		for _, p := range envDirs {
			add(p)
		}
		for _, p := range user {
			add(p)
		}
	} else {
		for _, p := range user {
			add(p)
		}
		for _, p := range envDirs {
			add(p)
		}
	}

	// 4. system-wide dirs last.
	for _, p := range system {
		add(p)
	}
	return paths
}

// envset mirrors jupyter_core's envset: a variable counts as true when set to
// anything but a false spelling. (Jupyter also prefers env dirs when it runs
// inside a venv; the sidecar is not a Python process, so only the variable counts.)
func envset(getenv func(string) string, key string) bool {
	v := getenv(key)
	if v == "" {
		return false
	}
	switch strings.ToLower(v) {
	case "no", "n", "false", "off", "0", "0.0":
		return false
	}
	return true
}

func userDataDir(goos, home string, getenv func(string) string) string {
	if d := getenv("JUPYTER_DATA_DIR"); d != "" {
		return d
	}
	switch goos {
	case "darwin":
		return filepath.Join(home, "Library", "Jupyter")
	case "windows":
		if ad := getenv("APPDATA"); ad != "" {
			return filepath.Join(ad, "jupyter")
		}
		// jupyter_core falls back to the config dir's "data" folder.
		cfg := getenv("JUPYTER_CONFIG_DIR")
		if cfg == "" {
			cfg = filepath.Join(home, ".jupyter")
		}
		return filepath.Join(cfg, "data")
	default:
		xdg := getenv("XDG_DATA_HOME")
		if xdg == "" {
			xdg = filepath.Join(home, ".local", "share")
		}
		return filepath.Join(xdg, "jupyter")
	}
}

func systemDirs(goos string, getenv func(string) string) []string {
	if goos == "windows" {
		// jupyter_core >= 5.8 uses %PROGRAMDATA% only when JUPYTER_USE_PROGRAMDATA
		// is set; otherwise the system dir is the env prefix, which ExtraPrefixes covers.
		if envset(getenv, "JUPYTER_USE_PROGRAMDATA") {
			if pd := getenv("PROGRAMDATA"); pd != "" {
				return []string{filepath.Join(pd, "jupyter")}
			}
		}
		return nil
	}
	return []string{"/usr/local/share/jupyter", "/usr/share/jupyter"}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
