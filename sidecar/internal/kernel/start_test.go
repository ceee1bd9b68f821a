package kernel_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

// attempts collects the start records of one kernel.
type attempts struct {
	mu sync.Mutex
	as []kernel.StartAttempt
}

func (a *attempts) add(x kernel.StartAttempt) {
	a.mu.Lock()
	a.as = append(a.as, x)
	a.mu.Unlock()
}

func (a *attempts) all() []kernel.StartAttempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]kernel.StartAttempt(nil), a.as...)
}

func TestStartRecordsEveryStage(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"tcp", "ipc"} {
		t.Run(transport, func(t *testing.T) {
			var rec attempts
			opts := testOptions(t)
			opts.Transport = transport
			opts.OnStartAttempt = rec.add
			k := startKernel(t, ipykernelSpec(t), opts)
			if err := k.Restart(context.Background()); err != nil {
				t.Fatal(err)
			}
			as := rec.all()
			if len(as) != 2 || as[0].Restart || !as[1].Restart {
				t.Fatalf("attempts = %+v, want a start and a restart", as)
			}
			for _, a := range as {
				if !a.Ready() || a.PID == 0 || a.Transport != transport {
					t.Errorf("attempt %+v", a)
				}
				for _, s := range kernel.Stages {
					if _, ok := a.Reached[s]; !ok {
						t.Errorf("stage %q not recorded: %s", s, a.Progress())
					}
				}
				if a.Reached[kernel.StageSpawned] > a.Reached[kernel.StageDialled] || a.Reached[kernel.StageDialled] > a.Reached[kernel.StageInfoReply] {
					t.Errorf("stages out of order: %s", a.Progress())
				}
			}
		})
	}
}

// A kernel whose heartbeat port was taken before it bound lives on without a
// heartbeat. The start used to wait out StartTimeout on it (stuck dialling
// hb); now the kernel's own "Address already in use" relaunches it on new
// ports at once.
func TestPortTakenRetriedAtOnce(t *testing.T) {
	t.Parallel()
	var rec attempts
	spec := fixtureSpec(t, "hb-port-taken")
	spec.Env = append(os.Environ(), "HB_TAKEN_ONCE="+filepath.Join(t.TempDir(), "taken"))
	opts := testOptions(t)
	opts.StartTimeout = 5 * time.Minute // the old behaviour: wait all of it
	opts.StageTimeout = time.Minute     // not what ends the first attempt
	opts.OnStartAttempt = rec.add
	t0 := time.Now()
	k := startKernel(t, spec, opts)
	took := time.Since(t0)
	as := rec.all()
	if len(as) != 2 {
		t.Fatalf("attempts = %+v, want one on a taken port and a ready one", as)
	}
	first := as[0]
	if first.Ready() || first.Early || first.Stuck != kernel.StageDialled || first.Waiting != "dial hb" {
		t.Errorf("first attempt: stuck=%q waiting=%q early=%v err=%v", first.Stuck, first.Waiting, first.Early, first.Err)
	}
	if !strings.Contains(first.Stderr, "Address already in use") {
		t.Errorf("first attempt's stderr lacks the kernel's bind error:\n%s", first.Stderr)
	}
	if !as[1].Ready() {
		t.Errorf("retry: %v", as[1].Err)
	}
	if took > 50*time.Second {
		t.Errorf("start took %v", took)
	}
	if r, _ := execute(t, k, "1+1"); r.Status != "ok" {
		t.Errorf("reply %+v", r)
	}
}

func TestPortTakenEveryTimeFails(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.StartTimeout = 5 * time.Minute
	opts.StageTimeout = time.Minute
	t0 := time.Now()
	_, err := kernel.Start(context.Background(), fixtureSpec(t, "hb-port-taken"), opts)
	var se *kernel.StartError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want a StartError", err, err)
	}
	if d := time.Since(t0); d > time.Minute {
		t.Errorf("failure reported after %v", d)
	}
	if len(se.Attempts) != 3 || se.Stage != kernel.StageDialled {
		t.Errorf("%d attempts, stage %q", len(se.Attempts), se.Stage)
	}
	for _, want := range []string{"taken before it bound", `stopped at stage "sockets dialled"`, "waiting for dial hb", "attempt 2", "Exception in thread Heartbeat"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// A kernel that bound its sockets and then sits idle without answering is
// stuck: seen at the stage deadline, killed, retried once on new ports.
func TestStuckStartRetriedOnce(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"tcp", "ipc"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			var rec attempts
			spec := fixtureSpec(t, "silent")
			spec.Env = append(os.Environ(), "SILENT_ONCE="+filepath.Join(t.TempDir(), "silent"))
			opts := testOptions(t)
			opts.Transport = transport
			opts.StartTimeout = 5 * time.Minute
			opts.StageTimeout = 3 * time.Second
			opts.OnStartAttempt = rec.add
			t0 := time.Now()
			k := startKernel(t, spec, opts)
			if d := time.Since(t0); d > 2*time.Minute {
				t.Errorf("start took %v", d)
			}
			as := rec.all()
			if len(as) != 2 {
				t.Fatalf("attempts = %+v, want a stuck one and a ready one", as)
			}
			if a := as[0]; a.Ready() || !a.Early || a.Stuck != kernel.StageInfoReply {
				t.Errorf("first attempt: stuck=%q waiting=%q early=%v err=%v", a.Stuck, a.Waiting, a.Early, a.Err)
			}
			if !as[1].Ready() {
				t.Errorf("retry: %v", as[1].Err)
			}
			if r, _ := execute(t, k, "1+1"); r.Status != "ok" {
				t.Errorf("reply %+v", r)
			}
		})
	}
}

// When the retry is stuck too, the error names the stage, what the start
// waited for and both attempts, well before StartTimeout.
func TestStuckStartErrorNamesStage(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.StartTimeout = 5 * time.Minute
	opts.StageTimeout = 3 * time.Second
	t0 := time.Now()
	_, err := kernel.Start(context.Background(), fixtureSpec(t, "silent"), opts)
	if err == nil {
		t.Fatal("started")
	}
	if d := time.Since(t0); d > 2*time.Minute {
		t.Errorf("failure reported after %v", d)
	}
	var se *kernel.StartError
	if !errors.As(err, &se) || !errors.Is(err, kernel.ErrStartTimeout) {
		t.Fatalf("err = %v (%T), want a StartError wrapping ErrStartTimeout", err, err)
	}
	if se.Stage != kernel.StageInfoReply || len(se.Attempts) != 2 {
		t.Errorf("stage %q, %d attempts", se.Stage, len(se.Attempts))
	}
	for _, want := range []string{`stopped at stage "kernel_info reply"`, "waiting for kernel_info reply, heartbeat, iopub", "attempt 1", "was stuck", "retried on new ports", "sockets dialled +"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if entries, _ := os.ReadDir(opts.RuntimeDir); len(entries) != 0 {
		t.Errorf("runtime dir not cleaned: %v", entries)
	}
}
