// Package kernelpytest gives tests a real ipykernel (from the test venv) driven
// through jupyter_client, with a kernelpy.Runner for the embedded helpers.
package kernelpytest

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy"
)

//go:embed driver.py
var driver string

// Kernel is one real kernel for a test.
type Kernel struct {
	t   testing.TB
	mu  sync.Mutex
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// Result is what one execution printed.
type Result struct {
	Stdout, Stderr string
	Error          *kernelpy.PythonError
}

// Start launches a kernel whose working directory is dir; it is shut down when the test ends.
func Start(t testing.TB, dir string) *Kernel {
	t.Helper()
	py := testenv.Python(t)
	script := filepath.Join(t.TempDir(), "driver.py")
	if err := os.WriteFile(script, []byte(driver), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script)
	cmd.Dir = dir
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kernel driver: %v", err)
	}
	k := &Kernel{t: t, cmd: cmd, in: in, out: bufio.NewReaderSize(outp, 1<<20)}
	t.Cleanup(func() {
		_ = k.in.Close()
		_ = k.cmd.Wait()
		if t.Failed() {
			t.Logf("kernel driver stderr:\n%s", stderr.String())
		}
	})
	var ready map[string]any
	if err := k.readLine(&ready); err != nil {
		t.Fatalf("kernel driver did not start: %v", err)
	}
	return k
}

func (k *Kernel) readLine(v any) error {
	line, err := k.out.ReadString('\n')
	if err != nil {
		return fmt.Errorf("read driver: %w", err)
	}
	return json.Unmarshal([]byte(line), v)
}

func (k *Kernel) call(req map[string]any, v any) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	b, _ := json.Marshal(req)
	if _, err := k.in.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write driver: %w", err)
	}
	return k.readLine(v)
}

func (k *Kernel) exec(code string, silent bool) (Result, error) {
	var r struct {
		Stdout, Stderr string
		Error          *kernelpy.PythonError
	}
	if err := k.call(map[string]any{"op": "exec", "code": code, "silent": silent}, &r); err != nil {
		return Result{}, err
	}
	return Result{Stdout: r.Stdout, Stderr: r.Stderr, Error: r.Error}, nil
}

// Run executes code as a user cell (stored in history, post_run_cell fires);
// a Python error fails the test.
func (k *Kernel) Run(code string) string {
	k.t.Helper()
	r, err := k.exec(code, false)
	if err != nil {
		k.t.Fatal(err)
	}
	if r.Error != nil {
		k.t.Fatalf("cell failed: %v\n%s\ncode:\n%s", r.Error, strings.Join(r.Error.Traceback, "\n"), code)
	}
	return r.Stdout
}

// RunResult executes code as a user cell and returns the result, errors included.
func (k *Kernel) RunResult(code string) (Result, error) { return k.exec(code, false) }

// Runner runs code silently, as session.RunInternal does.
func (k *Kernel) Runner() kernelpy.Runner {
	return func(ctx context.Context, code string) (string, error) {
		r, err := k.exec(code, true)
		if err != nil {
			return "", err
		}
		if r.Error != nil {
			return r.Stdout, r.Error
		}
		return r.Stdout, nil
	}
}

// Restart restarts the kernel (all state lost).
func (k *Kernel) Restart() {
	k.t.Helper()
	var r map[string]any
	if err := k.call(map[string]any{"op": "restart"}, &r); err != nil {
		k.t.Fatal(err)
	}
}

// PID is the kernel process id.
func (k *Kernel) PID() int {
	k.t.Helper()
	s := strings.TrimSpace(k.Run("import os as _o; print(_o.getpid()); del _o"))
	pid, err := strconv.Atoi(s)
	if err != nil {
		k.t.Fatalf("kernel pid %q: %v", s, err)
	}
	return pid
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
