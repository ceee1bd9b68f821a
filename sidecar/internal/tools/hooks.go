package tools

import (
	"context"
	"sync"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
)

var (
	hookMu    sync.Mutex
	infoHooks []func(ctx context.Context, c *Call, s *session.Session, out *KernelInfoOut)
)

// ExtendKernelInfo adds a function that enriches get_kernel_info's answer
// (called from init by feature files of this package). Errors should be
// reported inside out, not fail the call.
func ExtendKernelInfo(fn func(ctx context.Context, c *Call, s *session.Session, out *KernelInfoOut)) {
	hookMu.Lock()
	defer hookMu.Unlock()
	infoHooks = append(infoHooks, fn)
}

func kernelInfoHooks() []func(ctx context.Context, c *Call, s *session.Session, out *KernelInfoOut) {
	hookMu.Lock()
	defer hookMu.Unlock()
	return append(infoHooks[:0:0], infoHooks...)
}
