package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Kernels outlive the sidecar: next to each connection file the runtime dir
// holds a record (pid, launch spec, label) so a restarted sidecar can attach
// to the still-running kernel instead of losing its state.

// ErrDetached: the Local was detached; its kernel keeps running.
var ErrDetached = errors.New("detached from kernel")

const recordSuffix = ".meta.json"

// Record describes a kernel in a runtime dir.
type Record struct {
	Path           string     `json:"-"` // the record file
	PID            int        `json:"pid"`
	ConnectionFile string     `json:"connectionFile"`
	Label          string     `json:"label"` // e.g. the notebook path
	Spec           LaunchSpec `json:"spec"`
	StartedAt      time.Time  `json:"startedAt"`
	// ProcStart is the process's start time as the OS records it (Linux:
	// clock ticks since boot; macOS and Windows: nanoseconds since the
	// epoch): with the pid and the connection file it names one process.
	ProcStart uint64 `json:"procStart,omitempty"`
	// InterruptEvent names the kernel's interrupt event on Windows.
	InterruptEvent string `json:"interruptEvent,omitempty"`
}

// Alive reports whether the record's process still runs and is the kernel of
// that connection file, never a recycled pid or another process of the
// user. Everything must match: the pid runs; the connection file is the
// record's own (kernel-<id>.json next to kernel-<id>.meta.json), a regular
// file; the process started when the record says (so a forged record naming
// some other process fails); and where /proc tells, its command line passes
// that connection file. A record that cannot prove it is taken for dead.
func (r Record) Alive() bool {
	if r.PID <= 0 || !ProcessRunning(r.PID) {
		return false
	}
	if !r.ownsConnectionFile() {
		return false
	}
	if st, err := processStartTime(r.PID); err != nil || r.ProcStart == 0 || st != r.ProcStart {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", r.PID))
	if err != nil {
		return true // no /proc (macOS, Windows): pid and start time decide
	}
	for _, arg := range strings.Split(string(b), "\x00") {
		if arg == r.ConnectionFile || strings.HasSuffix(arg, "="+r.ConnectionFile) {
			return true
		}
	}
	return false
}

// ProcessStartTime is when process pid started, as the OS records it (the
// unit differs by OS; compare values only on one machine): with the pid it
// names one process, where the pid alone may have been reused.
func ProcessStartTime(pid int) (uint64, error) { return processStartTime(pid) }

// ownsConnectionFile: the connection file is an absolute kernel-<id>.json,
// a regular file, and (for a record read from disk) the one next to it.
func (r Record) ownsConnectionFile() bool {
	c := r.ConnectionFile
	base := filepath.Base(c)
	if c == "" || !filepath.IsAbs(c) || filepath.Clean(c) != c || !strings.HasPrefix(base, "kernel-") || !strings.HasSuffix(base, ".json") || strings.HasSuffix(base, recordSuffix) {
		return false
	}
	if r.Path != "" {
		if filepath.Dir(r.Path) != filepath.Dir(c) || strings.TrimSuffix(filepath.Base(r.Path), recordSuffix)+".json" != base {
			return false
		}
	}
	fi, err := os.Lstat(c)
	return err == nil && fi.Mode().IsRegular()
}

// Remove deletes the record and its connection file.
func (r Record) Remove() {
	os.Remove(r.ConnectionFile)
	os.Remove(r.Path)
}

// Kill ends the kernel of a record that cannot be re-attached: its process
// group is killed (we started the kernel as the leader of a group of its
// own, so its children go too) and the record removed. It waits, at most
// ctx's deadline, for the process to be gone.
func (r Record) Kill(ctx context.Context) error {
	if r.Alive() {
		if err := killProcessGroup(r.PID); err != nil && ProcessRunning(r.PID) {
			return fmt.Errorf("kill kernel %d: %w", r.PID, err)
		}
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for ProcessRunning(r.PID) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("kill kernel %d: still running: %w", r.PID, ctx.Err())
			case <-t.C:
			}
		}
	}
	r.Remove()
	return nil
}

// ListRecords returns the kernel records in a runtime dir.
func ListRecords(runtimeDir string) ([]Record, error) {
	matches, err := filepath.Glob(filepath.Join(runtimeDir, "kernel-*"+recordSuffix))
	if err != nil {
		return nil, fmt.Errorf("list kernel records: %w", err)
	}
	var out []Record
	for _, p := range matches {
		r, err := readRecord(p)
		if err != nil {
			continue // a half-written record of a kernel that failed to start
		}
		out = append(out, r)
	}
	return out, nil
}

func readRecord(path string) (Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Record{}, fmt.Errorf("read kernel record: %w", err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("kernel record %s: %w", path, err)
	}
	r.Path = path
	return r, nil
}

func (k *Local) recordPath() string {
	return filepath.Join(k.opts.RuntimeDir, k.base+recordSuffix)
}

func (k *Local) writeRecord(pid int, interruptEvent string) {
	r := Record{PID: pid, ConnectionFile: k.connPath, Label: k.opts.Label, Spec: k.spec, StartedAt: time.Now().UTC(),
		InterruptEvent: interruptEvent}
	st, err := processStartTime(pid)
	if err != nil {
		k.log.Warn("kernel start time unknown; this kernel cannot be re-attached", "err", err)
		return
	}
	r.ProcStart = st
	b, err := json.MarshalIndent(r, "", "  ")
	if err == nil {
		err = os.WriteFile(k.recordPath(), b, 0o600)
	}
	if err != nil {
		k.log.Warn("write kernel record; this kernel cannot be re-attached", "err", err)
	}
}

// Attach connects to a kernel a previous sidecar started, from its record.
// A kernel still busy with code that sidecar ran is interrupted (its state
// stays); one that does not answer within opts.StartTimeout fails with
// ErrStartTimeout and is left alone (see Record.Kill).
func Attach(ctx context.Context, rec Record, opts Options) (*Local, error) {
	opts.defaults()
	if !rec.Alive() {
		return nil, fmt.Errorf("attach to kernel %d: %w: process gone", rec.PID, ErrKernelDead)
	}
	b, err := os.ReadFile(rec.ConnectionFile)
	if err != nil {
		return nil, fmt.Errorf("attach to kernel %d: %w", rec.PID, err)
	}
	var ci connectionInfo
	if err := json.Unmarshal(b, &ci); err != nil {
		return nil, fmt.Errorf("attach to kernel %d: connection file: %w", rec.PID, err)
	}
	opts.RuntimeDir = filepath.Dir(rec.Path) // the record and connection file live there
	if opts.Label == "" {
		opts.Label = rec.Label
	}
	k := &Local{spec: rec.Spec, opts: opts, session: newID(), status: StatusStarting, done: make(chan struct{}),
		sg: signer{key: []byte(ci.Key)}, connPath: rec.ConnectionFile,
		base: strings.TrimSuffix(filepath.Base(rec.Path), recordSuffix)}
	k.log = opts.Logger.With("kernel", rec.Spec.Name)
	ictx, cancel := context.WithCancel(context.Background())
	inc := &incarnation{
		k: k, ci: ci, pid: rec.PID, interruptEvent: rec.InterruptEvent, ctx: ictx, cancel: cancel, attached: true, pollStop: make(chan struct{}),
		exited: make(chan struct{}), dead: make(chan struct{}), iopubSeen: make(chan struct{}),
		pending: map[string]*pending{},
	}
	go inc.pollProcess()
	if err := inc.connect(ctx); err != nil {
		inc.detach()
		return nil, fmt.Errorf("attach to kernel %d: %w", rec.PID, err)
	}
	inc.readers.Add(1)
	go inc.heartbeat()
	k.mu.Lock()
	k.inc = inc
	k.mu.Unlock()
	k.log.Info("attached to kernel", "pid", rec.PID, "label", rec.Label)
	return k, nil
}

// pollProcess detects the exit of a kernel that is not our child (so no Wait).
func (inc *incarnation) pollProcess() {
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-inc.pollStop:
			return
		case <-t.C:
		}
		if !ProcessRunning(inc.pid) {
			inc.exitDesc = "exited; it was not our child, so its status is unknown"
			close(inc.exited)
			inc.die(fmt.Errorf("%w: process %d %s", ErrKernelDead, inc.pid, inc.exitDesc))
			return
		}
	}
}

// Detach lets go of the kernel without stopping it: sockets are closed, the
// process and its runtime files stay for a later Attach.
func (k *Local) Detach() {
	k.opMu.Lock()
	defer k.opMu.Unlock()
	k.mu.Lock()
	inc := k.inc
	if k.err == nil {
		k.err = ErrDetached
		k.status = StatusDead
		close(k.done)
	}
	k.mu.Unlock()
	if inc != nil {
		inc.expected.Store(true)
		inc.reason.Store(ErrDetached)
		inc.detach()
	}
}

// detach releases sockets and goroutines but leaves the process alone.
func (inc *incarnation) detach() {
	inc.stopOnce.Do(func() {
		if inc.pollStop != nil {
			close(inc.pollStop)
		}
		inc.deadOnce.Do(func() {
			inc.deadErr = ErrDetached
			close(inc.dead)
		})
		inc.releaseSockets()
		// Our reader ends go; a child kernel gets EPIPE on raw fd writes,
		// which Python ignores (SIGPIPE is ignored by the interpreter).
		for _, f := range inc.pipeR {
			f.Close()
		}
	})
}

// zombie reports a process that exited but was not reaped yet (its parent,
// the old sidecar, may be gone and nobody reaps in a container).
func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name, which may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}
