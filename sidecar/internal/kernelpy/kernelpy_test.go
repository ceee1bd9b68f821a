package kernelpy_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy/kernelpytest"
)

const src = `
calls = 0
def echo(args):
    global calls
    calls += 1
    return {"args": args, "calls": calls, "text": "line1\nline2 \u00e9"}
def boom(args):
    raise KeyError(args["k"])
`

func TestCallInKernel(t *testing.T) {
	k := kernelpytest.Start(t, t.TempDir())
	mod := kernelpy.Module{Name: "probe", Source: src}
	ctx := context.Background()
	const names = "print(sorted(n for n in globals() if not n.startswith('_i')))"
	before := k.Run(names)
	type out struct {
		Args  map[string]any `json:"args"`
		Calls int            `json:"calls"`
		Text  string         `json:"text"`
	}
	for i := 1; i <= 2; i++ {
		var got out
		if err := mod.Call(ctx, k.Runner(), "echo", map[string]any{"q": "it's \"quoted\"\n"}, &got); err != nil {
			t.Fatal(err)
		}
		want := out{Args: map[string]any{"q": "it's \"quoted\"\n"}, Calls: i, Text: "line1\nline2 é"}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("call %d (-want +got):\n%s", i, d)
		}
	}
	err := mod.Call(ctx, k.Runner(), "boom", map[string]any{"k": "missing"}, nil)
	var pe *kernelpy.PythonError
	if !errors.As(err, &pe) || pe.Ename != "KeyError" || !strings.Contains(pe.Evalue, "missing") {
		t.Fatalf("boom: %v", err)
	}
	// The helper module and bootstrap leave no names in the user namespace.
	if d := cmp.Diff(before, k.Run(names)); d != "" {
		t.Errorf("user namespace changed (-before +after):\n%s", d)
	}
}

func TestNoResult(t *testing.T) {
	mod := kernelpy.Module{Name: "probe", Source: src}
	run := func(ctx context.Context, code string) (string, error) { return "[1] 42\n", nil } // e.g. an R kernel
	if err := mod.Call(context.Background(), run, "echo", nil, nil); !errors.Is(err, kernelpy.ErrNoResult) {
		t.Fatalf("err = %v, want ErrNoResult", err)
	}
}
