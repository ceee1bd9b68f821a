package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/inspect"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
)

// Language-neutral kernel features: what the tools do on kernels that are not
// Python (bash, Deno, R, …), where the Python helpers (safe inspector,
// variable list, checkpoints) must never be sent.

// pythonKernel reports whether the session's kernel runs Python code: the
// language its kernel_info_reply declares, else its kernelspec's.
func pythonKernel(s *session.Session) bool {
	if n := s.Kernel().Info().LanguageInfo.Name; n != "" {
		return strings.EqualFold(n, "python")
	}
	l := s.Spec().Language
	return l == "" || strings.EqualFold(l, "python")
}

// kernelLabel names the kernel in answers: its implementation (bash_kernel,
// deno), else its kernelspec name.
func kernelLabel(s *session.Session) string {
	l := s.Kernel().Info().Implementation
	if l == "" {
		l = s.Spec().Name
	}
	if strings.HasSuffix(strings.ToLower(l), "kernel") {
		return l
	}
	return l + " kernel"
}

func kernelLanguage(s *session.Session) string {
	if n := s.Kernel().Info().LanguageInfo.Name; n != "" {
		return n
	}
	return s.Spec().Language
}

type shellRequester interface {
	ShellRequest(ctx context.Context, msgType string, content any) (json.RawMessage, error)
}

// pythonOnly is the plain answer for a Python feature asked of another kernel.
func pythonOnly(s *session.Session, feature string) string {
	return fmt.Sprintf("%s is a Python feature: this kernel is the %s (language %s)", feature, kernelLabel(s), kernelLanguage(s))
}

// inspectNonPython answers inspect_variable through the kernel's own
// inspect_request: no code runs, nothing is interrupted, the wait is bounded.
func inspectNonPython(ctx context.Context, s *session.Session, name string) (InspectVariableOut, error) {
	r, ok := s.Kernel().(shellRequester)
	if !ok {
		return InspectVariableOut{}, fmt.Errorf("inspect_variable: %s; this kernel connection cannot send inspect_request: %w", pythonOnly(s, "the safe variable inspector"), inspect.ErrUnsupported)
	}
	if s.Kernel().Status() == kernel.StatusBusy {
		return InspectVariableOut{}, fmt.Errorf("inspect_variable: the %s is busy running a cell, and its inspect_request would wait behind it: try again when it is idle", kernelLabel(s))
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d, err := inspect.ViaProtocol(ctx, r.ShellRequest, name, kernelLabel(s))
	if err != nil {
		return InspectVariableOut{}, err
	}
	var text string
	json.Unmarshal(d.Value, &text)
	return InspectVariableOut{Description: *d, Summary: fmt.Sprintf("%s, from the %s's inspect_request (the safe inspector is Python-only):\n%s", name, kernelLabel(s), text)}, nil
}

// interruptOutcome says what the kernel did with an interrupt, watching it
// for a few seconds: it exited (xeus-python and Deno do on SIGINT), the cell
// stopped, or it is still running. The wording is Python's only for Python.
func interruptOutcome(ctx context.Context, s *session.Session, path string, wasBusy bool) StatusOut {
	how := "SIGINT"
	if s.Spec().InterruptMode == "message" {
		how = "an interrupt_request on the control channel"
	}
	label := kernelLabel(s)
	out := StatusOut{NotebookPath: path}
	st := s.Kernel().Status()
	wait := time.NewTimer(3 * time.Second)
	defer wait.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
watch:
	for {
		if st = s.Kernel().Status(); st == kernel.StatusDead || (st != kernel.StatusBusy && wasBusy) {
			break
		}
		select {
		case <-s.Kernel().Done():
		case <-tick.C:
		case <-wait.C:
			break watch
		case <-ctx.Done():
			break watch
		}
	}
	out.Status = string(st)
	switch {
	case st == kernel.StatusDead:
		out.Message = fmt.Sprintf("the %s exited after the interrupt (%s): this kernel does not survive interrupts; restart_kernel starts it again (its variables are gone)", label, how)
	case !wasBusy:
		out.Message = fmt.Sprintf("interrupt sent (%s); nothing was running", how)
	case st == kernel.StatusBusy:
		out.Message = fmt.Sprintf("interrupt sent (%s); the cell is still running: get_execution_stream shows when it stops; if it never does, this kernel ignores interrupts: restart_kernel", how)
	case pythonKernel(s):
		out.Message = fmt.Sprintf("interrupt sent (%s); the running cell stopped with KeyboardInterrupt", how)
	default:
		out.Message = fmt.Sprintf("interrupt sent (%s); the %s stopped the running cell", how, label)
	}
	return out
}
