package kernel_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

// stressRecord is one start attempt of the stress run (a JSON line in
// MCP_JUPYTER_STRESS_OUT).
type stressRecord struct {
	Scenario  string             `json:"scenario"`
	Transport string             `json:"transport"`
	Load      bool               `json:"load"` // a busy process competed for the CPU
	Attempt   int                `json:"attempt"`
	Restart   bool               `json:"restart"`
	PID       int                `json:"pid"`
	Ready     bool               `json:"ready"`
	Early     bool               `json:"early"` // given up at a stage deadline
	Stuck     string             `json:"stuck,omitempty"`
	Waiting   string             `json:"waiting,omitempty"`
	Err       string             `json:"err,omitempty"`
	Stderr    string             `json:"stderr,omitempty"`
	Reached   map[string]float64 `json:"reached_ms"`
	Total     float64            `json:"total_ms"`
}

// stressRun collects the records of one run.
type stressRun struct {
	mu      sync.Mutex
	recs    []stressRecord
	failed  []string // Start/Restart calls that returned an error
	load    atomic.Bool
	started atomic.Int64
	// stormTimeouts: storm executions that returned no reply after the
	// interrupts and were ended by ExecuteRequest.Timeout (interrupt, then
	// restart): a kernel-side loss, counted, not a start hang.
	stormTimeouts atomic.Int64
}

func (r *stressRun) hook(scenario, transport string) func(kernel.StartAttempt) {
	return func(a kernel.StartAttempt) {
		rec := stressRecord{Scenario: scenario, Transport: transport, Load: r.load.Load(), Attempt: a.Attempt,
			Restart: a.Restart, PID: a.PID, Ready: a.Ready(), Early: a.Early, Stuck: string(a.Stuck),
			Reached: map[string]float64{}, Total: ms(a.Duration)}
		if !a.Ready() {
			rec.Waiting, rec.Err, rec.Stderr = a.Waiting, a.Err.Error(), a.Stderr
		}
		for s, d := range a.Reached {
			rec.Reached[string(s)] = ms(d)
		}
		r.mu.Lock()
		r.recs = append(r.recs, rec)
		r.mu.Unlock()
		r.started.Add(1)
	}
}

func (r *stressRun) fail(format string, args ...any) {
	r.mu.Lock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// TestStartStress starts and stops kernels over tcp and ipc, interleaved
// with what preceded the intermittent "did not become ready": SIGKILLed
// kernels, interrupt storms, restarts, two kernels starting at once, a
// busy process competing for the CPU, and another program binding ports. Every start attempt's stages are
// recorded; a start that failed or an attempt given up as stuck is a hang.
//
// MCP_JUPYTER_STRESS=N runs N starts (default 50, 12 with -short);
// MCP_JUPYTER_STRESS_OUT=file appends one JSON line per attempt and writes
// the summary of the whole file (all chunks so far) to file.summary.txt.
func TestStartStress(t *testing.T) {
	n := 50
	if testing.Short() {
		n = 12
	}
	if v := os.Getenv("MCP_JUPYTER_STRESS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("MCP_JUPYTER_STRESS=%q: want a number of starts", v)
		}
	}
	spec := ipykernelSpec(t)
	run := &stressRun{}
	stopLoad := startLoad(t, run, n)
	defer stopLoad()
	stopChurn := startPortChurn(t, os.Getenv("MCP_JUPYTER_STRESS_CHURN"))
	defer stopChurn()

	scenarios := []struct {
		name string
		fn   func(t *testing.T, run *stressRun, spec kernel.LaunchSpec, transport string)
	}{
		{"start-execute-stop", stressPlain},
		{"sigkill", stressSigkill},
		{"interrupt-storm", stressInterruptStorm},
		{"restart", stressRestart},
		{"quick-stop", stressQuickStop},
		{"pair", stressPair},
	}
	const workers = 2 // two kernels starting at once, all the time
	var wg sync.WaitGroup
	var next atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for run.started.Load() < int64(n) && !t.Failed() {
				i := int(next.Add(1) - 1)
				sc := scenarios[i%len(scenarios)]
				transport := "tcp"
				if (i/len(scenarios))%2 == 1 {
					transport = "ipc"
				}
				sc.fn(t, run, spec, transport)
			}
		}()
	}
	wg.Wait()

	run.mu.Lock()
	recs, failed := run.recs, run.failed
	run.mu.Unlock()
	if out := os.Getenv("MCP_JUPYTER_STRESS_OUT"); out != "" {
		all := appendRecords(t, out, recs)
		sum := summarize(all)
		if err := os.WriteFile(out+".summary.txt", []byte(sum), 0o644); err != nil {
			t.Error(err)
		}
		t.Logf("all %d attempts in %s:\n%s", len(all), out, sum)
	} else {
		t.Logf("\n%s", summarize(recs))
	}
	if n := run.stormTimeouts.Load(); n > 0 {
		t.Logf("interrupt storms: %d executions got no reply after being interrupted and were ended by their timeout (interrupt, then restart)", n)
	}
	for _, f := range failed {
		t.Errorf("failed: %s", f)
	}
	for _, r := range recs {
		if r.Early || (!r.Ready && strings.Contains(r.Err, "did not become ready")) {
			t.Errorf("hang: %s/%s pid %d attempt %d stuck at %q waiting for %q: %s\nstderr:\n%s", r.Scenario, r.Transport, r.PID, r.Attempt, r.Stuck, r.Waiting, r.Err, r.Stderr)
		}
	}
}

func stressOptions(t *testing.T, run *stressRun, scenario, transport string) kernel.Options {
	opts := testOptions(t)
	opts.Transport = transport
	opts.OnStartAttempt = run.hook(scenario, transport)
	opts.ShutdownGrace = 3 * time.Second
	return opts
}

func stressStart(t *testing.T, run *stressRun, spec kernel.LaunchSpec, scenario, transport string) *kernel.Local {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	k, err := kernel.Start(ctx, spec, stressOptions(t, run, scenario, transport))
	if err != nil {
		run.fail("%s/%s start: %v", scenario, transport, err)
		return nil
	}
	return k
}

func stressStop(k *kernel.Local) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k.Shutdown(ctx)
}

func stressExec(run *stressRun, k *kernel.Local, scenario, code string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := k.Execute(ctx, kernel.ExecuteRequest{Code: code}, kernel.Handlers{})
	if err != nil || r.Status != "ok" {
		run.fail("%s execute %q: %+v %v", scenario, code, r, err)
	}
}

func stressPlain(t *testing.T, run *stressRun, spec kernel.LaunchSpec, transport string) {
	if k := stressStart(t, run, spec, "start-execute-stop", transport); k != nil {
		stressExec(run, k, "start-execute-stop", "print(1+1)")
		stressStop(k)
	}
}

func stressQuickStop(t *testing.T, run *stressRun, spec kernel.LaunchSpec, transport string) {
	if k := stressStart(t, run, spec, "quick-stop", transport); k != nil {
		stressStop(k)
	}
}

// stressSigkill kills the kernel's process group mid-run, as K5 does.
func stressSigkill(t *testing.T, run *stressRun, spec kernel.LaunchSpec, transport string) {
	k := stressStart(t, run, spec, "sigkill", transport)
	if k == nil {
		return
	}
	defer stressStop(k)
	done := make(chan error, 1)
	go func() {
		_, err := k.Execute(context.Background(), kernel.ExecuteRequest{Code: "import time\nwhile True: time.sleep(0.01)"}, kernel.Handlers{})
		done <- err
	}()
	waitStatus(k, kernel.StatusBusy, 30*time.Second)
	if pid := k.PID(); pid > 0 { // never kill(0): that is our own group
		syscall.Kill(-pid, syscall.SIGKILL)
	}
	select {
	case err := <-done:
		if !errors.Is(err, kernel.ErrKernelDead) {
			run.fail("sigkill: execute returned %v, want ErrKernelDead", err)
		}
	case <-time.After(time.Minute):
		run.fail("sigkill: death not noticed in a minute")
	}
}

// stressInterruptStorm interrupts running code with bursts of SIGINT (and
// re-sends, as K4 does, those ipykernel swallowed), then idle code.
func stressInterruptStorm(t *testing.T, run *stressRun, spec kernel.LaunchSpec, transport string) {
	k := stressStart(t, run, spec, "interrupt-storm", transport)
	if k == nil {
		return
	}
	defer stressStop(k)
	ctx := context.Background()
	for round := range 3 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, err := k.Execute(ctx, kernel.ExecuteRequest{Code: "import time\nwhile True: time.sleep(0.001)", Timeout: 20 * time.Second}, kernel.Handlers{})
			if errors.Is(err, kernel.ErrTimeout) {
				run.stormTimeouts.Add(1)
			}
		}()
		waitStatus(k, kernel.StatusBusy, 30*time.Second)
		for range 5 {
			k.Interrupt(ctx)
			time.Sleep(20 * time.Millisecond)
		}
		t0 := time.Now()
	wait:
		for {
			select {
			case <-done:
				break wait
			case <-time.After(2 * time.Second):
				if time.Since(t0) > 2*time.Minute {
					run.fail("interrupt-storm/%s round %d: execution did not end in 2 minutes, not even by its timeout (status %s)", transport, round, k.Status())
					return
				}
				k.Interrupt(ctx)
			}
		}
		for range 3 {
			k.Interrupt(ctx) // while idle
			time.Sleep(50 * time.Millisecond)
		}
	}
	if k.Err() == nil {
		stressExec(run, k, "interrupt-storm", "1")
	}
}

func stressRestart(t *testing.T, run *stressRun, spec kernel.LaunchSpec, transport string) {
	k := stressStart(t, run, spec, "restart", transport)
	if k == nil {
		return
	}
	defer stressStop(k)
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		err := k.Restart(ctx)
		cancel()
		if err != nil {
			run.fail("restart/%s: %v", transport, err)
			return
		}
	}
	stressExec(run, k, "restart", "1")
}

// stressPair starts two kernels at the same instant.
func stressPair(t *testing.T, run *stressRun, spec kernel.LaunchSpec, transport string) {
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if k := stressStart(t, run, spec, "pair", transport); k != nil {
				stressExec(run, k, "pair", "1")
				stressStop(k)
			}
		}()
	}
	wg.Wait()
}

func waitStatus(k *kernel.Local, s kernel.Status, limit time.Duration) {
	for deadline := time.Now().Add(limit); k.Status() != s && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
}

// portChurn is another program on the machine binding ports the way test
// servers do: port 0, listen, hold about a second, close; argv[1] a second
// (MCP_JUPYTER_STRESS_CHURN, default 50).
const portChurn = `
import socket, sys, time, collections
rate = float(sys.argv[1])
held = collections.deque()
while True:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    held.append((time.time(), s))
    while held and time.time() - held[0][0] > 1.0:
        held.popleft()[1].close()
    time.sleep(1 / rate)
`

// startPortChurn runs portChurn for the whole stress run: what made a start
// hang when kernel ports were picked by binding port 0 (see connection.go).
func startPortChurn(t *testing.T, rate string) (stop func()) {
	if rate == "" && os.Getenv("MCP_JUPYTER_STRESS") == "" {
		// The short default run shares the machine with other test packages
		// whose jupyter_client drivers pick ports the racy way: no churn there
		// (TestPortTakenRetriedAtOnce covers the cause deterministically).
		return func() {}
	}
	if rate == "" {
		rate = "50"
	}
	cmd := exec.Command(testenv.Python(t), "-c", portChurn, rate)
	if err := cmd.Start(); err != nil {
		t.Fatalf("port churn: %v", err)
	}
	return func() { cmd.Process.Kill(); cmd.Wait() }
}

// startLoad runs a busy process for the middle third of the starts.
func startLoad(t *testing.T, run *stressRun, n int) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var cmd *exec.Cmd
		defer func() {
			if cmd != nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		}()
		for {
			select {
			case <-quit:
				return
			case <-time.After(100 * time.Millisecond):
			}
			s := run.started.Load()
			want := s >= int64(n)/3 && s < 2*int64(n)/3
			if want && cmd == nil {
				cmd = exec.Command(testenv.Python(t), "-c", "while True: pass")
				if err := cmd.Start(); err != nil {
					t.Errorf("busy process: %v", err)
					cmd = nil
					return
				}
				run.load.Store(true)
			} else if !want && cmd != nil {
				cmd.Process.Kill()
				cmd.Wait()
				cmd = nil
				run.load.Store(false)
			}
		}
	}()
	return func() { close(quit); <-done }
}

func appendRecords(t *testing.T, path string, recs []stressRecord) []stressRecord {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var all []stressRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r stressRecord
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			all = append(all, r)
		}
	}
	for _, r := range recs {
		b, _ := json.Marshal(r)
		f.Write(append(b, '\n'))
	}
	return append(all, recs...)
}

// summarize tabulates attempts: counts, hangs with their stage, and the time
// from launch to each stage (median, p99, max), overall and per transport.
func summarize(recs []stressRecord) string {
	var b strings.Builder
	ready, early, failed := 0, 0, 0
	byScenario := map[string]int{}
	stuckAt := map[string]int{}
	for _, r := range recs {
		byScenario[r.Scenario]++
		switch {
		case r.Ready:
			ready++
		case r.Early:
			early++
			stuckAt[r.Stuck+" / "+r.Waiting]++
		default:
			failed++
			stuckAt[r.Stuck+" / "+r.Waiting]++
		}
	}
	fmt.Fprintf(&b, "start attempts: %d (ready %d, stuck and retried/failed early %d, failed otherwise %d)\n", len(recs), ready, early, failed)
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range byScenario {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-20s %d\n", k, byScenario[k])
	}
	for k, v := range stuckAt {
		fmt.Fprintf(&b, "  not ready at %s: %d\n", k, v)
	}
	table := func(title string, keep func(stressRecord) bool) {
		fmt.Fprintf(&b, "%s — ms from launch to stage (ready attempts):\n", title)
		fmt.Fprintf(&b, "  %-22s %6s %9s %9s %9s\n", "stage", "n", "median", "p99", "max")
		stages := append(append([]string(nil), stageNames()...), "ready")
		for _, s := range stages {
			var v []float64
			for _, r := range recs {
				if !r.Ready || !keep(r) {
					continue
				}
				if s == "ready" {
					v = append(v, r.Total)
				} else if d, ok := r.Reached[s]; ok {
					v = append(v, d)
				}
			}
			if len(v) == 0 {
				continue
			}
			slices.Sort(v)
			fmt.Fprintf(&b, "  %-22s %6d %9.0f %9.0f %9.0f\n", s, len(v), quantile(v, 0.5), quantile(v, 0.99), v[len(v)-1])
		}
	}
	table("all", func(stressRecord) bool { return true })
	table("tcp", func(r stressRecord) bool { return r.Transport == "tcp" })
	table("ipc", func(r stressRecord) bool { return r.Transport == "ipc" })
	table("under CPU load", func(r stressRecord) bool { return r.Load })
	return b.String()
}

func stageNames() []string {
	var s []string
	for _, st := range kernel.Stages {
		s = append(s, string(st))
	}
	return s
}

func quantile(sorted []float64, q float64) float64 {
	i := int(q*float64(len(sorted)-1) + 0.5)
	return sorted[min(i, len(sorted)-1)]
}
