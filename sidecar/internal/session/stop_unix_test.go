//go:build unix

package session_test

import (
	"os"
	"syscall"
)

// stopProcess freezes p (SIGSTOP): it keeps running but answers nothing.
func stopProcess(p *os.Process) error { return p.Signal(syscall.SIGSTOP) }
