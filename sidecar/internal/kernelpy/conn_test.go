package kernelpy_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy"
)

// The helpers also run over the sidecar's own kernel client (silent execute).
func TestConnRunnerOnOwnKernelClient(t *testing.T) {
	py := testenv.Python(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	k, err := kernel.Start(ctx, kernel.LaunchSpec{
		Name: "python3", Language: "python", Dir: t.TempDir(),
		Argv: []string{py, "-m", "ipykernel_launcher", "-f", "{connection_file}"},
	}, kernel.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), RuntimeDir: t.TempDir(), StartTimeout: 90 * time.Second})
	if err != nil {
		t.Fatalf("start kernel: %v", err)
	}
	defer k.Shutdown(context.Background())
	mod := kernelpy.Module{Name: "probe", Source: src}
	run := kernelpy.ConnRunner(k)
	var got struct {
		Calls int    `json:"calls"`
		Text  string `json:"text"`
	}
	if err := mod.Call(ctx, run, "echo", map[string]any{}, &got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(1, got.Calls); d != "" || got.Text != "line1\nline2 é" {
		t.Errorf("calls %d text %q", got.Calls, got.Text)
	}
	var pe *kernelpy.PythonError
	if err := mod.Call(ctx, run, "boom", map[string]any{"k": "x"}, nil); !errors.As(err, &pe) || pe.Ename != "KeyError" {
		t.Errorf("boom: %v", err)
	}
	// An exception outside the helper's own try (a syntax error) comes back as a PythonError too.
	if _, err := run(ctx, "def ("); !errors.As(err, &pe) || pe.Ename != "SyntaxError" {
		t.Errorf("syntax error: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("@@mcp-jupyter-result@@{\"ok\":true,\"result\":{}}\n")
	f.Add("noise @@mcp-jupyter-result@@{\"ok\":false,\"ename\":\"E\"}")
	f.Add("@@mcp-jupyter-result@@{")
	mod := kernelpy.Module{Name: "probe", Source: src}
	f.Fuzz(func(t *testing.T, stdout string) {
		run := func(context.Context, string) (string, error) { return stdout, nil }
		var out map[string]any
		_ = mod.Call(context.Background(), run, "echo", nil, &out) // must not panic
	})
}
