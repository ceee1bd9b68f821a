package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// processTreeActivity is what pid and its descendants (a sandbox wrapper's
// kernel is its child) did so far: per thread, the time on a CPU plus the
// time runnable on a run queue (/proc/<pid>/task/*/schedstat; without it
// utime+stime), and the bytes read from or written to storage
// (/proc/<pid>/io). A starved kernel on a loaded machine waits on the run
// queue, one importing from a slow disk reads; a stuck one sleeps and
// accrues neither.
func processTreeActivity(pid int) (activity, bool) {
	var total activity
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
		total.cpu += d
		total.io += processIO(p)
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
		return activity{}, false
	}
	return total, true
}

// processIO is read_bytes+write_bytes of pid (0 when unreadable).
func processIO(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0
	}
	var n int64
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if ok && (k == "read_bytes" || k == "write_bytes") {
			if x, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				n += x
			}
		}
	}
	return n
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
