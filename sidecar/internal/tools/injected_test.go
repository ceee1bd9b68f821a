package tools_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

// Gemini CLI adds wait_for_previous to every tool's schema and passes it through:
// the call must work, while a misspelled real argument is still refused with the usage line.
func TestClientInjectedArgumentsAreIgnoredMisspelledOnesRefused(t *testing.T) {
	reg, c, _ := setup(t)
	out, err := reg.Invoke(context.Background(), c, "get_notebook_outline", []byte(`{"notebook_path":"nb.ipynb","wait_for_previous":true}`))
	if err != nil {
		t.Fatalf("outline with wait_for_previous: %v", err)
	}
	if out == nil {
		t.Fatal("outline with wait_for_previous returned nothing")
	}
	_, err = reg.Invoke(context.Background(), c, "get_notebook_outline", []byte(`{"notebok_path":"nb.ipynb"}`))
	if !errors.Is(err, tools.ErrBadArguments) || !strings.Contains(err.Error(), "notebook_path (string, required)") {
		t.Fatalf("misspelled argument: got %v, want a bad-arguments error naming notebook_path", err)
	}
	_, err = reg.Invoke(context.Background(), c, "get_notebook_outline", []byte(`{"notebook_path":"nb.ipynb","wait_for_previus":true}`))
	if !errors.Is(err, tools.ErrBadArguments) {
		t.Fatalf("a near-miss of an injected name must still be refused, got %v", err)
	}
}

func TestEveryToolIsInExactlyOneToolset(t *testing.T) {
	count := map[string]int{}
	for _, names := range tools.Toolsets {
		for _, n := range names {
			count[n]++
		}
	}
	reg := tools.NewRegistry()
	for _, tool := range reg.List() {
		if count[tool.Name] != 1 {
			t.Errorf("%s is in %d toolsets, want 1 (tools.Toolsets)", tool.Name, count[tool.Name])
		}
		delete(count, tool.Name)
	}
	for n := range count {
		t.Errorf("toolset lists %s, which is not a tool", n)
	}
}
