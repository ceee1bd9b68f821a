//go:build unix

package workspace

import (
	"os"
	"syscall"
)

func openNonBlocking(path string, noFollow bool) (*os.File, error) {
	flags := os.O_RDONLY | syscall.O_NONBLOCK
	if noFollow {
		flags |= syscall.O_NOFOLLOW
	}
	return os.OpenFile(path, flags, 0)
}

// NoFollowFlag makes an open fail on a symbolic link as the last component.
const NoFollowFlag = syscall.O_NOFOLLOW
