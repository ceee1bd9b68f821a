package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// processTreeCPU is how much CPU pid and its descendants (a sandbox
// wrapper's kernel is its child) used or wanted so far: per thread, the time
// on a CPU plus the time runnable on a run queue (/proc/<pid>/task/*/schedstat).
// A starved kernel on a loaded machine waits on the run queue; a stuck one
// sleeps and accrues neither. Without schedstat: utime+stime.
func processTreeCPU(pid int) (time.Duration, bool) {
	var total time.Duration
	seen := map[int]bool{}
	var walk func(p, depth int) bool
	walk = func(p, depth int) bool {
		if seen[p] || depth > 8 {
			return true
		}
		seen[p] = true
		d, ok := processSched(p)
		if !ok {
			d, ok = processCPU(p)
		}
		if !ok {
			return false
		}
		total += d
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", p))
		for _, t := range tasks {
			b, err := os.ReadFile(t)
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(b)) {
				if c, err := strconv.Atoi(f); err == nil {
					walk(c, depth+1) // a child that just exited adds nothing
				}
			}
		}
		return true
	}
	if !walk(pid, 0) {
		return 0, false
	}
	return total, true
}

// processSched sums run and run-queue wait time over the threads of pid.
func processSched(pid int) (time.Duration, bool) {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if len(files) == 0 {
		return 0, false
	}
	var total time.Duration
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a thread that just ended
		}
		fs := strings.Fields(string(b))
		if len(fs) < 2 {
			return 0, false
		}
		run, err1 := strconv.ParseInt(fs[0], 10, 64)
		wait, err2 := strconv.ParseInt(fs[1], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		total += time.Duration(run + wait)
	}
	return total, true
}

// processCPU reads utime+stime of one process from /proc/pid/stat.
func processCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// Fields after the parenthesised command name (which may hold spaces):
	// state is field 3, utime 14, stime 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const userHZ = 100 // USER_HZ: fixed at 100 for /proc on every Linux ABI
	return time.Duration(u+s) * time.Second / userHZ, true
}
