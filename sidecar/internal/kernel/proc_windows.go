//go:build windows

package kernel

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Windows has no process-group signals. ipykernel answers an interrupt_request
// there with "Interrupt message not supported on Windows", so message mode
// would silently do nothing; what works is the protocol jupyter_client uses:
// an inheritable event whose handle value the kernel finds in
// JPY_INTERRUPT_EVENT and waits on (ParentPollerWindows), raising
// KeyboardInterrupt in the main thread when it is set. We name the event, so a
// sidecar that re-attaches later can open it by name (the record keeps it).
// Killing uses TerminateProcess on the kernel process; children it spawned
// are not reached (no job object), unlike the Unix process group.

const stillActive = 259 // GetExitCodeProcess: the process has not exited

func setupProcess(cmd *exec.Cmd, exitWithParent bool) (interruptEvent string, afterStart func(), err error) {
	name := "Local\\mcp-jupyter-interrupt-" + newID()
	namePtr, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return "", nil, fmt.Errorf("interrupt event name: %w", err)
	}
	sa := &windows.SecurityAttributes{InheritHandle: 1}
	sa.Length = uint32(unsafe.Sizeof(*sa))
	ev, err := windows.CreateEvent(sa, 0, 0, namePtr) // auto-reset, not signalled
	if err != nil {
		return "", nil, fmt.Errorf("create interrupt event: %w", err)
	}
	handles := []windows.Handle{ev}
	cmd.Env = appendEnv(cmd.Env, "JPY_INTERRUPT_EVENT="+strconv.FormatUint(uint64(ev), 10))
	if exitWithParent {
		// On Windows ipykernel reads JPY_PARENT_PID as a handle to wait on,
		// not a pid: give it an inheritable handle of this process.
		var self windows.Handle
		err := windows.DuplicateHandle(windows.CurrentProcess(), windows.CurrentProcess(), windows.CurrentProcess(),
			&self, windows.SYNCHRONIZE, true, 0)
		if err != nil {
			windows.CloseHandle(ev)
			return "", nil, fmt.Errorf("parent handle for the kernel: %w", err)
		}
		handles = append(handles, self)
		cmd.Env = appendEnv(cmd.Env, "JPY_PARENT_PID="+strconv.FormatUint(uint64(self), 10))
	}
	attr := &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP}
	for _, h := range handles {
		attr.AdditionalInheritedHandles = append(attr.AdditionalInheritedHandles, syscall.Handle(h))
	}
	cmd.SysProcAttr = attr
	// The kernel holds its inherited copies; ours only had to live until the
	// child was created (the named event stays while the kernel runs). Called
	// after Start whether it succeeded or not.
	return name, func() {
		for _, h := range handles {
			windows.CloseHandle(h)
		}
	}, nil
}

// interruptProcess sets the kernel's interrupt event.
func interruptProcess(pid int, interruptEvent string) error {
	if interruptEvent == "" {
		return fmt.Errorf("interrupt kernel %d: no interrupt event recorded for it", pid)
	}
	namePtr, err := windows.UTF16PtrFromString(interruptEvent)
	if err != nil {
		return fmt.Errorf("interrupt event name: %w", err)
	}
	ev, err := windows.OpenEvent(windows.EVENT_MODIFY_STATE, false, namePtr)
	if err != nil {
		return fmt.Errorf("open interrupt event of kernel %d: %w", pid, err)
	}
	defer windows.CloseHandle(ev)
	if err := windows.SetEvent(ev); err != nil {
		return fmt.Errorf("set interrupt event of kernel %d: %w", pid, err)
	}
	return nil
}

// terminateProcessGroup: Windows has no polite termination signal for a
// console process we do not share a console with, so it kills.
func terminateProcessGroup(pid int) error { return killProcessGroup(pid) }

func killProcessGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	defer p.Release()
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// ProcessRunning reports whether pid is a process that has not exited.
func ProcessRunning(pid int) bool {
	if pid <= 0 {
		return false
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return false
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return false
	}
	return code == stillActive
}

// processStartTime is the process's creation time, in nanoseconds since the epoch.
func processStartTime(pid int) (uint64, error) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return 0, fmt.Errorf("process %d start time: %w", pid, err)
	}
	defer windows.CloseHandle(h)
	var created, exited, kernelTime, userTime windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernelTime, &userTime); err != nil {
		return 0, fmt.Errorf("process %d start time: %w", pid, err)
	}
	ns := created.Nanoseconds()
	if ns <= 0 {
		return 0, fmt.Errorf("process %d start time: not known", pid)
	}
	return uint64(ns), nil
}
