//go:build linux

package kernel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
)

func procStart(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	v, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestForgedRecordKillsNothing: a kernel (sandboxed kernels could write the
// runtime dir) plants kernel-*.meta.json records naming an unrelated
// process group of the user. The next sidecar's re-attach must take none of
// them for a kernel, and so kill nothing.
func TestForgedRecordKillsNothing(t *testing.T) {
	rt := t.TempDir()
	forgedConn := filepath.Join(rt, "kernel-forged.json")
	if err := os.WriteFile(forgedConn, []byte(`{"transport":"ipc","ip":"`+rt+`/x","key":"k"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// The victim even carries the forged connection file on its command line.
	victim := exec.Command("sh", "-c", "sleep 600 & wait", forgedConn)
	victim.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	pid := victim.Process.Pid
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL); victim.Wait() })
	realStart := procStart(t, pid)

	forge := func(name string, rec map[string]any) {
		rec["pid"] = pid
		rec["label"] = filepath.Join(rt, name+".ipynb")
		rec["spec"] = map[string]any{"name": "python3", "argv": []string{"python3"}}
		b, _ := json.Marshal(rec)
		if err := os.WriteFile(filepath.Join(rt, "kernel-"+name+".meta.json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	forge("empty", map[string]any{"connectionFile": ""})
	forge("root", map[string]any{"connectionFile": "/"})
	forge("word", map[string]any{"connectionFile": "sleep"})
	forge("other", map[string]any{"connectionFile": forgedConn, "procStart": realStart}) // not its own record's file
	forge("forged", map[string]any{"connectionFile": forgedConn, "procStart": realStart + 1})
	forge("nostart", map[string]any{"connectionFile": forgedConn})

	recs, err := kernel.ListRecords(rt)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 {
		t.Fatalf("records: %d, want 6", len(recs))
	}
	for _, r := range recs {
		if r.Alive() {
			t.Errorf("forged record %s (connectionFile %q, procStart %d) passes Alive", filepath.Base(r.Path), r.ConnectionFile, r.ProcStart)
		}
	}
	// The check is not simply "never": the record with every fact right is alive.
	good := kernel.Record{Path: filepath.Join(rt, "kernel-forged.meta.json"), PID: pid, ConnectionFile: forgedConn, ProcStart: realStart}
	if !good.Alive() {
		t.Errorf("a record matching pid, start time and connection file is not alive")
	}

	mgr := session.NewManager(session.Options{RuntimeDir: rt, ReattachTimeout: 5 * time.Second})
	defer mgr.Close(context.Background())
	ra, err := mgr.Reattach(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ss, _ := ra.Wait(ctx)
	if len(ss) != 0 {
		t.Errorf("re-attached %d sessions to a forged record", len(ss))
	}
	time.Sleep(100 * time.Millisecond)
	if err := syscall.Kill(pid, 0); err != nil || kernel.ProcessRunning(pid) == false {
		t.Fatalf("re-attach killed the unrelated process group %d: %v", pid, err)
	}
}
