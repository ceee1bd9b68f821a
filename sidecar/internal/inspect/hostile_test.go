package inspect_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/inspect"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy/kernelpytest"
)

// Namespace keys and pandas extension arrays that run code when touched: each
// hook writes a file once ARMED (after the objects were built by the "user").
const hostileNS = `
import os, numpy as np, pandas as pd
from pandas.api.extensions import ExtensionArray, ExtensionDtype
MARKS = %q
ARMED = [False]
def _mark(what):
    if ARMED[0]:
        open(os.path.join(MARKS, what), "w").close()
class EvilKey:
    def __hash__(self): _mark("key_hash"); return hash("df")
    def __eq__(self, o): _mark("key_eq"); return False
class SneakyStr(str):
    def startswith(self, *a): _mark("str_startswith"); return False
    def __hash__(self): _mark("str_hash"); return str.__hash__(self)
    def __eq__(self, o): _mark("str_eq"); return str.__eq__(self, o)
class EvilDtype(ExtensionDtype):
    name = "evil"
    type = object
    kind = "O"
    def __str__(self): _mark("dtype_str"); return "evil"
    def __repr__(self): _mark("dtype_repr"); return "evil"
    @classmethod
    def construct_array_type(cls): return EvilArray
class EvilArray(ExtensionArray):
    def __init__(self, v): self._v = np.asarray(v, dtype=object)
    @classmethod
    def _from_sequence(cls, s, dtype=None, copy=False): return cls(list(s))
    @property
    def dtype(self): _mark("ea_dtype"); return EvilDtype()
    @property
    def nbytes(self): _mark("ea_nbytes"); return 8
    def __len__(self): _mark("ea_len"); return len(self._v)
    def __getitem__(self, i):
        _mark("ea_getitem")
        r = self._v[i]
        return EvilArray(r) if isinstance(r, np.ndarray) else r
    def isna(self): _mark("ea_isna"); return np.zeros(len(self._v), dtype=bool)
    def take(self, idx, allow_fill=False, fill_value=None): _mark("ea_take"); return EvilArray(self._v.take(idx))
    def copy(self): _mark("ea_copy"); return EvilArray(self._v.copy())
    @classmethod
    def _concat_same_type(cls, xs): return cls(np.concatenate([x._v for x in xs]))
    def __array__(self, dtype=None, copy=None): _mark("ea_array"); return self._v
globals()[EvilKey()] = 1
globals()[SneakyStr("sneaky")] = 2
df = pd.DataFrame({"a": EvilArray([1, 2, 3]), "b": [1.0, 2.0, 3.0]})
ser = pd.Series(EvilArray([1, 2, 3]))
ARMED[0] = True
`

func TestInspectRunsNoUserCodeOfKeysOrExtensionArrays(t *testing.T) {
	dir := t.TempDir()
	marks := t.TempDir()
	k := kernelpytest.Start(t, dir)
	k.Run(fmt.Sprintf(hostileNS, marks))
	ctx := context.Background()
	vars, err := inspect.Variables(ctx, k.Runner(), 500)
	if err != nil {
		t.Fatalf("variables: %v", err)
	}
	seen := map[string]bool{}
	for _, v := range vars {
		seen[v.Name] = true
	}
	if !seen["df"] || !seen["ser"] {
		t.Errorf("variables = %+v, want df and ser listed", vars)
	}
	for _, name := range []string{"df", "ser", "sneaky", "missing"} {
		// A str-subclass key is not a variable one can name: not found.
		_, err := inspect.Inspect(ctx, k.Runner(), name)
		if notFound := err != nil && strings.Contains(err.Error(), "is not defined"); (err != nil && !notFound) || (notFound != (name == "sneaky" || name == "missing")) {
			t.Errorf("inspect %s: %v", name, err)
		}
	}
	ents, _ := os.ReadDir(marks)
	for _, e := range ents {
		t.Errorf("inspecting ran user code: %s", filepath.Base(e.Name()))
	}
}
