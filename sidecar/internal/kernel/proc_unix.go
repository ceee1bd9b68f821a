//go:build unix

package kernel

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// setupProcess puts the kernel in its own process group: interrupt and kill
// reach the kernel's children too, and a Ctrl-C in our terminal does not
// reach the kernel. With exitWithParent, ipykernel polls our pid
// (JPY_PARENT_PID) and exits when we are gone. The returned interrupt handle
// is empty: on Unix an interrupt is a signal to the group.
func setupProcess(cmd *exec.Cmd, exitWithParent bool) (interruptEvent string, afterStart func(), err error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if exitWithParent {
		cmd.Env = appendEnv(cmd.Env, "JPY_PARENT_PID="+strconv.Itoa(os.Getpid()))
	}
	return "", func() {}, nil
}

// interruptProcess sends SIGINT to the kernel's process group.
func interruptProcess(pid int, _ string) error {
	if err := syscall.Kill(-pid, syscall.SIGINT); err != nil {
		return fmt.Errorf("signal process group %d: %w", pid, err)
	}
	return nil
}

// terminateProcessGroup asks the kernel's process group to exit (SIGTERM).
func terminateProcessGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGTERM) }

// killProcessGroup kills the kernel and every process left in its group.
func killProcessGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }

// ProcessRunning reports whether pid is a live process: not gone and not a
// zombie waiting to be reaped (a killed child stays a zombie until its parent
// waits for it, and kill(pid, 0) still succeeds on a zombie).
func ProcessRunning(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	return !zombie(pid)
}
