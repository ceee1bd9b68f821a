package checkpoint

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnsureGitignore(t *testing.T) {
	tests := []struct {
		name, before, after string
		exists              bool
	}{
		{name: "created", after: ".mcp/\n"},
		{name: "appended", before: "*.pyc\n", after: "*.pyc\n.mcp/\n", exists: true},
		{name: "no trailing newline", before: "*.pyc", after: "*.pyc\n.mcp/\n", exists: true},
		{name: "already ignored", before: "/.mcp/\n", after: "/.mcp/\n", exists: true},
		{name: "user wants it tracked", before: "!.mcp\n", after: "!.mcp\n", exists: true},
		{name: "a subfolder rule counts", before: ".mcp/checkpoints/\n", after: ".mcp/checkpoints/\n", exists: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, ".gitignore")
			if tc.exists {
				if err := os.WriteFile(p, []byte(tc.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := ensureGitignore(dir); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(p)
			if d := cmp.Diff(tc.after, string(got)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestLoadKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cfg", "mcp-jupyter", "checkpoint.key")
	var wg sync.WaitGroup
	keys := make([][]byte, 8)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := LoadKey(p)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) || len(k) != keySize {
			t.Fatal("concurrent first use produced different keys")
		}
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, %v", fi.Mode(), err)
	}
	di, _ := os.Stat(filepath.Dir(p))
	if di.Mode().Perm() != 0o700 {
		t.Errorf("key dir mode %v", di.Mode())
	}
	if err := os.WriteFile(p, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(p); err == nil {
		t.Error("a 5-byte key was accepted")
	}
	t.Setenv(KeyFileEnv, "/some/where/k")
	if got, _ := KeyPath(); got != "/some/where/k" {
		t.Errorf("KeyPath with override = %q", got)
	}
}

func TestInvalidNames(t *testing.T) {
	s := ForNotebook(filepath.Join(t.TempDir(), "nb.ipynb"), make([]byte, keySize))
	for _, n := range []string{"", "../x", "a/b", "blobs", "x.tmp", ".hidden", string(make([]byte, 70))} {
		if _, err := s.Verify(n); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Verify(%q) = %v, want ErrInvalidName", n, err)
		}
	}
	if _, err := s.Verify("nothing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
}

// FuzzVerify: whatever the manifest file holds, Verify refuses it cleanly.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"manifest":{"format":1},"hmac":"00"}`))
	f.Add([]byte(`{"manifest":`))
	f.Add([]byte(`[]`))
	dir := f.TempDir()
	s := ForNotebook(filepath.Join(dir, "nb.ipynb"), bytes.Repeat([]byte{7}, keySize))
	if err := os.MkdirAll(filepath.Join(s.root, "x"), 0o700); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(s.root, "x", "manifest.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Verify("x"); err == nil {
			t.Fatalf("unsigned manifest accepted: %q", data)
		}
	})
}

// A key others can read may have signed a forged checkpoint: refused with
// the fix named (before: used silently).
func TestLoadKeyRefusesReadableKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "checkpoint.key")
	if err := os.WriteFile(p, bytes.Repeat([]byte{7}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(p); err != nil {
		t.Fatalf("a 0600 key: %v", err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadKey(p)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte("chmod 600")) {
			t.Errorf("mode %04o: err = %v, want a refusal naming chmod 600", mode, err)
		}
	}
}
