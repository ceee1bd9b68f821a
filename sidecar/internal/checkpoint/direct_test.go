package checkpoint_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/checkpoint"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy/kernelpytest"
)

// helperModule binds _cp in the kernel to the loaded checkpoint helper module
// (the helper must have run once), to tune and observe it.
const helperModule = "import sys as _s\n_cp = next(m for n, m in _s.modules.items() if n.startswith('_mcp_jupyter_checkpoint_'))\n"

// evict drops the blobs from the page cache (after flushing them), so the next
// load reads the disk as after a reboot.
func evict(t *testing.T, k *kernelpytest.Kernel, paths ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("import os as _os\n")
	for _, p := range paths {
		b.WriteString("_fd = _os.open(" + pyQuote(p) + ", _os.O_RDONLY)\n_os.fsync(_fd)\n_os.posix_fadvise(_fd, 0, 0, _os.POSIX_FADV_DONTNEED)\n_os.close(_fd)\n")
	}
	b.WriteString("del _os, _fd\n")
	k.Run(b.String())
}

func pyQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// A blob not in the page cache is read with O_DIRECT into the final buffers;
// the arrays come back equal, aligned and writable, and a flipped byte (in a
// buffer or in its alignment padding) is still refused before unpickling.
func TestColdBlobsLoadDirect(t *testing.T) {
	dir := t.TempDir()
	k := kernelpytest.Start(t, dir)
	st := newStore(t, dir)
	ctx := context.Background()
	k.Run(`import numpy as np, pandas as pd
big = np.arange(3_000_000.0)
mixed = [np.arange(10), np.ones(300_000), np.zeros(0), np.arange(7.0), np.ones((400, 400), dtype=np.float32)]
df = pd.DataFrame({"i": np.arange(200_000), "f": np.linspace(0, 1, 200_000), "s": ["x"] * 200_000})
ref = (big.copy(), [m.copy() for m in mixed], df.copy())`)
	res, err := st.Save(ctx, k.Runner(), "cold", checkpoint.SaveOptions{Names: []string{"big", "mixed", "df"}})
	if err != nil {
		t.Fatal(err)
	}
	var blobs []string
	digest := map[string]string{}
	for _, v := range res.Manifest.Variables {
		p := filepath.Join(st.Root(), "blobs", v.Digest)
		blobs = append(blobs, p)
		digest[v.Name] = p
	}
	// Every blob counts as big enough for O_DIRECT here; record the switches.
	k.Run(helperModule + `_cp.DIRECT_MIN = 1
_direct_calls = []
_orig_set_direct = _cp._set_direct
def _spy(fd, on):
    r = _orig_set_direct(fd, on)
    _direct_calls.append((on, r))
    return r
_cp._set_direct = _spy
del _s`)
	k.Run("del big, mixed, df")
	evict(t, k, blobs...)
	if _, err := st.Load(ctx, k.Runner(), "cold"); err != nil {
		t.Fatal(err)
	}
	out := k.Run(`print(np.array_equal(big, ref[0]), all(np.array_equal(a, b) for a, b in zip(mixed, ref[1])), df.equals(ref[2]))
print(all(a.flags.aligned and a.flags.writeable for a in [big] + mixed))
print(sorted(set(_direct_calls)))`)
	if diff := cmp.Diff("True True True\nTrue\n[(True, True)]", strings.TrimSpace(out)); diff != "" {
		t.Errorf("cold load (-want +got):\n%s", diff)
	}

	// Warm blobs (just read) go through the page cache: no O_DIRECT.
	k.Run("_direct_calls.clear()\ndel big, mixed, df")
	if _, err := st.Load(ctx, k.Runner(), "cold"); err != nil {
		t.Fatal(err)
	}
	if out := k.Run("print(_direct_calls, big[-1])"); strings.TrimSpace(out) != "[] 2999999.0" {
		t.Errorf("warm load: %q", out)
	}

	// big's blob: magic, a pickle stream of a few hundred bytes, zero padding
	// up to 4096 where the array starts: byte 2000 is padding, 1<<20 array data.
	for _, at := range []int64{2000, 1 << 20} {
		flip(t, digest["big"], at)
		k.Run("del big, mixed, df")
		evict(t, k, blobs...)
		if _, err := st.Load(ctx, k.Runner(), "cold"); !errors.Is(err, checkpoint.ErrTampered) {
			t.Fatalf("flipped byte %d: %v", at, err)
		}
		if out := k.Run("print('big' in globals(), 'mixed' in globals(), 'df' in globals())"); strings.TrimSpace(out) != "False False False" {
			t.Errorf("flipped byte %d: something was loaded: %s", at, out)
		}
		flip(t, digest["big"], at) // restore
		if _, err := st.Load(ctx, k.Runner(), "cold"); err != nil {
			t.Fatalf("restored byte %d: %v", at, err)
		}
	}
}

// Blobs of format 1 (no alignment padding), written before format 2, are
// still read and verified.
func TestVersion1BlobsStillRead(t *testing.T) {
	dir := t.TempDir()
	k := kernelpytest.Start(t, dir)
	st := newStore(t, dir)
	ctx := context.Background()
	k.Run("x = 1")
	if _, err := st.Save(ctx, k.Runner(), "v", checkpoint.SaveOptions{}); err != nil {
		t.Fatal(err) // loads the helper module
	}
	path := filepath.Join(dir, "v1.blob")
	out := k.Run(helperModule + `import hashlib, pickle, struct, numpy as np
_vals = [np.arange(1001.0), np.arange(300_001, dtype=np.int32), "tail"]
_bufs = []
_body = pickle.dumps(_vals, protocol=5, buffer_callback=_bufs.append)
_raws = [b.raw() for b in _bufs]
_blob = b"MCPBLOB1" + _body + b"".join(bytes(r) for r in _raws)
_blob += b"".join(struct.pack("<Q", r.nbytes) for r in _raws) + struct.pack("<QII", len(_body), len(_raws), 0) + b"MCPBEND1"
open(` + pyQuote(path) + `, "wb").write(_blob)
_dig = hashlib.sha256(_blob).hexdigest()
_cp.DIRECT_MIN = 1
_data, _got_bufs, _ser = _cp._read_verified(` + pyQuote(path) + `, _dig, len(_blob))
_got = pickle.loads(_data, buffers=_got_bufs)
print(len(_raws), _ser, np.array_equal(_got[0], _vals[0]), np.array_equal(_got[1], _vals[1]), _got[2])
_bad = bytearray(_blob); _bad[len(_blob) // 2] ^= 1
open(` + pyQuote(path) + `, "wb").write(_bad)
try:
    _cp._read_verified(` + pyQuote(path) + `, _dig, len(_blob))
    print("accepted")
except _cp.BlobVerificationError as e:
    print("refused")
del _s`)
	if diff := cmp.Diff("2 0 True True tail\nrefused", strings.TrimSpace(out)); diff != "" {
		t.Errorf("format 1 blob (-want +got):\n%s", diff)
	}
}
