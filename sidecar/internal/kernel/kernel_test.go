package kernel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

// ipykernelSpec is the real ipykernel of the test venv.
func ipykernelSpec(t testing.TB) kernel.LaunchSpec {
	py := testenv.Python(t)
	return kernel.LaunchSpec{
		Name: "python3", Language: "python",
		Argv: []string{py, "-m", "ipykernel_launcher", "-f", "{connection_file}"},
		Dir:  t.TempDir(),
	}
}

func testOptions(t testing.TB) kernel.Options {
	lvl := slog.LevelWarn
	if os.Getenv("KERNEL_TEST_DEBUG") != "" {
		lvl = slog.LevelDebug
	}
	return kernel.Options{
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})),
		RuntimeDir:   t.TempDir(),
		StartTimeout: 90 * time.Second,
	}
}

func startKernel(t testing.TB, spec kernel.LaunchSpec, opts kernel.Options) *kernel.Local {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k, err := kernel.Start(ctx, spec, opts)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		k.Shutdown(ctx)
	})
	return k
}

// collector records iopub messages of one execution.
type collector struct {
	mu   sync.Mutex
	msgs []kernel.Message
}

func (c *collector) add(m kernel.Message) {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
}

func (c *collector) stdout() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, m := range c.msgs {
		if m.Header.MsgType != "stream" {
			continue
		}
		var s struct{ Name, Text string }
		json.Unmarshal(m.Content, &s)
		if s.Name == "stdout" {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

func (c *collector) types() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.msgs {
		out = append(out, m.Header.MsgType)
	}
	return out
}

func execute(t testing.TB, k kernel.Conn, code string) (*kernel.ExecuteReply, *collector) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := &collector{}
	r, err := k.Execute(ctx, kernel.ExecuteRequest{Code: code, StoreHistory: true}, kernel.Handlers{OnIOPub: c.add})
	if err != nil {
		t.Fatalf("execute %q: %v", code, err)
	}
	return r, c
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	k := startKernel(t, ipykernelSpec(t), testOptions(t))
	if got := k.Info().LanguageInfo.Name; got != "python" {
		t.Errorf("language = %q, want python", got)
	}
	if k.Info().ProtocolVersion == "" || len(k.Info().Raw) == 0 {
		t.Errorf("kernel info not parsed: %+v", k.Info())
	}
	st, err := os.Stat(k.ConnectionFile())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("connection file mode %v, want 0600", st.Mode().Perm())
	}
	r, c := execute(t, k, "print('hello'); 40+2")
	if r.Status != "ok" || r.ExecutionCount != 1 {
		t.Errorf("reply = %+v", r)
	}
	if got := c.stdout(); got != "hello\n" {
		t.Errorf("stdout = %q", got)
	}
	types := c.types()
	if types[len(types)-1] != "status" {
		t.Errorf("last iopub message %q, want status idle; all: %v", types[len(types)-1], types)
	}
	if !strings.Contains(strings.Join(types, ","), "execute_result") {
		t.Errorf("no execute_result in %v", types)
	}
	r, _ = execute(t, k, "1/0")
	if r.Status != "error" || r.Ename != "ZeroDivisionError" {
		t.Errorf("reply = %+v", r)
	}
	if k.Status() != kernel.StatusIdle {
		t.Errorf("status = %s, want idle", k.Status())
	}
}

func TestDiesWithParentUnlessRuntimeDir(t *testing.T) {
	t.Parallel()
	environ := func(k *kernel.Local) string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", k.PID()))
		if err != nil {
			t.Skipf("no /proc: %v", err)
		}
		return string(b)
	}
	want := fmt.Sprintf("JPY_PARENT_PID=%d", os.Getpid())
	opts := testOptions(t)
	opts.RuntimeDir = ""
	k := startKernel(t, ipykernelSpec(t), opts)
	if !strings.Contains(environ(k), want) {
		t.Errorf("kernel without a runtime dir lacks %s: it would outlive us with no way back", want)
	}
	k2 := startKernel(t, ipykernelSpec(t), testOptions(t))
	if strings.Contains(environ(k2), "JPY_PARENT_PID") {
		t.Error("kernel with a runtime dir is tied to our process: it could not be re-attached")
	}
}
