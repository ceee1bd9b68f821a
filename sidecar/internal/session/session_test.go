package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
)

func newManager(t *testing.T, tweak ...func(*session.Options)) (*session.Manager, kernel.LaunchSpec) {
	py := testenv.Python(t)
	opts := session.Options{
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		RuntimeDir: t.TempDir(),
		Kernel:     kernel.Options{StartTimeout: 90 * time.Second},
	}
	for _, f := range tweak {
		f(&opts)
	}
	m := session.NewManager(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		m.Close(ctx)
	})
	dir := t.TempDir()
	return m, kernel.LaunchSpec{Name: "python3", Argv: []string{py, "-m", "ipykernel_launcher", "-f", "{connection_file}"}, Dir: dir}
}

func start(t *testing.T, m *session.Manager, spec kernel.LaunchSpec, nb string) *session.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, reused, err := m.Start(ctx, nb, spec)
	if err != nil {
		t.Fatal(err)
	}
	if reused {
		t.Fatal("fresh start reported as reused")
	}
	return s
}

func wait(t *testing.T, e *session.Execution) session.ExecState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := e.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func stdoutOf(t *testing.T, e *session.Execution) string {
	var b strings.Builder
	for _, raw := range e.Outputs() {
		var o struct {
			OutputType string `json:"output_type"`
			Name, Text string
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		if o.OutputType == "stream" && o.Name == "stdout" {
			b.WriteString(o.Text)
		}
	}
	return b.String()
}

func TestQueueOrderHumanAndAgent(t *testing.T) {
	t.Parallel()
	m, spec := newManager(t)
	nb := filepath.Join(spec.Dir, "a.ipynb")
	s := start(t, m, spec, nb)
	if again, reused, err := m.Start(context.Background(), nb, spec); err != nil || !reused || again != s {
		t.Fatalf("second start: reused=%v err=%v", reused, err)
	}
	var events []session.Event
	var mu sync.Mutex
	cancel := m.Subscribe(func(e session.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	})
	defer cancel()

	var execs []*session.Execution
	e, _ := s.Submit(session.Request{CellID: "c0", Code: "import time\nlog = []\ntime.sleep(0.5)\nlog.append('h0')", Origin: session.OriginHuman})
	execs = append(execs, e)
	for i, o := range []string{session.OriginAgent, session.OriginHuman, session.OriginAgent} {
		e, err := s.Submit(session.Request{CellID: "c" + string(rune('1'+i)), Code: "log.append('" + o[:1] + string(rune('1'+i)) + "')", Origin: o})
		if err != nil {
			t.Fatal(err)
		}
		if st := e.State().Status; st != session.StatusQueued {
			t.Errorf("state right after submit = %s, want queued", st)
		}
		execs = append(execs, e)
	}
	last, _ := s.Submit(session.Request{CellID: "c4", Code: "print(log)", Origin: session.OriginAgent})
	execs = append(execs, last)
	for i, e := range execs {
		st := wait(t, e)
		if st.Status != session.StatusOK || st.ExecutionCount != i+1 {
			t.Errorf("exec %d: %+v", i, st)
		}
	}
	if got := stdoutOf(t, last); got != "['h0', 'a1', 'h2', 'a3']\n" {
		t.Errorf("order = %q", got)
	}
	for i := 1; i < len(execs); i++ {
		if execs[i].State().StartedAt.Before(execs[i-1].State().EndedAt) {
			t.Errorf("exec %d started before %d ended", i, i-1)
		}
	}
	if got := len(s.Executions()); got != 5 {
		t.Errorf("history has %d executions", got)
	}
	if s.Execution(last.ID) != last {
		t.Error("lookup by task id failed")
	}
	// Events: each execution went queued → running → ok, with its output.
	mu.Lock()
	defer mu.Unlock()
	var lastStates []string
	outputs := 0
	for _, ev := range events {
		if ev.TaskID == last.ID && ev.Kind == session.EventState {
			lastStates = append(lastStates, ev.State.Status)
		}
		if ev.TaskID == last.ID && ev.Kind == session.EventOutput {
			outputs++
		}
	}
	if diff := cmp.Diff([]string{"queued", "running", "running", "ok"}, lastStates); diff != "" {
		t.Errorf("state events (-want +got):\n%s", diff)
	}
	if outputs == 0 {
		t.Error("no output events")
	}
}

func TestLongPollRead(t *testing.T) {
	t.Parallel()
	m, spec := newManager(t)
	s := start(t, m, spec, filepath.Join(spec.Dir, "b.ipynb"))
	e, _ := s.Submit(session.Request{Code: "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.3)\n'end'"})
	ctx := context.Background()
	next := 0
	var seqs []int
	var text strings.Builder
	for rounds := 0; rounds < 100; rounds++ {
		t0 := time.Now()
		c := e.Read(ctx, next, 20*time.Second)
		if len(c.Ops) == 0 && !c.Done {
			t.Fatalf("long-poll returned nothing after %v", time.Since(t0))
		}
		for _, op := range c.Ops {
			seqs = append(seqs, op.Seq)
			text.WriteString(op.Text)
			if op.Kind == "append" {
				var o struct{ Text string }
				json.Unmarshal(op.Output, &o)
				text.WriteString(o.Text)
			}
		}
		next = c.Next
		if c.Done {
			break
		}
	}
	for i, s := range seqs {
		if s != i {
			t.Fatalf("seqs %v not gap-free", seqs)
		}
	}
	if text.String() != "0\n1\n2\n" {
		t.Errorf("streamed text = %q", text.String())
	}
	if st := e.State(); st.Status != "ok" {
		t.Errorf("state %+v", st)
	}
	// Nothing new: a read with no wait returns at once, a read past the end with a wait returns when done.
	c := e.Read(ctx, next, 0)
	if len(c.Ops) != 0 || !c.Done {
		t.Errorf("read at end: %+v", c)
	}
	if n := len(e.Outputs()); n != 2 {
		t.Errorf("%d outputs, want stream + execute_result", n)
	}
}

func TestDeadKernelPropagates(t *testing.T) {
	t.Parallel()
	m, spec := newManager(t)
	nb := filepath.Join(spec.Dir, "c.ipynb")
	s := start(t, m, spec, nb)
	running, _ := s.Submit(session.Request{Code: "import time\ntime.sleep(120)"})
	queued1, _ := s.Submit(session.Request{Code: "1"})
	queued2, _ := s.Submit(session.Request{Code: "2", Origin: session.OriginHuman})
	deadline := time.Now().Add(time.Minute)
	for running.State().Status != session.StatusRunning && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if p, err := os.FindProcess(s.Kernel().PID()); err != nil || p.Kill() != nil {
		t.Fatalf("kill kernel %d: %v", s.Kernel().PID(), err)
	}
	for _, e := range []*session.Execution{running, queued1, queued2} {
		if st := wait(t, e); st.Status != session.StatusDead || !strings.Contains(st.Evalue, "killed") {
			t.Errorf("%s: %+v", e.ID, st)
		}
	}
	later, err := s.Submit(session.Request{Code: "3"})
	if err != nil {
		t.Fatal(err)
	}
	if st := wait(t, later); st.Status != session.StatusDead {
		t.Errorf("submitted after death: %+v", st)
	}
	// Restart brings a fresh kernel.
	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	e, _ := s.Submit(session.Request{Code: "print('back')"})
	if st := wait(t, e); st.Status != "ok" || stdoutOf(t, e) != "back\n" {
		t.Errorf("after restart: %+v %q", st, stdoutOf(t, e))
	}
}

func TestInputCancelInternal(t *testing.T) {
	t.Parallel()
	m, spec := newManager(t)
	s := start(t, m, spec, filepath.Join(spec.Dir, "d.ipynb"))
	inputs := make(chan session.Event, 4)
	defer m.Subscribe(func(e session.Event) {
		if e.Kind == session.EventInput {
			inputs <- e
		}
	})()
	e, _ := s.Submit(session.Request{Code: "name = input('who? ')\nprint('hi', name)", AllowStdin: true, Origin: session.OriginHuman})
	queued, _ := s.Submit(session.Request{Code: "print('should not run')"})
	if err := s.Cancel(queued.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-inputs:
		if ev.TaskID != e.ID || ev.Input.Prompt != "who? " {
			t.Errorf("input event %+v", ev)
		}
	case <-time.After(time.Minute):
		t.Fatal("no input request")
	}
	if err := s.Cancel(e.ID); !errors.Is(err, session.ErrNotQueued) {
		t.Errorf("cancel of the running one: %v, want ErrNotQueued", err)
	}
	if p := e.PendingInput(); p == nil || p.Prompt != "who? " {
		t.Fatalf("pending input %+v", p)
	}
	if err := e.SubmitInput("Ada"); err != nil {
		t.Fatal(err)
	}
	if err := e.SubmitInput("twice"); !errors.Is(err, session.ErrNoPendingInput) {
		t.Errorf("second answer: %v", err)
	}
	if st := wait(t, e); st.Status != "ok" || stdoutOf(t, e) != "hi Ada\n" {
		t.Errorf("%+v %q", st, stdoutOf(t, e))
	}
	if st := wait(t, queued); st.Status != session.StatusCancelled {
		t.Errorf("cancelled: %+v", st)
	}

	var evs []session.Event
	var mu sync.Mutex
	defer m.Subscribe(func(e session.Event) { mu.Lock(); evs = append(evs, e); mu.Unlock() })()
	res, err := s.RunInternal(context.Background(), "import sys\nprint('out')\nprint('err', file=sys.stderr)\nfrom IPython.display import display\ndisplay({'a': 1}, raw=True)\n41+1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "ok" || res.Stdout != "out\n" || res.Stderr != "err\n" || string(res.Data["a"]) != "1" {
		t.Errorf("internal result %+v", res)
	}
	res, _ = s.RunInternal(context.Background(), "1/0")
	if res.Status != "error" || res.Ename != "ZeroDivisionError" {
		t.Errorf("internal error result %+v", res)
	}
	mu.Lock()
	if len(evs) != 0 {
		t.Errorf("internal code emitted %d events", len(evs))
	}
	mu.Unlock()
	if n := len(s.Executions()); n != 2 {
		t.Errorf("history has %d executions, internal runs must not be recorded", n)
	}
	// Silent runs leave the execution count alone.
	e2, _ := s.Submit(session.Request{Code: "2"})
	if st := wait(t, e2); st.ExecutionCount != 2 {
		t.Errorf("execution count %d after internal runs, want 2", st.ExecutionCount)
	}
}

func TestStopAndTimeout(t *testing.T) {
	t.Parallel()
	m, spec := newManager(t)
	nb := filepath.Join(spec.Dir, "e.ipynb")
	s := start(t, m, spec, nb)
	e, _ := s.Submit(session.Request{Code: "import time\ntime.sleep(60)", Timeout: time.Second})
	if st := wait(t, e); st.Status != session.StatusTimeout {
		t.Errorf("timeout: %+v", st)
	}
	e, _ = s.Submit(session.Request{Code: "1/0", StopOnError: true})
	if st := wait(t, e); st.Status != session.StatusError || st.Ename != "ZeroDivisionError" {
		t.Errorf("error: %+v", st)
	}
	k := s.Kernel()
	if err := m.Stop(context.Background(), nb); err != nil {
		t.Fatal(err)
	}
	select {
	case <-k.Done():
	case <-time.After(time.Minute):
		t.Fatal("kernel not shut down")
	}
	if m.Get(nb) != nil || len(m.List()) != 0 {
		t.Error("session still listed")
	}
	if err := m.Stop(context.Background(), nb); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("second stop: %v", err)
	}
}

func TestInputTimeout(t *testing.T) {
	t.Parallel()
	m, spec := newManager(t)
	s := start(t, m, spec, filepath.Join(spec.Dir, "in.ipynb"))
	e, _ := s.Submit(session.Request{Code: "input('never answered: ')", AllowStdin: true, InputTimeout: 500 * time.Millisecond})
	st := wait(t, e)
	if st.Status != session.StatusError || st.Ename != "KeyboardInterrupt" {
		t.Errorf("unanswered input: %+v", st)
	}
	if e.PendingInput() != nil {
		t.Error("input still pending after the timeout")
	}
	e, _ = s.Submit(session.Request{Code: "print('next')"})
	if st := wait(t, e); st.Status != "ok" {
		t.Errorf("kernel unusable after an input timeout: %+v", st)
	}
}
