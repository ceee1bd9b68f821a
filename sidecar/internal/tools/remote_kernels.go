package tools

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel/remote"
)

// The configured Jupyter Server: its URL, the token and an optional CA
// bundle come from the sidecar's environment, never from a tool argument
// (the agent sees arguments; the token is never shown, logged or written
// into a notebook).
const (
	EnvServerURL   = "MCP_JUPYTER_SERVER_URL"
	EnvServerToken = "MCP_JUPYTER_SERVER_TOKEN"
	EnvServerCA    = "MCP_JUPYTER_SERVER_CA"
)

// remoteClient resolves start_kernel's server argument: "default" or the
// configured URL itself. Any other URL is refused: the token goes only to
// the server the user configured, never to one an agent names.
func remoteClient(server string) (*remote.Client, error) {
	conf := strings.TrimSpace(os.Getenv(EnvServerURL))
	if conf == "" {
		return nil, fmt.Errorf("%w: server %q: no Jupyter Server is configured; set %s (and %s) in the sidecar's environment", ErrBadArguments, server, EnvServerURL, EnvServerToken)
	}
	if server != "default" && !sameServer(server, conf) {
		return nil, fmt.Errorf("%w: server %q is not the configured Jupyter Server; pass server=\"default\" (the one in %s)", ErrBadArguments, server, EnvServerURL)
	}
	c, err := remote.NewClient(remote.Config{URL: conf, Token: os.Getenv(EnvServerToken), CAFile: os.Getenv(EnvServerCA)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvServerURL, err)
	}
	return c, nil
}

func sameServer(a, b string) bool {
	ua, err1 := url.Parse(strings.TrimSpace(a))
	ub, err2 := url.Parse(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) &&
		strings.TrimSuffix(ua.Path, "/") == strings.TrimSuffix(ub.Path, "/")
}

// startRemoteKernel starts a kernel on the configured Jupyter Server (or
// attaches to one running there by id) for the notebook at path.
func startRemoteKernel(ctx context.Context, c *Call, in StartKernelIn, path string) (KernelOut, error) {
	if in.VenvPath != "" || in.DockerImage != "" || in.Sandbox != "" {
		return KernelOut{}, fmt.Errorf("%w: server runs the kernel on the Jupyter Server: venv_path, docker_image and sandbox do not apply; drop them", ErrBadArguments)
	}
	cl, err := remoteClient(in.Server)
	if err != nil {
		return KernelOut{}, err
	}
	if in.TimeoutS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(in.TimeoutS)*time.Second)
		defer cancel()
	}
	spec := kernel.LaunchSpec{Name: in.KernelName}
	if def, specs, err := cl.KernelSpecs(ctx); err == nil {
		if spec.Name == "" {
			spec.Name = def
		}
		if ks, ok := specs[spec.Name]; ok {
			spec.DisplayName, spec.Language, spec.InterruptMode = ks.Spec.DisplayName, ks.Spec.Language, ks.Spec.InterruptMode
		}
	}
	start := func(ctx context.Context, ko kernel.Options) (kernel.Conn, error) {
		ro := remote.Options{Logger: ko.Logger, StartTimeout: ko.StartTimeout, InterruptGrace: ko.InterruptGrace}
		if in.KernelID != "" {
			return remote.Attach(ctx, cl, in.KernelID, ro)
		}
		return remote.Start(ctx, cl, spec.Name, ro)
	}
	s, reused, err := c.Core.Sessions.StartWith(ctx, path, spec, start)
	if err != nil {
		return KernelOut{}, fmt.Errorf("start kernel on %s for %s: %w", cl.Base(), path, err)
	}
	return kernelOut(s, reused), nil
}

// remoteInfo fills the remote fields of a kernel's description.
func remoteInfo(k kernel.Conn, out *KernelOut) {
	if r, ok := k.(*remote.Kernel); ok {
		out.Server, out.KernelID = r.Server(), r.ID()
		if out.Name == "" {
			out.Name = r.Name()
		}
	}
}
