package tools

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/env"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel/kernelspec"
)

// specIndex is the kernelspec search path Jupyter would use from the
// workspace: JUPYTER_PATH, the user data dir, then sys.prefix/share/jupyter of
// each environment (the chosen one first, then the workspace's, conda's and the
// system python's, in discovery order), then the system dirs.
type specIndex struct {
	envs []env.Environment
	opts kernelspec.SearchOptions
}

// kernelspecs builds the search path; first are environments searched before
// the discovered ones (an explicit venv_path).
func (c *Call) kernelspecs(ctx context.Context, finder *env.Finder, envs []env.Environment, first ...env.Environment) specIndex {
	all := append(append([]env.Environment(nil), first...), envs...)
	x := specIndex{envs: all, opts: kernelspec.SearchOptions{Getenv: os.Getenv, Logger: c.Core.Logger}}
	for _, e := range all {
		if e.Prefix != "" {
			x.opts.ExtraPrefixes = append(x.opts.ExtraPrefixes, e.Prefix)
		}
	}
	return x
}

// owner is the environment the spec was installed into, if any.
func (x specIndex) owner(spec kernelspec.Spec) (env.Environment, bool) {
	for _, e := range x.envs {
		if spec.InPrefix(e.Prefix) {
			return e, true
		}
	}
	return env.Environment{}, false
}

// find looks a kernelspec up; a missing one names what was searched and how to install it.
func (x specIndex) find(name string) (kernelspec.Spec, error) {
	spec, err := kernelspec.Find(name, x.opts)
	if err != nil {
		return spec, fmt.Errorf("%w; install it with %s", err, kernelspec.InstallHint(name))
	}
	return spec, nil
}

// launch runs spec the way jupyter_client would from the environment that
// holds it: that environment activated, a bare python argv[0] being its
// interpreter. A spec outside every environment runs as written.
func (x specIndex) launch(ctx context.Context, finder *env.Finder, spec kernelspec.Spec, dir string) (kernel.LaunchSpec, error) {
	if e, ok := x.owner(spec); ok {
		return finder.KernelspecLaunchIn(ctx, e, spec, dir)
	}
	return env.KernelspecLaunch(spec, dir), nil
}

// notebookKernelspec is the notebook's own metadata.kernelspec.name and its
// language ("" when unreadable or absent).
func (c *Call) notebookKernelspec(ctx context.Context, path string) (name, language string) {
	ld, err := c.LoadNotebook(ctx, path)
	if err != nil || ld.NB == nil {
		return "", ""
	}
	return strings.TrimSpace(gjson.GetBytes(ld.NB.Bytes(), "metadata.kernelspec.name").String()), ld.NB.Language()
}

// isGenericPython: the kernelspec names every Python notebook carries
// (ipykernel's own), which mean "Python", not one particular installation.
func isGenericPython(name string) bool {
	switch strings.ToLower(name) {
	case "python3", "python", "python2":
		return true
	}
	return false
}
