package checkpoint_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/checkpoint"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy/kernelpytest"
)

// evilBlob writes, with the venv's python, a well-formed blob of exactly size
// bytes whose unpickling would create the file pwned.
func evilBlob(t *testing.T, path, pwned string, size int64) {
	t.Helper()
	script := `
import pickle, struct, sys
path, pwned, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
class Evil:
    def __init__(self, pad): self.pad = pad
    def __reduce__(self):
        return (exec, ("open(%r, 'w').close() #" % pwned + "x" * self.pad,))
for pad in range(0, size):
    body = pickle.dumps(Evil(pad), protocol=5)
    blob = b"MCPBLOB1" + body + struct.pack("<QII", len(body), 0, 0) + b"MCPBEND1"
    if len(blob) == size:
        open(path, "wb").write(blob)
        sys.exit(0)
    if len(blob) > size:
        break
sys.exit("cannot pad to %d" % size)
`
	out, err := exec.Command(testenv.Python(t), "-c", script, path, pwned, fmt.Sprint(size)).CombinedOutput()
	if err != nil {
		t.Fatalf("make evil blob: %v\n%s", err, out)
	}
}

func TestTamperedCheckpointsAreRefused(t *testing.T) {
	dir := t.TempDir()
	k := kernelpytest.Start(t, dir)
	ctx := context.Background()
	cfg := t.TempDir()
	key, err := checkpoint.LoadKey(filepath.Join(cfg, "mine.key"))
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := checkpoint.LoadKey(filepath.Join(cfg, "theirs.key"))
	if err != nil {
		t.Fatal(err)
	}
	st := checkpoint.ForNotebook(filepath.Join(dir, "nb.ipynb"), key)
	k.Run("import numpy as np\npayload = 'x' * 3000\nx = np.array([1.0, 2.0, 3.0])")
	if _, err := st.Save(ctx, k.Runner(), "good", checkpoint.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	k.Run("x = np.array([4.0, 5.0, 6.0])")
	if _, err := st.Save(ctx, k.Runner(), "other", checkpoint.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	_, good := manifestOf(t, st, "good")
	_, other := manifestOf(t, st, "other")
	blob := func(m checkpoint.Manifest, name string) string {
		for _, v := range m.Variables {
			if v.Name == name {
				return filepath.Join(st.Root(), "blobs", v.Digest)
			}
		}
		t.Fatalf("no %s in manifest", name)
		return ""
	}
	pwned := filepath.Join(dir, "pwned")
	goodManifest := filepath.Join(st.Root(), "good", "manifest.json")

	cases := []struct {
		name    string
		tamper  func(t *testing.T)
		wantErr error
	}{
		{"byte flipped in blob", func(t *testing.T) {
			flip(t, blob(good, "payload"), 100)
		}, checkpoint.ErrTampered},
		{"byte flipped in manifest", func(t *testing.T) {
			raw, err := os.ReadFile(goodManifest)
			if err != nil {
				t.Fatal(err)
			}
			raw = bytes.Replace(raw, []byte(`"name":"x"`), []byte(`"name":"y"`), 1)
			writeFile(t, goodManifest, raw)
		}, checkpoint.ErrTampered},
		{"blob swapped from another checkpoint", func(t *testing.T) {
			data, err := os.ReadFile(blob(other, "x"))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, blob(good, "x"), data)
		}, checkpoint.ErrTampered},
		{"truncated blob", func(t *testing.T) {
			if err := os.Truncate(blob(good, "payload"), 50); err != nil {
				t.Fatal(err)
			}
		}, checkpoint.ErrTampered},
		{"blob replaced by a symlink (even to identical bytes)", func(t *testing.T) {
			p := blob(good, "payload")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			elsewhere := filepath.Join(t.TempDir(), "copy")
			writeFile(t, elsewhere, data)
			os.Remove(p)
			if err := os.Symlink(elsewhere, p); err != nil {
				t.Fatal(err)
			}
		}, checkpoint.ErrTampered},
		{"truncated manifest", func(t *testing.T) {
			raw, _ := os.ReadFile(goodManifest)
			writeFile(t, goodManifest, raw[:len(raw)/2])
		}, checkpoint.ErrCorrupt},
		{"blob replaced by one whose unpickling creates a file", func(t *testing.T) {
			p := blob(good, "payload")
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			evilBlob(t, p, pwned, fi.Size())
		}, checkpoint.ErrTampered},
		{"manifest re-signed with another user's key", func(t *testing.T) {
			p := blob(good, "payload")
			fi, _ := os.Stat(p)
			evilBlob(t, p, pwned, fi.Size())
			// The attacker computes the right digest and signs with their own key.
			foreign := checkpoint.ForNotebook(filepath.Join(dir, "nb.ipynb"), otherKey)
			k.Run("payload = 'evil'")
			if _, err := foreign.Save(ctx, k.Runner(), "good", checkpoint.SaveOptions{}); err != nil {
				t.Fatal(err)
			}
		}, checkpoint.ErrForeignKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := snapshotStore(t, st.Root())
			defer restoreStore(t, st.Root(), snap)
			tc.tamper(t)
			k.Run("for _n in ('x', 'payload'):\n    globals().pop(_n, None)\ndel _n")
			_, err := st.Load(ctx, k.Runner(), "good")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("load error = %v, want %v", err, tc.wantErr)
			}
			t.Logf("refused: %v", err)
			if out := k.Run("print('x' in globals(), 'payload' in globals())"); strings.TrimSpace(out) != "False False" {
				t.Errorf("something was loaded: %s", out)
			}
			if _, err := os.Stat(pwned); err == nil {
				t.Fatal("the malicious blob was unpickled: pwned exists")
			}
		})
	}
	// Control: the evil blob really does create the file when unpickled blindly.
	probe := filepath.Join(t.TempDir(), "probe.blob")
	evilBlob(t, probe, pwned, 400)
	k.Run(fmt.Sprintf("import pickle as _p\n_p.loads(open(%q, 'rb').read()[8:-24])\ndel _p", probe))
	if _, err := os.Stat(pwned); err != nil {
		t.Fatalf("control: the evil blob did not create its file: %v", err)
	}
	os.Remove(pwned)

	// Untouched, the checkpoint still loads (the cases restored it).
	if _, err := st.Load(ctx, k.Runner(), "good"); err != nil {
		t.Fatalf("restored checkpoint: %v", err)
	}
	if out := k.Run("print(x[0], len(payload))"); strings.TrimSpace(out) != "1.0 3000" {
		t.Errorf("after load: %q", out)
	}
}

func flip(t *testing.T, path string, at int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[at] ^= 0x40
	writeFile(t, path, data)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func snapshotStore(t *testing.T, root string) map[string][]byte {
	t.Helper()
	snap := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		snap[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func restoreStore(t *testing.T, root string, snap map[string][]byte) {
	t.Helper()
	for p, b := range snap {
		os.Remove(p) // it may have been replaced by a link
		writeFile(t, p, b)
	}
}

// Blobs verified side by side (big ones) are refused just the same.
func TestParallelVerification(t *testing.T) {
	dir := t.TempDir()
	k := kernelpytest.Start(t, dir)
	st := newStore(t, dir)
	ctx := context.Background()
	k.Run("import numpy as np\na = np.arange(300000.0)\nb = np.ones(300000)\nc = 'small'")
	res, err := st.Save(ctx, k.Runner(), "p", checkpoint.SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Make every blob "big" for this kernel's helper.
	k.Run("import sys as _s\nfor _n, _m in list(_s.modules.items()):\n    if _n.startswith('_mcp_jupyter_checkpoint_'): _m.PARALLEL_MIN = 1\ndel _s, _n, _m")
	k.Run("del a, b, c")
	if _, err := st.Load(ctx, k.Runner(), "p"); err != nil {
		t.Fatal(err)
	}
	if out := k.Run("print(a[-1], b.sum(), c)"); strings.TrimSpace(out) != "299999.0 300000.0 small" {
		t.Errorf("parallel load: %q", out)
	}
	for _, v := range res.Manifest.Variables {
		if v.Name == "b" {
			flip(t, filepath.Join(st.Root(), "blobs", v.Digest), 2000)
		}
	}
	k.Run("del a, b, c")
	if _, err := st.Load(ctx, k.Runner(), "p"); !errors.Is(err, checkpoint.ErrTampered) {
		t.Fatalf("tampered parallel load: %v", err)
	}
	if out := k.Run("print('a' in globals(), 'b' in globals(), 'c' in globals())"); strings.TrimSpace(out) != "False False False" {
		t.Errorf("something was loaded: %s", out)
	}
}
