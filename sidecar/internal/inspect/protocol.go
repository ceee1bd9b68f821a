package inspect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Requester sends one shell request to the kernel and returns its reply's content.
type Requester func(ctx context.Context, msgType string, content any) (json.RawMessage, error)

// ErrUnsupported: the kernel cannot answer this (a Python-only feature, or a
// kernel without an inspector).
var ErrUnsupported = errors.New("not supported by this kernel")

var ansiRE = regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]")

// ViaProtocol describes name by the kernel's own inspect_request, the
// messaging protocol's language-neutral introspection: for kernels that are
// not Python, where the safe inspector's helper cannot run. kernelName names
// the kernel in answers (e.g. "bash_kernel", "Deno kernel"). No code is executed.
func ViaProtocol(ctx context.Context, req Requester, name, kernelName string) (*Description, error) {
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, "\n\r") {
		return nil, fmt.Errorf("%w %q: give one variable name", ErrInvalidName, name)
	}
	raw, err := req(ctx, "inspect_request", map[string]any{"code": name, "cursor_pos": len([]rune(name)), "detail_level": 0})
	if err != nil {
		return nil, fmt.Errorf("inspect %s: the %s did not answer inspect_request: %w", name, kernelName, err)
	}
	var rep struct {
		Status string                     `json:"status"`
		Found  bool                       `json:"found"`
		Data   map[string]json.RawMessage `json:"data"`
		Ename  string                     `json:"ename"`
		Evalue string                     `json:"evalue"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, fmt.Errorf("inspect %s: the %s's inspect_reply is not valid: %v", name, kernelName, err)
	}
	if rep.Status == "error" {
		return nil, fmt.Errorf("inspect %s: the %s's inspect_request failed: %s: %s", name, kernelName, rep.Ename, rep.Evalue)
	}
	if !rep.Found {
		return nil, fmt.Errorf("inspect %s: %w: the %s's inspect_request found nothing for %q (the safe variable inspector is Python-only; this kernel's own introspection has no answer)", name, ErrUnsupported, kernelName, name)
	}
	var text string
	if t, ok := rep.Data["text/plain"]; ok {
		json.Unmarshal(t, &text)
	}
	text = strings.TrimSpace(ansiRE.ReplaceAllString(text, ""))
	truncated := false
	if len(text) > 4000 {
		text, truncated = text[:4000], true
	}
	v, _ := json.Marshal(text)
	return &Description{Name: name, Type: "(" + kernelName + " inspect_request)", Kind: "object", Size: int64(len(text)), Value: v, Truncated: truncated}, nil
}
