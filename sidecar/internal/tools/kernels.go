package tools

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/env"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel/kernelspec"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/sandbox"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
)

// NotebookArg names the notebook a kernel tool acts on.
type NotebookArg struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file, absolute or relative to the first workspace folder"`
}

// StartKernelIn are start_kernel's arguments.
type StartKernelIn struct {
	NotebookPath string `json:"notebook_path" jsonschema:"path of the .ipynb file, absolute or relative to the first workspace folder"`
	VenvPath     string `json:"venv_path,omitempty" jsonschema:"a virtualenv or conda prefix (or its python executable) to run the kernel in; it must have ipykernel installed"`
	KernelName   string `json:"kernel_name,omitempty" jsonschema:"an installed Jupyter kernelspec name (e.g. python3); ignored when venv_path is given"`
	DockerImage  string `json:"docker_image,omitempty" jsonschema:"run the kernel in a container of this image (it needs ipykernel); implies sandbox=docker"`
	Sandbox      string `json:"sandbox,omitempty" jsonschema:"bubblewrap (no network, writes only to the workspace) or docker; empty = unconfined"`
	TimeoutS     int    `json:"timeout_s,omitempty" jsonschema:"seconds to wait for the kernel to become ready (default 60)"`
	Server       string `json:"server,omitempty" jsonschema:"run the kernel on the configured Jupyter Server: \"default\" (or its URL); kernel_name then names one of its kernelspecs"`
	KernelID     string `json:"kernel_id,omitempty" jsonschema:"with server: attach to this already running kernel instead of starting one"`
}

// KernelOut describes a notebook's kernel.
type KernelOut struct {
	NotebookPath   string `json:"notebook_path" jsonschema:"the notebook the kernel belongs to"`
	Reused         bool   `json:"reused,omitempty" jsonschema:"true when a running kernel was reused instead of starting one"`
	Name           string `json:"name" jsonschema:"kernelspec or environment name"`
	DisplayName    string `json:"display_name,omitempty"`
	Language       string `json:"language" jsonschema:"kernel language"`
	LanguageVer    string `json:"language_version,omitempty"`
	Implementation string `json:"implementation,omitempty" jsonschema:"kernel implementation (e.g. ipython)"`
	Status         string `json:"status" jsonschema:"starting | idle | busy | dead"`
	PID            int    `json:"pid,omitempty" jsonschema:"kernel process id"`
	Executable     string `json:"executable,omitempty" jsonschema:"the interpreter the kernel runs (argv[0])"`
	Environment    string `json:"environment,omitempty" jsonschema:"the activated environment prefix (VIRTUAL_ENV or CONDA_PREFIX), if any"`
	Restarts       int    `json:"restarts" jsonschema:"how many times this kernel was restarted"`
	Sandbox        string `json:"sandbox,omitempty" jsonschema:"bubblewrap or docker when the kernel is confined"`
	Executions     int    `json:"executions" jsonschema:"how many executions this kernel has run or queued"`
	Server         string `json:"server,omitempty" jsonschema:"the Jupyter Server the kernel runs on (remote kernels)"`
	KernelID       string `json:"kernel_id,omitempty" jsonschema:"the kernel's id on that server"`
}

// StatusOut is the answer of the kernel control tools.
type StatusOut struct {
	NotebookPath string `json:"notebook_path"`
	Status       string `json:"status" jsonschema:"kernel status after the action"`
	Message      string `json:"message" jsonschema:"what happened"`
}

// KernelsOut lists running kernels.
type KernelsOut struct {
	Kernels []KernelOut `json:"kernels" jsonschema:"one entry per running kernel"`
}

// EnvironmentOut is one Python environment or kernelspec a kernel can run in.
type EnvironmentOut struct {
	Kind         string `json:"kind" jsonschema:"venv | conda | system | kernelspec"`
	Name         string `json:"name"`
	Path         string `json:"path,omitempty" jsonschema:"pass as venv_path to start_kernel"`
	Python       string `json:"python,omitempty"`
	Version      string `json:"version,omitempty"`
	HasIPyKernel bool   `json:"has_ipykernel" jsonschema:"environments: false means start_kernel will fail until ipykernel is installed there; kernelspecs: whether the kernelspec runs ipykernel"`
	KernelName   string `json:"kernel_name,omitempty" jsonschema:"pass as kernel_name to start_kernel (kernelspecs only)"`
	Language     string `json:"language,omitempty"`
	ResourceDir  string `json:"resource_dir,omitempty" jsonschema:"the kernelspec's directory (kernelspecs only)"`
}

// EnvironmentsOut lists environments.
type EnvironmentsOut struct {
	Environments []EnvironmentOut `json:"environments"`
}

// Empty is the input of tools without arguments.
type Empty struct{}

func noKernel(path string) error {
	return fmt.Errorf("%w %s: call start_kernel with this notebook_path first (list_kernels shows running kernels)", ErrNoKernel, path)
}

func kernelOut(s *session.Session, reused bool) KernelOut {
	spec := s.Spec()
	k := s.Kernel()
	info := k.Info()
	out := KernelOut{
		NotebookPath:   s.NotebookPath(),
		Reused:         reused,
		Name:           spec.Name,
		DisplayName:    spec.DisplayName,
		Language:       spec.Language,
		LanguageVer:    info.LanguageInfo.Version,
		Implementation: info.Implementation,
		Status:         string(k.Status()),
		PID:            k.PID(),
		Restarts:       s.Restarts(),
		Executions:     len(s.Executions()),
	}
	if info.LanguageInfo.Name != "" {
		out.Language = info.LanguageInfo.Name
	}
	d := sandbox.Describe(spec)
	out.Sandbox, out.Executable, out.Environment = string(d.Kind), d.Executable, d.Environment
	remoteInfo(k, &out)
	return out
}

// launchSpec picks what to run: an explicit environment, a kernelspec by name
// (from that environment when venv_path is given too), else the workspace's
// own environment with ipykernel, else the python3 kernelspec. Kernelspecs are
// searched as Jupyter does, environments' sys.prefix included (kernelspecs.go).
func (c *Call) launchSpec(ctx context.Context, in StartKernelIn, nbPath string, kind sandbox.Kind) (kernel.LaunchSpec, error) {
	dir := filepath.Dir(nbPath)
	// Nothing from the workspace runs on the host to set up a sandboxed
	// kernel: probes and activation scripts run in a jail like the kernel's.
	finder := &env.Finder{}
	if kind == sandbox.Bubblewrap {
		o := sandbox.Options{Kind: kind, ProjectDir: c.projectDir(nbPath), Hide: c.sandboxHidden()}
		finder.Jail = func(argv []string) ([]string, error) { return sandbox.Command(argv, o) }
	}
	var chosen []env.Environment
	if in.VenvPath != "" {
		p := in.VenvPath
		if !filepath.IsAbs(p) && len(c.Core.Roots().List()) > 0 {
			p = filepath.Join(c.Core.Roots().List()[0], p)
		}
		e, err := finder.Resolve(ctx, p)
		if err != nil {
			return kernel.LaunchSpec{}, fmt.Errorf("venv_path %q: %w (list_environments shows the environments found)", in.VenvPath, err)
		}
		if in.KernelName == "" {
			return finder.LaunchSpec(ctx, e, dir)
		}
		chosen = append(chosen, e)
	}
	envs, derr := finder.Discover(ctx, c.Core.Roots().List())
	idx := c.kernelspecs(ctx, finder, envs, chosen...)
	if in.KernelName != "" {
		spec, err := idx.find(in.KernelName)
		if err != nil {
			return kernel.LaunchSpec{}, fmt.Errorf("kernel_name %q: %w (list_environments shows the installed kernelspecs)", in.KernelName, err)
		}
		if len(chosen) > 0 {
			// "this kernelspec from this environment"
			return finder.KernelspecLaunchIn(ctx, chosen[0], spec, dir)
		}
		return idx.launch(ctx, finder, spec, dir)
	}
	// The notebook's own kernel: its metadata.kernelspec, unless that is the
	// generic python3 (then the workspace's Python environment runs it, as
	// VS Code picks the workspace's interpreter). A Python notebook whose
	// kernelspec is gone falls back to the environment choice; any other
	// language has no fallback.
	if name, lang := c.notebookKernelspec(ctx, nbPath); name != "" && !isGenericPython(name) {
		spec, err := idx.find(name)
		if err == nil {
			return idx.launch(ctx, finder, spec, dir)
		}
		if !strings.EqualFold(lang, "python") {
			return kernel.LaunchSpec{}, fmt.Errorf("the notebook's kernel (metadata.kernelspec.name %q, language %s): %w; or pass kernel_name (list_environments shows the installed kernelspecs)", name, lang, err)
		}
		c.Core.Logger.Info("the notebook's kernelspec is not installed; using the workspace's Python environment", "kernelspec", name, "err", err)
	}
	if derr == nil {
		for _, e := range envs {
			if e.HasIPyKernel && e.Kind != "system" {
				return finder.LaunchSpec(ctx, e, dir)
			}
		}
		for _, e := range envs {
			if e.HasIPyKernel {
				return finder.LaunchSpec(ctx, e, dir)
			}
		}
	}
	spec, kerr := idx.find("python3")
	if kerr != nil {
		return kernel.LaunchSpec{}, fmt.Errorf("no Python environment with ipykernel found in the workspace and no python3 kernelspec installed: pass venv_path (an environment with ipykernel) or kernel_name, or run `python -m pip install ipykernel` in your environment")
	}
	return idx.launch(ctx, finder, spec, dir)
}

func startKernel(ctx context.Context, c *Call, in StartKernelIn) (KernelOut, error) {
	path, err := c.ResolvePath(in.NotebookPath)
	if err != nil {
		return KernelOut{}, err
	}
	if s := c.Core.Sessions.Get(path); s != nil && s.Kernel().Status() != kernel.StatusDead {
		return kernelOut(s, true), nil
	}
	if in.Server != "" || in.KernelID != "" {
		return startRemoteKernel(ctx, c, in, path)
	}
	kind, err := sandbox.ParseKind(in.Sandbox)
	if err != nil {
		return KernelOut{}, fmt.Errorf("%w: %v", ErrBadArguments, err)
	}
	if in.DockerImage != "" {
		if kind == sandbox.Bubblewrap {
			return KernelOut{}, fmt.Errorf("%w: docker_image runs the kernel in Docker; drop sandbox=bubblewrap or docker_image", ErrBadArguments)
		}
		kind = sandbox.Docker
	}
	if err := sandbox.Check(ctx, kind); err != nil {
		return KernelOut{}, fmt.Errorf("sandbox %s %w: %w; start without sandbox/docker_image to run the kernel unconfined", kind, ErrUnavailable, err)
	}
	var spec kernel.LaunchSpec
	if kind == sandbox.Docker {
		// The image's python runs the kernel: no host Python is looked up.
		if in.VenvPath != "" || in.KernelName != "" {
			return KernelOut{}, fmt.Errorf("%w: venv_path and kernel_name name host environments; with docker_image the image's python3 runs the kernel: drop one", ErrBadArguments)
		}
		if err := sandbox.CheckImage(ctx, in.DockerImage); err != nil {
			return KernelOut{}, err
		}
		if n, err := sandbox.ReapOrphans(ctx); err != nil {
			c.Core.Logger.Warn("reap orphaned kernel containers", "err", err)
		} else if n > 0 {
			c.Core.Logger.Info("removed kernel containers a killed sidecar left", "count", n)
		}
		spec = sandbox.DockerLaunch(in.DockerImage, filepath.Dir(path))
	} else if spec, err = c.launchSpec(ctx, in, path, kind); err != nil {
		return KernelOut{}, err
	}
	var tune []func(*kernel.Options)
	if kind != sandbox.None {
		spec, tune, err = c.confine(ctx, kind, in.DockerImage, path, spec)
		if err != nil {
			return KernelOut{}, err
		}
	}
	if in.TimeoutS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(in.TimeoutS)*time.Second)
		defer cancel()
	}
	s, reused, err := c.Core.Sessions.Start(ctx, path, spec, tune...)
	if err != nil {
		return KernelOut{}, fmt.Errorf("start kernel %q for %s: %w", spec.Name, path, err)
	}
	return kernelOut(s, reused), nil
}

// confine wraps spec in a sandbox that may write only to the notebook's
// workspace folder and the kernel's runtime dir, and asks for the ipc
// transport (TCP on loopback does not cross the sandbox's network namespace).
func (c *Call) confine(ctx context.Context, kind sandbox.Kind, image, nbPath string, spec kernel.LaunchSpec) (kernel.LaunchSpec, []func(*kernel.Options), error) {
	project := c.projectDir(nbPath)
	// One runtime dir per kernel, of its own: the jail may write it, so it
	// holds nothing but this kernel's connection file and sockets, and it is
	// not the shared dir whose records a restarted sidecar trusts.
	runtime, err := sandbox.RuntimeDir()
	if err != nil {
		return spec, nil, err
	}
	wrapped, err := sandbox.Wrap(spec, sandbox.Options{Kind: kind, Image: image, ProjectDir: project, RuntimeDir: runtime, Hide: c.sandboxHidden(), ReadOnly: sandbox.AllowedFromEnv(), Network: sandbox.NetworkFromEnv()})
	if err != nil {
		os.Remove(runtime)
		return spec, nil, fmt.Errorf("sandbox %s: %w", kind, err)
	}
	return wrapped, []func(*kernel.Options){func(o *kernel.Options) {
		o.Transport = sandbox.Transport(kind)
		o.RuntimeDir = runtime
		o.PrivateRuntimeDir = true
	}}, nil
}

// projectDir is the workspace folder holding nbPath (the notebook's folder
// when none does): the one folder a sandboxed kernel may write.
func (c *Call) projectDir(nbPath string) string {
	for _, r := range c.Core.Roots().List() {
		if rel, err := filepath.Rel(r, nbPath); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return r
		}
	}
	return filepath.Dir(nbPath)
}

// sandboxHidden are the sidecar's own folders a sandboxed kernel must not
// see (the shared kernel runtime dir: other kernels' connection files).
func (c *Call) sandboxHidden() []string {
	if d := c.Core.Sessions.Options().Kernel.RuntimeDir; d != "" {
		// Made now if need be: a folder created after the jail would show
		// through its read-only root.
		os.MkdirAll(d, 0o700)
		return []string{d}
	}
	return nil
}

func stopKernel(ctx context.Context, c *Call, in NotebookArg) (StatusOut, error) {
	path, err := c.ResolvePath(in.NotebookPath)
	if err != nil {
		return StatusOut{}, err
	}
	if c.Core.Sessions.Get(path) == nil {
		return StatusOut{}, noKernel(path)
	}
	if err := c.Core.Sessions.Stop(ctx, path); err != nil {
		return StatusOut{}, fmt.Errorf("stop kernel of %s: %w", path, err)
	}
	return StatusOut{NotebookPath: path, Status: string(kernel.StatusDead), Message: "kernel shut down; its variables are gone (start_kernel starts a fresh one)"}, nil
}

func restartKernel(ctx context.Context, c *Call, in NotebookArg) (StatusOut, error) {
	path, s, err := c.SessionFor(in.NotebookPath)
	if err != nil {
		return StatusOut{}, err
	}
	if err := s.Restart(ctx); err != nil {
		return StatusOut{}, fmt.Errorf("restart kernel of %s: %w", path, err)
	}
	return StatusOut{NotebookPath: path, Status: string(s.Kernel().Status()), Message: "kernel restarted; all variables were cleared, re-run the cells you need"}, nil
}

func interruptKernel(ctx context.Context, c *Call, in NotebookArg) (StatusOut, error) {
	path, s, err := c.SessionFor(in.NotebookPath)
	if err != nil {
		return StatusOut{}, err
	}
	wasBusy := s.Kernel().Status() == kernel.StatusBusy
	if err := s.Interrupt(ctx); err != nil {
		if errors.Is(err, kernel.ErrKernelDead) {
			return StatusOut{}, fmt.Errorf("interrupt %s: %w; call restart_kernel or start_kernel", path, err)
		}
		return StatusOut{}, fmt.Errorf("interrupt kernel of %s: %w", path, err)
	}
	return interruptOutcome(ctx, s, path, wasBusy), nil
}

func getKernelInfo(ctx context.Context, c *Call, in NotebookArg) (KernelInfoOut, error) {
	_, s, err := c.SessionFor(in.NotebookPath)
	if err != nil {
		return KernelInfoOut{}, err
	}
	out := KernelInfoOut{KernelOut: kernelOut(s, false)}
	for _, hook := range kernelInfoHooks() {
		hook(ctx, c, s, &out)
	}
	return out, nil
}

// KernelInfoOut is get_kernel_info's answer. Feature files may fill Extra
// through ExtendKernelInfo (e.g. the variables the kernel holds).
type KernelInfoOut struct {
	KernelOut
	Variables     []VariableOut `json:"variables,omitempty" jsonschema:"the kernel's user variables (name, type, size/shape) when known"`
	VariablesNote string        `json:"variables_note,omitempty" jsonschema:"why variables is absent (e.g. the variable list is a Python feature)"`
}

// VariableOut is one user variable in get_kernel_info.
type VariableOut struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Size  string `json:"size,omitempty" jsonschema:"length, shape or byte size"`
	Bytes int64  `json:"bytes,omitempty"`
}

func listKernels(ctx context.Context, c *Call, in Empty) (KernelsOut, error) {
	out := KernelsOut{Kernels: []KernelOut{}}
	for _, s := range c.Core.Sessions.List() {
		out.Kernels = append(out.Kernels, kernelOut(s, false))
	}
	return out, nil
}

func listEnvironments(ctx context.Context, c *Call, in Empty) (EnvironmentsOut, error) {
	out := EnvironmentsOut{Environments: []EnvironmentOut{}}
	envs, err := env.Discover(ctx, c.Core.Roots().List())
	if err != nil {
		return out, fmt.Errorf("discover environments: %w", err)
	}
	for _, e := range envs {
		out.Environments = append(out.Environments, EnvironmentOut{Kind: e.Kind, Name: e.Name, Path: e.Prefix, Python: e.Python, Version: e.Version, HasIPyKernel: e.HasIPyKernel})
	}
	idx := c.kernelspecs(ctx, &env.Finder{}, envs)
	specs, err := kernelspec.List(idx.opts)
	if err == nil {
		for _, s := range specs {
			eo := EnvironmentOut{Kind: "kernelspec", Name: s.DisplayName, KernelName: s.Name, Language: s.Language, HasIPyKernel: s.IsIPyKernel(), ResourceDir: s.ResourceDir}
			if e, ok := idx.owner(s); ok {
				eo.Path, eo.Python = e.Prefix, e.Python
			}
			out.Environments = append(out.Environments, eo)
		}
	}
	return out, nil
}
