//go:build unix

package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// portLockBuckets: ports share lock files by port modulo this; a held bucket
// only makes other processes skip its ports for the length of one start.
const portLockBuckets = 1024

var portLockDir = sync.OnceValue(func() string {
	d := filepath.Join(os.TempDir(), fmt.Sprintf("mcp-jupyter-ports-%d", os.Getuid()))
	if err := os.MkdirAll(d, 0o700); err != nil {
		return ""
	}
	return d
})

// portLock keeps port to this process across our processes (sidecars, test
// binaries) from our probe until the kernel bound it: an flock on a shared
// lock file, released by unlock or when the process dies. ok is false when
// another process holds it; without a usable lock dir every port is ok.
func portLock(port int) (unlock func(), ok bool) {
	dir := portLockDir()
	if dir == "" {
		return func() {}, true
	}
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%04d.lock", port%portLockBuckets)), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return func() {}, true
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return func() { f.Close() }, true // closing the file drops the lock
}
