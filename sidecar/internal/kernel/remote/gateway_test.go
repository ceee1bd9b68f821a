package remote

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel/remote/remotetest"
)

// TestKernelGatewayCore: the core cases against jupyter-kernel-gateway 3.x
// (its own server app, same REST and channels API).
func TestKernelGatewayCore(t *testing.T) {
	s := remotetest.StartKind(t, remotetest.KernelGateway)
	k := startKernel(t, s, Options{})
	t.Logf("kernel gateway framing: %s", k.Framing())
	c := newCollector()
	r := run(t, k, "for i in range(20): print(i)\nv = input('? ')\nprint('got', v)", kernel.Handlers{OnIOPub: c.on,
		OnInput: func(context.Context, kernel.InputRequest) (string, error) { return "yes", nil }})
	if r.Status != "ok" {
		t.Fatalf("reply %+v", r)
	}
	var want strings.Builder
	for i := 0; i < 20; i++ {
		want.WriteString(strconv.Itoa(i) + "\n")
	}
	want.WriteString("got yes\n")
	if c.stdout() != want.String() {
		t.Fatalf("stdout %q", c.stdout())
	}
	// Interrupt.
	c = newCollector()
	done := make(chan *kernel.ExecuteReply, 1)
	go func() {
		r, _ := k.Execute(testCtx(t, 120*time.Second), kernel.ExecuteRequest{Code: "import time\nprint('s', flush=True)\ntime.sleep(300)"}, kernel.Handlers{OnIOPub: c.on})
		done <- r
	}()
	c.waitStdout(t, "s", 60*time.Second)
	if err := k.Interrupt(testCtx(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r == nil || r.Ename != "KeyboardInterrupt" {
			t.Fatalf("interrupt: %+v", r)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("interrupt did not take")
	}
	// Restart loses state; attach by id sees the same kernel.
	run(t, k, "x = 1", kernel.Handlers{})
	if err := k.Restart(testCtx(t, 120*time.Second)); err != nil {
		t.Fatal(err)
	}
	if r := run(t, k, "x", kernel.Handlers{}); r.Ename != "NameError" {
		t.Fatalf("after restart: %+v", r)
	}
	run(t, k, "y = 'kept'", kernel.Handlers{})
	a, err := Attach(testCtx(t, 120*time.Second), client(t, s), k.ID(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c = newCollector()
	run(t, a, "print(y)", kernel.Handlers{OnIOPub: c.on})
	a.Detach()
	if !strings.Contains(c.stdout(), "kept") {
		t.Fatalf("attach: %q", c.stdout())
	}
	if err := k.Shutdown(testCtx(t, 60*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := client(t, s).Kernel(testCtx(t, 30*time.Second), k.ID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after shutdown: %v", err)
	}
}
