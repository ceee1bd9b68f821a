package workspace

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is returned (wrapped) for a path that is a FIFO, device,
// socket, directory or (where links are refused) a symbolic link: reading it
// could block forever or never end.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is returned (wrapped) for a file above the size a reader allows.
var ErrTooLarge = errors.New("file too large")

// MaxNotebookBytes caps a notebook read from disk. Jupyter itself keeps a
// notebook in memory several times over; far above any notebook one edits.
const MaxNotebookBytes = 512 << 20

// ReadOptions tune ReadRegular.
type ReadOptions struct {
	Max      int64 // refuse files larger than this (0: MaxNotebookBytes)
	NoFollow bool  // refuse a symbolic link as the last component
}

// ReadRegular reads a regular file without ever blocking on it: the file is
// checked before it is opened (lstat, or stat when links are allowed), opened
// non-blocking (a FIFO swapped in meanwhile cannot pin the thread in open(2)),
// checked again on the open descriptor, and read through a limit, so a file
// that grows or a device put in its place cannot take unbounded memory.
func ReadRegular(path string, o ReadOptions) ([]byte, error) {
	max := o.Max
	if max <= 0 {
		max = MaxNotebookBytes
	}
	st, err := statFor(path, o.NoFollow)
	if err != nil {
		return nil, err
	}
	if err := checkRegular(path, st, max); err != nil {
		return nil, err
	}
	f, err := openNonBlocking(path, o.NoFollow)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err = f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkRegular(path, st, max); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: %s grew past %d bytes while being read", ErrTooLarge, path, max)
	}
	return data, nil
}

func statFor(path string, noFollow bool) (fs.FileInfo, error) {
	if noFollow {
		return os.Lstat(path)
	}
	return os.Stat(path)
}

// CheckRegular reports, without opening it, whether path (followed when it is
// a link) exists as something other than a regular file. A missing path is
// not an error here: callers that create files pass it through.
func CheckRegular(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return nil
	}
	if st.IsDir() {
		return nil
	}
	return checkRegular(path, st, -1)
}

func checkRegular(path string, st fs.FileInfo, max int64) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is a %s; refusing to open it (only regular files are read)", ErrNotRegular, path, kind(st.Mode()))
	}
	if max >= 0 && st.Size() > max {
		return fmt.Errorf("%w: %s is %d bytes, more than the %d this reads", ErrTooLarge, path, st.Size(), max)
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	case m.IsDir():
		return "directory"
	}
	return "special file"
}
