package checkpoint_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/checkpoint"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy/kernelpytest"
)

func newStore(t *testing.T, dir string) *checkpoint.Store {
	t.Helper()
	key, err := checkpoint.LoadKey(filepath.Join(t.TempDir(), "cfg", "checkpoint.key"))
	if err != nil {
		t.Fatal(err)
	}
	return checkpoint.ForNotebook(filepath.Join(dir, "nb.ipynb"), key)
}

const buildState = `
import numpy as np, pandas as pd, socket
arr = np.arange(100000, dtype=np.float64).reshape(1000, 100)
farr = np.asfortranarray(np.arange(12).reshape(3, 4))
df = pd.DataFrame({"a": np.arange(5), "b": list("vwxyz"), "c": np.linspace(0, 1, 5)})
ser = pd.Series([1.5, 2.5], name="s")
nested = {"k": [1, (2, 3), {"z": b"bytes"}], "s": {1, 2}, "none": None}
square = lambda x: x * x
def make_adder(n):
    def add(x):
        return x + n
    return add
add3 = make_adder(3)
class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y
    def norm2(self):
        return self.x ** 2 + self.y ** 2
pt = Point(3, 4)
gen = (i for i in range(3))
db_conn = socket.socket()
_private = 7
`

const checkState = `
import numpy as np
assert arr.shape == (1000, 100) and arr[999, 99] == 99999.0, arr
assert farr.flags.f_contiguous and farr[2, 3] == 11
assert list(df["b"]) == list("vwxyz") and df["c"].iloc[4] == 1.0
assert ser.name == "s" and ser.iloc[1] == 2.5
assert nested == {"k": [1, (2, 3), {"z": b"bytes"}], "s": {1, 2}, "none": None}
assert square(7) == 49 and add3(4) == 7
assert pt.norm2() == 25 and type(pt).__name__ == "Point"
assert _private == 7
print("state ok")
`

func TestRoundTripRestart(t *testing.T) {
	dir := t.TempDir()
	k := kernelpytest.Start(t, dir)
	st := newStore(t, dir)
	ctx := context.Background()
	k.Run(buildState)
	res, err := st.Save(ctx, k.Runner(), "base", checkpoint.SaveOptions{Record: []checkpoint.RecordEntry{{CellID: "c1", SourceHash: "h", Status: "ok", ExecutionCount: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	ser := map[string]string{}
	for _, v := range res.Manifest.Variables {
		ser[v.Name] = v.Serializer
	}
	wantSer := map[string]string{"arr": "pickle", "farr": "pickle", "df": "pickle", "ser": "pickle", "nested": "pickle",
		"square": "dill", "make_adder": "dill", "add3": "dill", "Point": "dill", "pt": "dill", "_private": "pickle"}
	if d := cmp.Diff(wantSer, ser); d != "" {
		t.Errorf("serializers (-want +got):\n%s", d)
	}
	failed := map[string]string{}
	for _, f := range res.Manifest.Failed {
		failed[f.Name] = f.String()
	}
	if !strings.Contains(failed["db_conn"], "db_conn (socket.socket): cannot pickle 'socket' object") {
		t.Errorf("db_conn diagnosis = %q", failed["db_conn"])
	}
	if !strings.Contains(failed["gen"], "gen (generator): cannot pickle 'generator' object") {
		t.Errorf("gen diagnosis = %q", failed["gen"])
	}
	if len(failed) != 2 || res.Suggestion != checkpoint.Suggestion {
		t.Errorf("failed = %v, suggestion %q", failed, res.Suggestion)
	}
	gi, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if err != nil || string(gi) != ".mcp/\n" {
		t.Errorf(".gitignore = %q, %v", gi, err)
	}

	k.Restart()
	lr, err := st.Load(ctx, k.Runner(), "base")
	if err != nil {
		t.Fatal(err)
	}
	if len(lr.Failed) != 0 || len(lr.Loaded) != len(wantSer) {
		t.Errorf("loaded %v failed %v", lr.Loaded, lr.Failed)
	}
	if out := k.Run(checkState); !strings.Contains(out, "state ok") {
		t.Errorf("check printed %q", out)
	}
	if d := cmp.Diff(res.Manifest.Record, lr.Manifest.Record); d != "" {
		t.Errorf("record (-want +got):\n%s", d)
	}
	// No helper name leaked into the user namespace.
	if out := k.Run("print(sorted(n for n in globals() if 'mcp' in n))"); strings.TrimSpace(out) != "[]" {
		t.Errorf("helper names in user namespace: %s", out)
	}
	infos, err := st.List()
	if err != nil || len(infos) != 1 || !infos[0].Valid || infos[0].Name != "base" {
		t.Fatalf("list = %+v, %v", infos, err)
	}
}

func TestDillMissingIsExplained(t *testing.T) {
	dir := t.TempDir()
	k := kernelpytest.Start(t, dir)
	st := newStore(t, dir)
	k.Run("import sys\nsys.modules['dill'] = None\nf = lambda: 1\nx = [1, 2]")
	res, err := st.Save(context.Background(), k.Runner(), "nodill", checkpoint.SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Manifest.Variables) != 1 || res.Manifest.Variables[0].Name != "x" {
		t.Errorf("saved %+v", res.Manifest.Variables)
	}
	if len(res.Manifest.Failed) != 1 || !strings.Contains(res.Manifest.Failed[0].Reason, "pip install dill") {
		t.Errorf("failed %+v", res.Manifest.Failed)
	}
}

func TestIncrementalWritesNoUnchangedBlob(t *testing.T) {
	dir := t.TempDir()
	k := kernelpytest.Start(t, dir)
	st := newStore(t, dir)
	ctx := context.Background()
	k.Run("import numpy as np\nbig = np.ones(2_000_000)\nalias = big\nsmall = 1\nholder = {'a': np.zeros(10)}\ndef bump():\n    holder['a'][0] += 1")
	first, err := st.Save(ctx, k.Runner(), "cp", checkpoint.SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stats := blobStats(t, st)
	k.Run("small = 2")
	second, err := st.Save(ctx, k.Runner(), "cp", checkpoint.SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if second.Written != 1 {
		t.Errorf("second save wrote %d blobs, want 1 (small)", second.Written)
	}
	for d, ino := range stats {
		if got := blobStats(t, st)[d]; got != ino {
			t.Errorf("blob %s rewritten (inode/mtime %v -> %v)", d[:12], ino, got)
		}
	}
	digest := func(r *checkpoint.SaveResult, name string) string {
		for _, v := range r.Manifest.Variables {
			if v.Name == name {
				return v.Digest
			}
		}
		return ""
	}
	if digest(first, "small") == digest(second, "small") || digest(first, "big") != digest(second, "big") {
		t.Errorf("digests: small %s->%s big %s->%s", digest(first, "small"), digest(second, "small"), digest(first, "big"), digest(second, "big"))
	}
	// Changes through an alias, a notebook function, a container member and a
	// numpy view are seen.
	k.Run("alias[0] = 5")
	k.Run("bump()")
	third, err := st.Save(ctx, k.Runner(), "cp", checkpoint.SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if digest(third, "big") == digest(second, "big") || digest(third, "holder") == digest(second, "holder") {
		t.Errorf("in-place changes missed: big %s holder %s", digest(third, "big"), digest(third, "holder"))
	}
	k.Run("inner = holder['a']\nview_src = np.zeros(4)\nview = view_src[::2]\nbag = [view_src]")
	base, err := st.Save(ctx, k.Runner(), "cp3", checkpoint.SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k.Run("holder['a'][1] = 7") // inner is the same array
	k.Run("view[1] = 9")        // view_src (and bag, which holds it) change
	k.Run("inner2 = inner")     // touches inner only: holder must follow
	after, err := st.Save(ctx, k.Runner(), "cp3", checkpoint.SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"inner", "view_src", "bag", "holder"} {
		if digest(base, n) == digest(after, n) {
			t.Errorf("%s changed but its blob was reused", n)
		}
	}
	if digest(base, "big") != digest(after, "big") {
		t.Error("big did not change but was written again")
	}
	// A cell that writes the namespace without naming the variable.
	k.Run("globals()['small'] = 99")
	viaGlobals, err := st.Save(ctx, k.Runner(), "cp3", checkpoint.SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if digest(viaGlobals, "small") == digest(after, "small") || viaGlobals.Reused != 0 {
		t.Errorf("globals() write missed: reused %d", viaGlobals.Reused)
	}
	// Harmless magics keep the mirror; %time runs a statement we cannot see.
	k.Run("%matplotlib inline\n!true")
	calm, err := st.Save(ctx, k.Runner(), "cp3", checkpoint.SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if calm.Written != 0 || calm.Reused != len(calm.Manifest.Variables)-countAliases(calm) {
		t.Errorf("after a harmless magic: written %d reused %d\n%+v\n%+v", calm.Written, calm.Reused, viaGlobals.Manifest.Variables, calm.Manifest.Variables)
	}
	k.Run("%time small = 5")
	timed, err := st.Save(ctx, k.Runner(), "cp3", checkpoint.SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if digest(timed, "small") == digest(calm, "small") {
		t.Errorf("a %%time cell that rebinds small was missed")
	}
	k.Run("small = 2")
	k.Run("del inner, view_src, view, bag, inner2")
	k.Restart()
	if _, err := st.Load(ctx, k.Runner(), "cp"); err != nil {
		t.Fatal(err)
	}
	// A save right after a load reuses every blob without serializing.
	fourth, err := st.Save(ctx, k.Runner(), "cp2", checkpoint.SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fourth.Written != 0 || fourth.Reused != 4 || len(fourth.Manifest.Variables) != 5 {
		t.Errorf("save after load: written %d reused %d of %+v", fourth.Written, fourth.Reused, fourth.Manifest.Variables)
	}
	if out := k.Run("print(big[0], alias[1], holder['a'][0], small, alias is big)"); strings.TrimSpace(out) != "5.0 1.0 1.0 2 True" {
		t.Errorf("after load: %q", out)
	}
}

type blobStat struct {
	ino   uint64
	mtime int64
}

func blobStats(t *testing.T, st *checkpoint.Store) map[string]blobStat {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(st.Root(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]blobStat{}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = blobStat{ino: inode(fi), mtime: fi.ModTime().UnixNano()}
	}
	return out
}

func manifestOf(t *testing.T, st *checkpoint.Store, name string) (raw []byte, m checkpoint.Manifest) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(st.Root(), name, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ Manifest json.RawMessage }
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(env.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	return raw, m
}

func TestSaveSelectedNames(t *testing.T) {
	dir := t.TempDir()
	k := kernelpytest.Start(t, dir)
	st := newStore(t, dir)
	k.Run("a = 1\nb = [2]\nc = 'three'")
	res, err := st.Save(context.Background(), k.Runner(), "some", checkpoint.SaveOptions{Names: []string{"a", "c", "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range res.Manifest.Variables {
		got = append(got, v.Name)
	}
	if d := cmp.Diff([]string{"a", "c"}, got); d != "" {
		t.Errorf("saved (-want +got):\n%s", d)
	}
	if len(res.Manifest.Failed) != 1 || res.Manifest.Failed[0].String() != "nope (): not defined in the kernel" {
		t.Errorf("failed %+v", res.Manifest.Failed)
	}
}

func countAliases(r *checkpoint.SaveResult) int {
	n := 0
	for _, v := range r.Manifest.Variables {
		if v.AliasOf != "" {
			n++
		}
	}
	return n
}
