package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/workspace"
)

// ErrUnsafe: something under .mcp/ is a link or special file where the store
// expects its own folder or file (a cloned repository can plant one); nothing
// was read, written or removed through it.
var ErrUnsafe = errors.New("unsafe checkpoint folder")

// maxManifestBytes caps a manifest read (a real one is a few KiB per
// thousand variables): a manifest replaced by /dev/zero or a huge file is
// refused, not read.
const maxManifestBytes = 16 << 20

// maxGitignoreBytes caps the .gitignore read before appending to it.
const maxGitignoreBytes = 4 << 20

// realDir checks that path is a directory and not a symbolic link, creating
// it (0700) when it is missing and create is set. It reports whether it exists.
func realDir(path string, create bool) (bool, error) {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return false, nil
		}
		if err := os.Mkdir(path, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return false, fmt.Errorf("create checkpoint folder: %w", err)
		}
		st, err = os.Lstat(path)
	}
	if err != nil {
		return false, fmt.Errorf("checkpoint folder %s: %w", path, err)
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return false, fmt.Errorf("%w: %s is a symbolic link; checkpoints never follow links out of the notebook folder (remove the link)", ErrUnsafe, path)
	}
	if !st.IsDir() {
		return false, fmt.Errorf("%w: %s is not a folder (remove it)", ErrUnsafe, path)
	}
	return true, nil
}

// realDirs checks every folder from the notebook folder's .mcp down to the
// store's blob folder (and a checkpoint's own folder when name is set) that
// exists. It reports whether the store (and that checkpoint's folder) exists.
func (s *Store) realDirs(create bool, name string) (bool, error) {
	mcp := filepath.Dir(s.root)
	dirs := []string{mcp, s.root, s.blobDir()}
	if name != "" {
		dirs = append(dirs, filepath.Join(s.root, name))
	}
	found := true
	for i, d := range dirs {
		ok, err := realDir(d, create)
		if err != nil {
			return false, err
		}
		if !ok && i < 2 {
			return false, nil // no store here yet: nothing below to check
		}
		if !ok && d != s.blobDir() {
			found = false // the blob folder may be missing (no variables saved)
		}
	}
	return found, nil
}

// readManifest reads a manifest file: regular files only (no link, FIFO or
// device), at most maxManifestBytes, never blocking in open.
func readManifest(path string) ([]byte, error) {
	b, err := workspace.ReadRegular(path, workspace.ReadOptions{Max: maxManifestBytes, NoFollow: true})
	if err != nil && (errors.Is(err, workspace.ErrNotRegular) || errors.Is(err, workspace.ErrTooLarge)) {
		return nil, fmt.Errorf("%w: %v", ErrUnsafe, err)
	}
	return b, err
}
