//go:build !unix

package kernel

// portLock has no cross-process lock here: the ephemeral-range rule, the
// in-process quarantine and the kernel's "Address already in use" remain.
func portLock(int) (unlock func(), ok bool) { return func() {}, true }
