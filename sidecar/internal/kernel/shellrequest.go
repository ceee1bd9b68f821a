package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// ShellRequest sends one language-neutral shell request of the messaging
// protocol (inspect_request, complete_request, is_complete_request,
// kernel_info_request, history_request, comm_info_request) and returns the
// content of its reply. execute_request goes through Execute, never here.
// Waits until ctx ends or the kernel dies; nothing is interrupted on timeout.
func (k *Local) ShellRequest(ctx context.Context, msgType string, content any) (json.RawMessage, error) {
	switch msgType {
	case "inspect_request", "complete_request", "is_complete_request", "kernel_info_request", "history_request", "comm_info_request":
	default:
		return nil, fmt.Errorf("shell request %q: not a language-neutral request", msgType)
	}
	inc, err := k.current()
	if err != nil {
		return nil, err
	}
	m, err := inc.request(ctx, inc.shell, "shell", msgType, content, strings.TrimSuffix(msgType, "_request")+"_reply")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", msgType, err)
	}
	return m.Content, nil
}
