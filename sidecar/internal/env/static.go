package env

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// inspectStatic describes a workspace environment from its files alone: the
// Python version from pyvenv.cfg (or conda-meta, or the lib/pythonX.Y folder)
// and ipykernel from site-packages. A cloned repository can plant any
// program as .venv/bin/python; listing or choosing environments must not run
// it on the host (a sandboxed kernel runs it inside its jail only).
func (f *Finder) inspectStatic(c candidate) (Environment, error) {
	if c.prefix == "" {
		return Environment{}, fmt.Errorf("%s: no environment prefix: %w", c.python, ErrNotEnvironment)
	}
	e := Environment{Kind: c.kind, Name: c.name, Prefix: c.prefix, Python: c.python,
		Version: staticVersion(c.prefix), HasIPyKernel: staticHasIPyKernel(c.prefix)}
	if e.Kind == "" {
		e.Kind = KindVenv
	}
	if e.Kind == KindConda {
		e.Conda = f.condaExe()
	}
	return e, nil
}

// inWorkspace reports whether p is root or inside it (both cleaned, links not resolved).
func inWorkspace(p, root string) bool {
	if root == "" || p == "" {
		return false
	}
	rel, err := filepath.Rel(filepath.Clean(root), filepath.Clean(p))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// pyvenvCfg reads a venv's pyvenv.cfg ("key = value" lines).
func pyvenvCfg(prefix string) map[string]string {
	fh, err := os.Open(filepath.Join(prefix, "pyvenv.cfg"))
	if err != nil {
		return nil
	}
	defer fh.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return out
}

// staticVersion is the environment's Python version as its files record it;
// "" when they do not say.
func staticVersion(prefix string) string {
	cfg := pyvenvCfg(prefix)
	for _, k := range []string{"version", "version_info"} {
		if v := cfg[k]; v != "" {
			// virtualenv writes version_info = 3.11.7.final.0
			parts := strings.Split(v, ".")
			if len(parts) > 3 {
				parts = parts[:3]
			}
			return strings.Join(parts, ".")
		}
	}
	if m, _ := filepath.Glob(filepath.Join(prefix, "conda-meta", "python-[0-9]*.json")); len(m) > 0 {
		sort.Strings(m)
		// python-3.11.7-h955ad1f_0.json
		if parts := strings.SplitN(strings.TrimSuffix(filepath.Base(m[0]), ".json"), "-", 3); len(parts) >= 2 {
			return parts[1]
		}
	}
	if m, _ := filepath.Glob(filepath.Join(prefix, "lib", "python[0-9].*")); len(m) > 0 {
		sort.Strings(m)
		return strings.TrimPrefix(filepath.Base(m[len(m)-1]), "python")
	}
	return ""
}

// sitePackages lists the site-packages folders of a prefix.
func sitePackages(prefix string) []string {
	var pats []string
	if runtime.GOOS == "windows" {
		pats = []string{filepath.Join(prefix, "Lib", "site-packages")}
	} else {
		pats = []string{filepath.Join(prefix, "lib", "python*", "site-packages"), filepath.Join(prefix, "lib64", "python*", "site-packages")}
	}
	var out []string
	for _, p := range pats {
		m, _ := filepath.Glob(p)
		out = append(out, m...)
	}
	return out
}

// staticHasIPyKernel looks for the ipykernel package in the environment's
// site-packages (and the base interpreter's, for a venv made with
// --system-site-packages).
func staticHasIPyKernel(prefix string) bool {
	dirs := sitePackages(prefix)
	cfg := pyvenvCfg(prefix)
	if strings.EqualFold(cfg["include-system-site-packages"], "true") && cfg["home"] != "" {
		dirs = append(dirs, sitePackages(filepath.Dir(cfg["home"]))...)
		if runtime.GOOS != "windows" {
			dirs = append(dirs, "/usr/lib/python3/dist-packages")
		}
	}
	for _, d := range dirs {
		if st, err := os.Stat(filepath.Join(d, "ipykernel", "__init__.py")); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}
