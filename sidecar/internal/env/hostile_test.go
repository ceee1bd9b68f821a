//go:build unix

package env

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// venv_path naming any executable used to run it (to probe it): /bin/sh ran
// the probe script. Now only an environment folder or a python* interpreter
// is accepted, and a refused program is never executed.
func TestVenvPathMustBeAPython(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	evil := filepath.Join(dir, "evil")
	if err := os.WriteFile(evil, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A folder that is no environment, with an evil program as bin/sh-like python.
	fake := filepath.Join(dir, "fakeenv", "bin")
	if err := os.MkdirAll(fake, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(evil, filepath.Join(fake, "python")); err != nil {
		t.Fatal(err)
	}
	f := &Finder{}
	for _, p := range []string{"/bin/sh", evil, filepath.Join(dir, "fakeenv"), filepath.Join(fake, "python")} {
		_, err := f.Resolve(context.Background(), p)
		if !errors.Is(err, ErrNotEnvironment) {
			t.Errorf("Resolve(%s): err = %v, want ErrNotEnvironment", p, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("a refused venv_path was executed")
	}
}
