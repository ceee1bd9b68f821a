//go:build !unix

package session_test

import (
	"errors"
	"os"
)

func stopProcess(*os.Process) error { return errors.New("no SIGSTOP on this platform") }
