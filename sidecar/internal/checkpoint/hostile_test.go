//go:build unix

package checkpoint_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/checkpoint"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy/kernelpytest"
)

// Hostile checkout: a cloned repository can ship any file under .mcp/. These
// tests plant links, FIFOs and devices there and run the real store (with a
// real kernel where the kernel writes), checking nothing outside is touched
// and every call returns.

// within runs f and fails the test if it has not returned in d (the attacks
// hang forever, so d only has to be generous).
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("call did not return in %s (hung on a planted file)", d)
	}
}

func TestSymlinkedBlobDirIsRefused(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	// The attack: blobs -> outside; the save's leftover cleanup removed
	// outside/tmp and the kernel wrote its blobs there.
	if err := os.MkdirAll(filepath.Join(outside, "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	precious := filepath.Join(outside, "tmp", "precious.txt")
	if err := os.WriteFile(precious, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".mcp", "checkpoints"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, ".mcp", "checkpoints", "blobs")); err != nil {
		t.Fatal(err)
	}
	k := kernelpytest.Start(t, dir)
	k.Run("x = list(range(1000))")
	st := newStore(t, dir)
	_, err := st.Save(context.Background(), k.Runner(), "base", checkpoint.SaveOptions{})
	if !errors.Is(err, checkpoint.ErrUnsafe) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("save through a linked blobs folder: err = %v, want ErrUnsafe naming the link", err)
	}
	if _, err := os.Stat(precious); err != nil {
		t.Errorf("a file outside the notebook folder was removed: %v", err)
	}
	ents, _ := os.ReadDir(outside)
	for _, e := range ents {
		if e.Name() != "tmp" {
			t.Errorf("the save wrote %s outside the notebook folder", e.Name())
		}
	}
	// Same for .mcp itself and for a checkpoint's own folder.
	for _, link := range []string{".mcp", filepath.Join(".mcp", "checkpoints", "base")} {
		t.Run(filepath.Base(link), func(t *testing.T) {
			d, out := t.TempDir(), t.TempDir()
			if err := os.MkdirAll(filepath.Join(d, filepath.Dir(link)), 0o700); err != nil {
				t.Fatal(err)
			}
			if link != ".mcp" {
				if err := os.MkdirAll(filepath.Join(d, ".mcp", "checkpoints", "blobs"), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink(out, filepath.Join(d, link)); err != nil {
				t.Fatal(err)
			}
			k2 := kernelpytest.Start(t, d)
			k2.Run("y = 1")
			_, err := newStore(t, d).Save(context.Background(), k2.Runner(), "base", checkpoint.SaveOptions{})
			if !errors.Is(err, checkpoint.ErrUnsafe) {
				t.Errorf("save with %s linked outside: err = %v, want ErrUnsafe", link, err)
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Errorf("the save wrote %d entries outside the notebook folder", len(ents))
			}
		})
	}
}

func TestSymlinkedGitignoreIsLeftAlone(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	target := filepath.Join(outside, "bashrc")
	if err := os.WriteFile(target, []byte("export PATH=/usr/bin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, ".gitignore")); err != nil {
		t.Fatal(err)
	}
	k := kernelpytest.Start(t, dir)
	k.Run("x = 3")
	if _, err := newStore(t, dir).Save(context.Background(), k.Runner(), "base", checkpoint.SaveOptions{}); err != nil {
		t.Fatalf("save next to a linked .gitignore: %v", err)
	}
	if got, _ := os.ReadFile(target); string(got) != "export PATH=/usr/bin\n" {
		t.Errorf("the file behind the .gitignore link was changed: %q", got)
	}
	// A FIFO .gitignore must not hang the save either.
	d2 := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(d2, ".gitignore"), 0o600); err != nil {
		t.Fatal(err)
	}
	k2 := kernelpytest.Start(t, d2)
	k2.Run("x = 3")
	within(t, 2*time.Minute, func() {
		if _, err := newStore(t, d2).Save(context.Background(), k2.Runner(), "base", checkpoint.SaveOptions{}); err != nil {
			t.Errorf("save next to a FIFO .gitignore: %v", err)
		}
	})
}

func TestPlantedManifestsAreRefused(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, ".mcp", "checkpoints")
	plant := func(name string, f func(p string) error) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(root, name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := f(filepath.Join(root, name, "manifest.json")); err != nil {
			t.Fatal(err)
		}
	}
	plant("zero", func(p string) error { return os.Symlink("/dev/zero", p) })
	plant("fifo", func(p string) error { return syscall.Mkfifo(p, 0o600) })
	plant("huge", func(p string) error { // sparse: no disk used
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Truncate(4 << 30)
	})
	plant("dev", func(p string) error { return os.Symlink("/dev/urandom", p) })
	st := newStore(t, dir)
	var infos []checkpoint.Info
	within(t, 2*time.Minute, func() {
		var err error
		infos, err = st.List()
		if err != nil {
			t.Errorf("list: %v", err)
		}
	})
	if len(infos) != 4 {
		t.Fatalf("list = %+v, want the 4 planted checkpoints, each invalid", infos)
	}
	for _, in := range infos {
		if in.Valid || !strings.Contains(in.Problem, "unsafe checkpoint folder") {
			t.Errorf("%s: valid=%v problem=%q, want refused as unsafe", in.Name, in.Valid, in.Problem)
		}
	}
	for _, name := range []string{"zero", "fifo", "huge", "dev"} {
		within(t, 2*time.Minute, func() {
			if _, err := st.Verify(name); !errors.Is(err, checkpoint.ErrUnsafe) {
				t.Errorf("verify %s: err = %v, want ErrUnsafe", name, err)
			}
		})
	}
	// Deleting one runs the blob collection over the others: it must return
	// and must not remove anything outside.
	within(t, 2*time.Minute, func() {
		if err := st.Delete("huge"); err != nil {
			t.Errorf("delete: %v", err)
		}
	})
}
