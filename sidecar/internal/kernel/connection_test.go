package kernel

import (
	"runtime"
	"testing"
)

// Kernel ports come from outside the OS's ephemeral range, where no other
// program can be handed one by the OS between our probe and the kernel's bind.
func TestFreePortsOutsideEphemeralRange(t *testing.T) {
	elo, ehi := ephemeralPortRange()
	lo, hi, ok := kernelPortRange()
	if !ok {
		t.Skipf("no room outside the ephemeral range %d-%d", elo, ehi)
	}
	if !(hi < elo || lo > ehi) {
		t.Fatalf("kernel range %d-%d overlaps the ephemeral range %d-%d", lo, hi, elo, ehi)
	}
	seen := map[int]bool{}
	for range 20 {
		ps, release, err := freePorts(5)
		if err != nil {
			t.Fatal(err)
		}
		release()
		for _, p := range ps {
			if p < lo || p > hi {
				t.Errorf("port %d outside %d-%d", p, lo, hi)
			}
			if seen[p] {
				t.Errorf("port %d handed out twice within the quarantine", p)
			}
			seen[p] = true
		}
	}
}

// A port another of our processes is starting a kernel on is skipped.
func TestPortLockExcludes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no cross-process port locks on Windows")
	}
	unlock, ok := portLock(20001)
	if !ok {
		t.Fatal("first lock refused")
	}
	if _, ok := portLock(20001); ok {
		t.Error("second lock of the same port granted")
	}
	unlock()
	again, ok := portLock(20001)
	if !ok {
		t.Fatal("lock refused after unlock")
	}
	again()
}
