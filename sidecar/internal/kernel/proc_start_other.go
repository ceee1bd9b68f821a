//go:build unix && !linux && !darwin

package kernel

import (
	"errors"
	"fmt"
)

// processStartTime is not implemented here: without it no record can prove
// its process is the kernel, so kernels are not re-attached on this OS.
func processStartTime(pid int) (uint64, error) {
	return 0, fmt.Errorf("process %d start time: %w", pid, errors.ErrUnsupported)
}
