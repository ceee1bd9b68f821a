package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

// collector records the iopub messages of executions.
type collector struct {
	mu   sync.Mutex
	msgs []kernel.Message
	ch   chan kernel.Message
}

func newCollector() *collector { return &collector{ch: make(chan kernel.Message, 1024)} }

func (c *collector) on(m kernel.Message) {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
	select {
	case c.ch <- m:
	default:
	}
}

// stdout is the concatenated stdout text, in arrival order.
func (c *collector) stdout() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, m := range c.msgs {
		if m.Header.MsgType != "stream" {
			continue
		}
		var s struct{ Name, Text string }
		_ = json.Unmarshal(m.Content, &s)
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

// waitStdout waits until stdout contains s.
func (c *collector) waitStdout(t *testing.T, s string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for !strings.Contains(c.stdout(), s) {
		select {
		case <-c.ch:
		case <-deadline:
			t.Fatalf("no %q in stdout after %s; got %q", s, d, c.stdout())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func startKernel(t *testing.T, s *testServer, opts Options) *Kernel {
	t.Helper()
	k, err := Start(testCtx(t, 120*time.Second), client(t, s), "python3", opts)
	if err != nil {
		t.Fatalf("start: %v\n%s", err, tail(s.Log(), 3000))
	}
	t.Cleanup(func() { _ = k.Shutdown(context.Background()) })
	return k
}

func run(t *testing.T, k *Kernel, code string, h kernel.Handlers) *kernel.ExecuteReply {
	t.Helper()
	r, err := k.Execute(testCtx(t, 120*time.Second), kernel.ExecuteRequest{Code: code, StoreHistory: true, AllowStdin: h.OnInput != nil}, h)
	if err != nil {
		t.Fatalf("execute %q: %v", code, err)
	}
	return r
}

func TestExecuteOrderedOutputs(t *testing.T) {
	for _, framing := range []string{"v1", "json"} {
		t.Run(framing, func(t *testing.T) {
			s := sharedServer(t)
			k := startKernel(t, s, Options{JSONFraming: framing == "json"})
			if got := k.Framing(); got != framing {
				t.Fatalf("framing %s, want %s", got, framing)
			}
			if k.Info().LanguageInfo.Name != "python" {
				t.Fatalf("kernel info: %+v", k.Info())
			}
			c := newCollector()
			r := run(t, k, "import sys\nfor i in range(50):\n    print(i, flush=True)\n    print('e', i, file=sys.stderr, flush=True)\n6*7", kernel.Handlers{OnIOPub: c.on})
			if r.Status != "ok" || r.ExecutionCount != 1 {
				t.Fatalf("reply %+v", r)
			}
			var want strings.Builder
			for i := 0; i < 50; i++ {
				fmt.Fprintf(&want, "%d\n", i)
			}
			if got := c.stdout(); got != want.String() {
				t.Fatalf("stdout out of order or incomplete:\n%q", got)
			}
			ty := c.types()
			if ty[0] != "status" || ty[len(ty)-1] != "status" {
				t.Fatalf("first/last iopub not status: %v", ty)
			}
			found := false
			for _, m := range c.msgs {
				if m.Header.MsgType == "execute_result" && strings.Contains(string(m.Content), `"42"`) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no execute_result 42 in %v", ty)
			}
			// An error reply.
			r = run(t, k, "1/0", kernel.Handlers{})
			if r.Status != "error" || r.Ename != "ZeroDivisionError" {
				t.Fatalf("error reply %+v", r)
			}
			// Binary buffers survive the framing (comm messages carry them; a
			// display with a bytes payload is enough here: the reply must arrive).
			if k.Status() != kernel.StatusIdle {
				t.Fatalf("status %s after runs", k.Status())
			}
		})
	}
}

func TestStdin(t *testing.T) {
	s := sharedServer(t)
	k := startKernel(t, s, Options{})
	var prompts []string
	c := newCollector()
	r := run(t, k, "a = input('name? ')\nb = input('again? ')\nprint('hello', a, b)", kernel.Handlers{
		OnIOPub: c.on,
		OnInput: func(ctx context.Context, req kernel.InputRequest) (string, error) {
			prompts = append(prompts, req.Prompt)
			return fmt.Sprintf("v%d", len(prompts)), nil
		},
	})
	if r.Status != "ok" {
		t.Fatalf("reply %+v", r)
	}
	if strings.Join(prompts, "|") != "name? |again? " {
		t.Fatalf("prompts %q", prompts)
	}
	if !strings.Contains(c.stdout(), "hello v1 v2") {
		t.Fatalf("stdout %q", c.stdout())
	}
	// Without a handler, input() fails in the kernel instead of hanging.
	r = run(t, k, "input('x')", kernel.Handlers{})
	if r.Status != "error" {
		t.Fatalf("input without stdin: %+v", r)
	}
}

func TestInterrupt(t *testing.T) {
	s := sharedServer(t)
	k := startKernel(t, s, Options{})
	c := newCollector()
	type res struct {
		r   *kernel.ExecuteReply
		err error
	}
	done := make(chan res, 1)
	go func() {
		r, err := k.Execute(testCtx(t, 120*time.Second), kernel.ExecuteRequest{Code: "import time\nprint('sleeping', flush=True)\ntime.sleep(300)"}, kernel.Handlers{OnIOPub: c.on})
		done <- res{r, err}
	}()
	c.waitStdout(t, "sleeping", 60*time.Second)
	if err := k.Interrupt(testCtx(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case x := <-done:
		if x.err != nil || x.r.Status != "error" || x.r.Ename != "KeyboardInterrupt" {
			t.Fatalf("after interrupt: %+v %v", x.r, x.err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("interrupt did not end the execution")
	}
	if r := run(t, k, "1+1", kernel.Handlers{}); r.Status != "ok" {
		t.Fatalf("after interrupt: %+v", r)
	}
}

func TestTimeoutInterrupts(t *testing.T) {
	s := sharedServer(t)
	k := startKernel(t, s, Options{})
	_, err := k.Execute(testCtx(t, 120*time.Second), kernel.ExecuteRequest{Code: "import time\ntime.sleep(300)", Timeout: 2 * time.Second}, kernel.Handlers{})
	if !errors.Is(err, kernel.ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
}

func TestRestart(t *testing.T) {
	s := sharedServer(t)
	k := startKernel(t, s, Options{})
	run(t, k, "x = 41", kernel.Handlers{})
	c := newCollector()
	errc := make(chan error, 1)
	go func() {
		_, err := k.Execute(testCtx(t, 120*time.Second), kernel.ExecuteRequest{Code: "import time\nprint('busy', flush=True)\ntime.sleep(300)"}, kernel.Handlers{OnIOPub: c.on})
		errc <- err
	}()
	c.waitStdout(t, "busy", 60*time.Second)
	if err := k.Restart(testCtx(t, 120*time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, kernel.ErrRestarted) || !errors.Is(err, kernel.ErrKernelDead) {
			t.Fatalf("running execution got %v, want ErrRestarted", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("running execution not failed by the restart")
	}
	r := run(t, k, "x", kernel.Handlers{})
	if r.Status != "error" || r.Ename != "NameError" {
		t.Fatalf("x survived the restart: %+v", r)
	}
	if r := run(t, k, "y = 1\ny", kernel.Handlers{}); r.Status != "ok" {
		t.Fatalf("after restart: %+v", r)
	}
}

func TestShutdown(t *testing.T) {
	s := sharedServer(t)
	k := startKernel(t, s, Options{})
	if err := k.Shutdown(testCtx(t, 60*time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-k.Done():
	default:
		t.Fatal("Done not closed after Shutdown")
	}
	if k.Err() != nil {
		t.Fatalf("Err after a clean shutdown: %v", k.Err())
	}
	if _, err := client(t, s).Kernel(testCtx(t, 30*time.Second), k.ID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("kernel still on the server after Shutdown: %v", err)
	}
	if _, err := k.Execute(testCtx(t, 10*time.Second), kernel.ExecuteRequest{Code: "1"}, kernel.Handlers{}); err == nil {
		t.Fatal("execute after shutdown succeeded")
	}
}

// A kernel process that dies mid-cell: the server restarts it (autorestart)
// and says "restarting"; the running execution fails with ErrKernelDead and
// the kernel is usable again.
func TestKernelDeathMidCell(t *testing.T) {
	s := sharedServer(t)
	k := startKernel(t, s, Options{})
	_, err := k.Execute(testCtx(t, 120*time.Second), kernel.ExecuteRequest{Code: "import os\nprint('bye', flush=True)\nos._exit(3)"}, kernel.Handlers{})
	if !errors.Is(err, kernel.ErrKernelDead) {
		t.Fatalf("err %v, want ErrKernelDead", err)
	}
	// The server restarted it: wait until it answers again.
	deadline := time.Now().Add(90 * time.Second)
	for {
		r, err := k.Execute(testCtx(t, 60*time.Second), kernel.ExecuteRequest{Code: "2+2"}, kernel.Handlers{})
		if err == nil && r.Status == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kernel not usable after the server restarted it: %v", err)
		}
		time.Sleep(time.Second)
	}
}

// A kernel deleted behind our back (culled, or shut down in JupyterLab):
// Done closes with ErrKernelDead, the running execution fails.
func TestKernelGoneFromServer(t *testing.T) {
	s := sharedServer(t)
	k := startKernel(t, s, Options{PollInterval: 500 * time.Millisecond})
	c := newCollector()
	errc := make(chan error, 1)
	go func() {
		_, err := k.Execute(testCtx(t, 120*time.Second), kernel.ExecuteRequest{Code: "import time\nprint('busy', flush=True)\ntime.sleep(300)"}, kernel.Handlers{OnIOPub: c.on})
		errc <- err
	}()
	c.waitStdout(t, "busy", 60*time.Second)
	if err := client(t, s).Delete(testCtx(t, 60*time.Second), k.ID()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-k.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("deleted kernel not noticed")
	}
	if !errors.Is(k.Err(), kernel.ErrKernelDead) {
		t.Fatalf("Err %v", k.Err())
	}
	select {
	case err := <-errc:
		if !errors.Is(err, kernel.ErrKernelDead) {
			t.Fatalf("running execution: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("running execution not failed")
	}
	if k.Status() != kernel.StatusDead {
		t.Fatalf("status %s", k.Status())
	}
}

// Attach to a kernel someone else started (as JupyterLab does: REST only),
// see its state, detach without stopping it.
func TestAttachByID(t *testing.T) {
	s := sharedServer(t)
	cl := client(t, s)
	m, err := cl.StartKernel(testCtx(t, 60*time.Second), "python3", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Delete(context.Background(), m.ID) })
	a, err := Attach(testCtx(t, 120*time.Second), cl, m.ID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	run(t, a, "shared = 'from a'", kernel.Handlers{})
	a.Detach()
	if a.Err() != nil {
		t.Fatalf("Err after Detach: %v", a.Err())
	}
	b, err := Attach(testCtx(t, 120*time.Second), cl, m.ID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Detach()
	c := newCollector()
	run(t, b, "print(shared)", kernel.Handlers{OnIOPub: c.on})
	if !strings.Contains(c.stdout(), "from a") {
		t.Fatalf("attached kernel lost its state: %q", c.stdout())
	}
	if _, err := Attach(testCtx(t, 30*time.Second), cl, "00000000-0000-4000-8000-000000000000", Options{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("attach to a missing id: %v", err)
	}
}

// The WebSocket drops while a cell prints: the client re-dials with the same
// session id and the server replays what it buffered; every line arrives
// exactly once, in order.
func TestReconnectMidCell(t *testing.T) {
	s := sharedServer(t)
	k := startKernel(t, s, Options{})
	const n = 40
	c := newCollector()
	type res struct {
		r   *kernel.ExecuteReply
		err error
	}
	done := make(chan res, 1)
	go func() {
		r, err := k.Execute(testCtx(t, 180*time.Second), kernel.ExecuteRequest{
			Code: fmt.Sprintf("import time\nfor i in range(%d):\n    print(i, flush=True)\n    time.sleep(0.05)\n'end'", n),
		}, kernel.Handlers{OnIOPub: c.on})
		done <- res{r, err}
	}()
	c.waitStdout(t, "5\n", 60*time.Second)
	k.dropConnection()
	var x res
	select {
	case x = <-done:
	case <-time.After(120 * time.Second):
		t.Fatal("execution did not finish after the reconnect")
	}
	if x.err != nil || x.r.Status != "ok" {
		t.Fatalf("after reconnect: %+v %v", x.r, x.err)
	}
	if k.Reconnects() < 1 {
		t.Fatal("no reconnect happened")
	}
	// What the server guarantees: messages it reads from the kernel after it
	// noticed the close are buffered and replayed to the same session id;
	// those it had already written to the dying socket are gone (no sequence
	// numbers, no acknowledgement). So: in order, never twice, the end of the
	// cell always there, and only lines of the drop's moment may be missing.
	lines := strings.Split(strings.TrimSuffix(c.stdout(), "\n"), "\n")
	prev := -1
	for _, l := range lines {
		var v int
		if _, err := fmt.Sscan(l, &v); err != nil || v <= prev {
			t.Fatalf("outputs duplicated or out of order across the reconnect:\n%q", c.stdout())
		}
		prev = v
	}
	if prev != n-1 {
		t.Fatalf("the end of the cell was lost: %q", c.stdout())
	}
	t.Logf("reconnect mid-cell: %d of %d lines arrived", len(lines), n)
	if r := run(t, k, "1+1", kernel.Handlers{}); r.Status != "ok" {
		t.Fatalf("after reconnect: %+v", r)
	}
}

func TestBadConfigErrors(t *testing.T) {
	s := sharedServer(t)
	bad, err := NewClient(Config{URL: s.URL, Token: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Start(testCtx(t, 60*time.Second), bad, "python3", Options{}); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong token: %v", err)
	} else if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("error shows the token: %v", err)
	}
	if _, err := Start(testCtx(t, 60*time.Second), client(t, s), "no-such-spec", Options{}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "python3") {
		t.Fatalf("missing kernelspec: %v", err)
	}
	dead, _ := NewClient(Config{URL: fmt.Sprintf("http://127.0.0.1:%d/", freePort(t)), Token: "x"})
	if _, err := Start(testCtx(t, 60*time.Second), dead, "", Options{}); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("unreachable: %v", err)
	}
	if _, err := NewClient(Config{URL: s.URL + "?token=abc"}); err == nil {
		t.Fatal("token in URL accepted")
	}
	if _, err := NewClient(Config{URL: "ftp://x"}); err == nil {
		t.Fatal("ftp URL accepted")
	}
}

// The server buffers for a dropped client only when it was the kernel's last
// connection. With another client connected (JupyterLab on the same kernel)
// nothing is buffered: the cell's execute_reply goes to the closed
// connection. The execution must end with ErrLostAcrossReconnect, not hang.
func TestReconnectWithAnotherClientConnected(t *testing.T) {
	s := sharedServer(t)
	k := startKernel(t, s, Options{})
	other, err := Attach(testCtx(t, 120*time.Second), client(t, s), k.ID(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Detach()
	const n = 40
	c := newCollector()
	type res struct {
		r   *kernel.ExecuteReply
		err error
	}
	done := make(chan res, 1)
	go func() {
		r, err := k.Execute(testCtx(t, 180*time.Second), kernel.ExecuteRequest{
			Code: fmt.Sprintf("import time\nfor i in range(%d):\n    print(i, flush=True)\n    time.sleep(0.05)", n),
		}, kernel.Handlers{OnIOPub: c.on})
		done <- res{r, err}
	}()
	c.waitStdout(t, "5\n", 60*time.Second)
	k.dropConnection()
	var x res
	select {
	case x = <-done:
	case <-time.After(150 * time.Second):
		t.Fatal("execution hangs after a reconnect the server did not buffer")
	}
	lines := strings.Count(c.stdout(), "\n")
	status := ""
	if x.r != nil {
		status = x.r.Status
	}
	t.Logf("with another client connected: reply %q err %v; %d of %d lines arrived", status, x.err, lines, n)
	if x.err == nil {
		// The server may have answered before noticing the drop; then all is there.
		if lines != n {
			t.Fatalf("ok reply but %d of %d lines", lines, n)
		}
		return
	}
	if !errors.Is(x.err, ErrLostAcrossReconnect) {
		t.Fatalf("err %v, want ErrLostAcrossReconnect", x.err)
	}
	if r := run(t, k, "1+1", kernel.Handlers{}); r.Status != "ok" {
		t.Fatalf("after the lost reply: %+v", r)
	}
}

// TestReconnectStress (MCP_JUPYTER_STRESS=1): drops the WebSocket at a
// random point of a fast-printing cell, alone and with another client on the
// kernel, and reports lost and duplicated lines per round.
func TestReconnectStress(t *testing.T) {
	if os.Getenv("MCP_JUPYTER_STRESS") == "" {
		t.Skip("set MCP_JUPYTER_STRESS=1")
	}
	rounds := 5
	s := sharedServer(t)
	for _, withOther := range []bool{false, true} {
		k := startKernel(t, s, Options{})
		if withOther {
			o, err := Attach(testCtx(t, 120*time.Second), client(t, s), k.ID(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer o.Detach()
		}
		for r := 0; r < rounds; r++ {
			const n = 3000
			c := newCollector()
			done := make(chan error, 1)
			go func() {
				_, err := k.Execute(testCtx(t, 180*time.Second), kernel.ExecuteRequest{
					Code: fmt.Sprintf("import time\nfor i in range(%d):\n    print(i, flush=True)\n    if i %% 100 == 0: time.sleep(0.01)", n),
				}, kernel.Handlers{OnIOPub: c.on})
				done <- err
			}()
			c.waitStdout(t, fmt.Sprintf("\n%d\n", 200+r*300), 60*time.Second)
			k.dropConnection()
			err := <-done
			seen := map[string]int{}
			for _, l := range strings.Split(strings.TrimSuffix(c.stdout(), "\n"), "\n") {
				seen[l]++
			}
			lost, dup := 0, 0
			for i := 0; i < n; i++ {
				switch seen[fmt.Sprint(i)] {
				case 0:
					lost++
				case 1:
				default:
					dup++
				}
			}
			t.Logf("other client=%v round %d: err=%v lost=%d dup=%d reconnects=%d", withOther, r, err, lost, dup, k.Reconnects())
		}
	}
}
