//go:build !unix

package sandbox

import "os"

// ownedByUs: the temp dir is per user here.
func ownedByUs(os.FileInfo) bool { return true }
