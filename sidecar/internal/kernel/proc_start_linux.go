package kernel

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// processStartTime is field 22 of /proc/PID/stat: when the process started,
// in clock ticks since boot. Together with the pid it names one process for
// the life of the machine.
func processStartTime(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("process %d start time: %w", pid, err)
	}
	// The command name is parenthesised and may hold spaces or ')': fields
	// start after the last ')'. There, field 3 (state) is index 0.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("process %d start time: malformed stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("process %d start time: malformed stat", pid)
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("process %d start time: malformed stat field %q", pid, f[19])
	}
	return v, nil
}
