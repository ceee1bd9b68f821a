//go:build !unix

package workspace

import "os"

// No FIFOs to block on here; the lstat before the open refused links.
func openNonBlocking(path string, _ bool) (*os.File, error) { return os.Open(path) }

// NoFollowFlag: none here; callers lstat first.
const NoFollowFlag = 0
