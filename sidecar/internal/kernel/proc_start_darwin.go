package kernel

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// processStartTime is when the process started (kern.proc.pid's
// p_starttime), in nanoseconds since the epoch.
func processStartTime(pid int) (uint64, error) {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil {
		return 0, fmt.Errorf("process %d start time: %w", pid, err)
	}
	tv := kp.Proc.P_starttime
	ns := uint64(tv.Sec)*1e9 + uint64(tv.Usec)*1e3
	if ns == 0 {
		return 0, fmt.Errorf("process %d start time: not known", pid)
	}
	return ns, nil
}
