package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrOutside is returned (wrapped) for a path that resolves outside every root.
var ErrOutside = errors.New("path outside the workspace")

// ErrNoRoots is returned when no workspace root is configured.
var ErrNoRoots = errors.New("no workspace folder configured")

// Roots is the set of workspace folders, each stored with symlinks resolved.
type Roots struct {
	roots []string
}

// New resolves each root (absolute, symlinks followed). A root that does not
// exist is an error: confining to a folder we cannot see would refuse everything.
func New(dirs ...string) (*Roots, error) {
	r := &Roots{}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("workspace root %q: %w", d, err)
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, fmt.Errorf("workspace root %q: %w", d, err)
		}
		r.roots = append(r.roots, real)
	}
	return r, nil
}

// List returns the resolved roots.
func (r *Roots) List() []string { return append([]string(nil), r.roots...) }

// Resolve maps a user-supplied path to an absolute, symlink-free path inside a
// root. Relative paths are taken from the first root. The file itself need not
// exist (a notebook about to be created), but its existing ancestors are
// resolved, so a symlinked folder cannot smuggle the path out.
func (r *Roots) Resolve(p string) (string, error) {
	if len(r.roots) == 0 {
		return "", ErrNoRoots
	}
	if strings.TrimSpace(p) == "" {
		return "", fmt.Errorf("empty path: pass the notebook path, absolute or relative to %s", r.roots[0])
	}
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("path %q contains a NUL byte", p)
	}
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(r.roots[0], abs)
	}
	abs = filepath.Clean(abs)
	real, err := resolveExisting(abs)
	if err != nil {
		return "", fmt.Errorf("resolve %q: %w", p, err)
	}
	for _, root := range r.roots {
		if within(root, real) {
			// A FIFO or device named x.ipynb would block (or never end) the
			// first read: refuse it here, before anything opens it.
			if err := CheckRegular(real); err != nil {
				return "", err
			}
			return real, nil
		}
	}
	return "", fmt.Errorf("%w: %q resolves to %s, which is not inside %s", ErrOutside, p, real, strings.Join(r.roots, ", "))
}

// resolveExisting follows symlinks of the longest existing prefix of p and
// appends the missing tail unchanged.
func resolveExisting(p string) (string, error) {
	var tail []string
	cur := p
	for {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			for i := len(tail) - 1; i >= 0; i-- {
				real = filepath.Join(real, tail[i])
			}
			return real, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p, nil
		}
		tail = append(tail, filepath.Base(cur))
		cur = parent
	}
}

// within reports whether p equals root or lies below it, comparing whole components.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(os.PathSeparator)))
}
