package inspect_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/inspect"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy/kernelpytest"
)

// Every dunder a careless inspector could call writes a file named after itself.
const traps = `
import os, numpy as np, pandas as pd
TRAPS = %q
def _touch(what):
    open(os.path.join(TRAPS, what), "w").close()
class Trap:
    def __repr__(self): _touch("repr"); return "T"
    def __str__(self): _touch("str"); return "T"
    def __format__(self, spec): _touch("format"); return "T"
    def __getattr__(self, n): _touch("getattr"); raise AttributeError(n)
    def __getattribute__(self, n): _touch("getattribute"); return object.__getattribute__(self, n)
    def __len__(self): _touch("len"); return 1
    def __iter__(self): _touch("iter"); return iter(())
    def __bool__(self): _touch("bool"); return True
    def __eq__(self, o): _touch("eq"); return False
    def __hash__(self): _touch("hash"); return 1
    def __sizeof__(self): _touch("sizeof"); return 1
    def __dir__(self): _touch("dir"); return []
    def __array__(self, *a, **k): _touch("array"); return np.zeros(1)
    def __float__(self): _touch("float"); return 1.0
    def __index__(self): _touch("index"); return 1
    @property
    def __class__(self): _touch("class"); return int
    @property
    def prop(self): _touch("prop"); return 1
class Meta(type):
    def __eq__(cls, o): _touch("meta_eq"); return False
    def __hash__(cls): _touch("meta_hash"); return 1
    def __getattribute__(cls, n): _touch("meta_getattribute"); return type.__getattribute__(cls, n)
    def __instancecheck__(cls, o): _touch("instancecheck"); return False
    def __subclasscheck__(cls, o): _touch("subclasscheck"); return False
class WithMeta(metaclass=Meta):
    def __repr__(self): _touch("meta_repr"); return "M"
class TrapArray(np.ndarray):
    def __array_finalize__(self, obj): _touch("array_finalize")
    @property
    def shape(self): _touch("array_shape"); return (1,)
class TrapFrame(pd.DataFrame):
    @property
    def shape(self): _touch("frame_shape"); return (0, 0)
t = Trap()
m = WithMeta()
lst = [1, "a", Trap(), 2.5, None, [Trap()]]
d = {"k": 1, Trap(): Trap()}
st = {Trap()}
ta = np.arange(6).view(TrapArray)
oa = np.empty(3, dtype=object)
oa[0] = Trap(); oa[1] = 7
frame = pd.DataFrame({"n": [1, 2, 3], "f": [0.5, 1.5, 2.5], "s": ["x", "y", "z"], "o": [Trap(), 1, "q"]})
tframe = TrapFrame({"a": [1]})
arr = np.arange(12, dtype=np.int32).reshape(3, 4)
ser = pd.Series([1.5, 2.5, 3.5], name="s")
num = 42
text = "z" * 500
`

func TestInspectionNeverRunsUserCode(t *testing.T) {
	dir := t.TempDir()
	trapDir := t.TempDir()
	k := kernelpytest.Start(t, dir)
	k.Run(fmt.Sprintf(traps, trapDir))
	clear := func() {
		ents, _ := os.ReadDir(trapDir)
		for _, e := range ents {
			os.Remove(trapDir + "/" + e.Name())
		}
	}
	// Control: the traps do fire when touched.
	clear()
	k.Run("repr(t); len(m.__class__.__name__)")
	if ents, _ := os.ReadDir(trapDir); len(ents) == 0 {
		t.Fatal("control: traps did not fire")
	}
	clear()

	ctx := context.Background()
	vars, err := inspect.Variables(ctx, k.Runner(), 500)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]inspect.Variable{}
	for _, v := range vars {
		byName[v.Name] = v
	}
	for _, n := range []string{"np", "pd", "os", "In", "Out", "get_ipython", "exit", "quit"} {
		if _, ok := byName[n]; ok {
			t.Errorf("internal or module %q listed", n)
		}
	}
	if v := byName["arr"]; v.Type != "numpy.ndarray" || !cmp.Equal(v.Shape, []int{3, 4}) || v.Dtype != "int32" || v.Size != 48 {
		t.Errorf("arr = %+v", v)
	}
	if v := byName["frame"]; v.Type != "pandas.DataFrame" || !cmp.Equal(v.Shape, []int{3, 4}) {
		t.Errorf("frame = %+v", v)
	}
	if v := byName["t"]; v.Type != "__main__.Trap" {
		t.Errorf("t = %+v", v)
	}
	if v := byName["lst"]; v.Len == nil || *v.Len != 6 {
		t.Errorf("lst = %+v", v)
	}
	descs := map[string]*inspect.Description{}
	for _, v := range vars {
		d, err := inspect.Inspect(ctx, k.Runner(), v.Name)
		if err != nil {
			t.Fatalf("inspect %s: %v", v.Name, err)
		}
		descs[v.Name] = d
		if d.Text() == "" {
			t.Errorf("no text for %s", v.Name)
		}
	}
	if ents, _ := os.ReadDir(trapDir); len(ents) != 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("inspection ran user code: %v", names)
	}

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"t kind", descs["t"].Kind, "object"},
		{"m type", descs["m"].Type, "__main__.WithMeta"},
		{"ta shape (through ndarray's descriptor)", descs["ta"].Shape, []int{6}},
		{"tframe kind", descs["tframe"].Kind, "object"},
		{"num", string(descs["num"].Value), "42"},
		{"text truncated", descs["text"].Truncated, true},
		{"arr values", string(descs["arr"].Values), "[0,1,2,3,4]"},
		{"lst items", string(descs["lst"].Items), `[1,"a",{"type":"__main__.Trap"},2.5,null]`},
		{"d items", string(descs["d"].Items), `[["k",1],[{"type":"__main__.Trap"},{"type":"__main__.Trap"}]]`},
		{"oa values", string(descs["oa"].Values), `[{"type":"__main__.Trap"},7,null]`},
		{"frame head", string(descs["frame"].Head), `{"n":[1,2,3],"f":[0.5,1.5,2.5],"s":["x","y","z"],"o":[{"type":"__main__.Trap"},1,"q"]}`},
		{"ser values", string(descs["ser"].Values), "[1.5,2.5,3.5]"},
	}
	for _, tc := range tests {
		if d := cmp.Diff(tc.want, tc.got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
	}

	if _, err := inspect.Inspect(ctx, k.Runner(), "missing"); !errors.Is(err, inspect.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if _, err := inspect.Inspect(ctx, k.Runner(), "t.prop"); !errors.Is(err, inspect.ErrInvalidName) {
		t.Errorf("attribute path: %v", err)
	}
}
