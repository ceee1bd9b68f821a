# mcp-jupyter safe inspection helper. Runs inside the user's kernel.
#
# Rule: never run code the user's objects define. So no repr/str/len/getattr/
# isinstance on arbitrary objects (isinstance consults obj.__class__, which a
# class can fake). Types come from type(); values are read only from exact
# builtin types, and numpy/pandas objects of their exact types, through the
# type's own descriptors. Everything else is described by its type name and
# object.__sizeof__.

import re
import sys

_TYPE_QUALNAME = type.__dict__["__qualname__"].__get__
_TYPE_MODULE = type.__dict__["__module__"].__get__

SKIP = {"In", "Out", "exit", "quit", "get_ipython", "_exit_code"}
_IPY_NAME = re.compile(r"^_(i+|i\d+|\d+|oh|dh|ih|_*)$")

SCALARS = (int, float, complex, bool, type(None))
TEXT = (str, bytes, bytearray)
SEQS = (list, tuple)
SETS = (set, frozenset)
MAX_STR = 200
MAX_ITEMS = 5


def _ip():
    from IPython import get_ipython

    ip = get_ipython()
    if ip is None:
        raise RuntimeError("not running in an IPython kernel")
    return ip


def _is(t, group):
    # Identity only: `t in group` would call ==, which a metaclass can define.
    for g in group:
        if t is g:
            return True
    return False


def _module_of(tp):
    try:
        mod = _TYPE_MODULE(tp)
    except Exception:
        return None
    return mod if type(mod) is str else None


def qualname(tp):
    mod = _module_of(tp)
    qn = _TYPE_QUALNAME(tp)
    if mod is None or mod == "builtins":
        return qn
    return mod + "." + qn


def size_of(obj):
    t = type(obj)
    if _is(t, SCALARS) or _is(t, TEXT) or _is(t, SEQS) or _is(t, SETS) or t is dict or t is range:
        return sys.getsizeof(obj)
    # object.__sizeof__ is the base implementation: a class's own __sizeof__ is not called.
    return object.__sizeof__(obj)


def _np():
    return sys.modules.get("numpy")


def _pd():
    return sys.modules.get("pandas")


def _ndarray_type(obj):
    np = _np()
    return np is not None and type(obj) is np.ndarray


def _short(s):
    if len(s) > MAX_STR:
        return s[:MAX_STR], True
    return s, False


def brief(obj, depth=0):
    """A JSON-safe value for exact builtin scalars/strings, else a type tag."""
    t = type(obj)
    if _is(t, (int, bool, type(None))):
        if t is int and obj.bit_length() > 64:
            return {"type": "int", "bits": obj.bit_length()}
        return obj
    if t is float:
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else {"type": "float", "value": float.__repr__(obj)}
    if t is complex:
        return {"type": "complex", "value": complex.__repr__(obj)}
    if t is str:
        s, cut = _short(obj)
        return s + ("…" if cut else "")
    if _is(t, (bytes, bytearray)):
        return {"type": qualname(t), "len": len(obj), "head": bytes(obj[:32]).hex()}
    if depth < 1 and (_is(t, SEQS) or _is(t, SETS)):
        return {"type": qualname(t), "len": len(obj), "items": [brief(x, depth + 1) for x in _first(obj)]}
    if depth < 1 and t is dict:
        return {"type": "dict", "len": len(obj), "items": [[brief(k, depth + 1), brief(v, depth + 1)] for k, v in _first(dict.items(obj))]}
    if _ndarray_type(obj):
        return {"type": "numpy.ndarray", "shape": list(obj.shape), "dtype": str(obj.dtype)}
    return {"type": qualname(t)}


def _first(it):
    out = []
    for x in it:
        if len(out) >= MAX_ITEMS:
            break
        out.append(x)
    return out


def _ndarray_values(a):
    np = _np()
    kind = a.dtype.kind
    flat = a.reshape(-1)[:MAX_ITEMS] if a.flags.c_contiguous else a.ravel(order="K")[:MAX_ITEMS]
    if kind == "O":
        return [brief(x, 1) for x in flat]
    if kind in "biu?":
        return [int(x) for x in flat.tolist()]
    if kind in "fc":
        return [brief(x, 1) for x in flat.tolist()]
    if kind in "mMUS":
        return [str(x) for x in flat.astype(str).tolist()] if kind in "mM" else [brief(x, 1) for x in flat.tolist()]
    return []


def describe(obj):
    t = type(obj)
    d = {"type": qualname(t), "size": size_of(obj)}
    np, pd = _np(), _pd()
    if _is(t, SCALARS):
        d["kind"] = "number" if t is not type(None) else "none"
        d["value"] = brief(obj)
    elif _is(t, TEXT):
        d["kind"] = "text"
        d["len"] = len(obj)
        d["value"] = brief(obj)
        d["truncated"] = len(obj) > MAX_STR if t is str else len(obj) > 32
    elif _is(t, SEQS) or _is(t, SETS):
        d["kind"] = "container"
        d["len"] = len(obj)
        d["items"] = [brief(x, 1) for x in _first(obj)]
    elif t is dict:
        d["kind"] = "mapping"
        d["len"] = len(obj)
        d["items"] = [[brief(k, 1), brief(v, 1)] for k, v in _first(dict.items(obj))]
    elif t is range:
        d["kind"] = "container"
        d["len"] = len(obj)
        d["value"] = [obj.start, obj.stop, obj.step]
    elif np is not None and t is np.ndarray:
        d["kind"] = "ndarray"
        d["shape"] = list(obj.shape)
        d["dtype"] = str(obj.dtype)
        d["nbytes"] = int(obj.nbytes)
        d["size"] = int(obj.nbytes) + sys.getsizeof(obj) if obj.flags.owndata else sys.getsizeof(obj)
        d["values"] = _ndarray_values(obj)
    elif np is not None and issubclass(t, np.ndarray):
        # A subclass may hook array creation: read shape/dtype through ndarray's descriptors only.
        d["kind"] = "ndarray"
        d["shape"] = list(np.ndarray.shape.__get__(obj))
        d["dtype"] = str(np.ndarray.dtype.__get__(obj))
        d["nbytes"] = int(np.ndarray.nbytes.__get__(obj))
    elif np is not None and issubclass(t, np.generic) and _module_of(t) == "numpy":
        d["kind"] = "number"
        d["value"] = brief(obj.item())
    elif pd is not None and _is(t, (pd.DataFrame, pd.Series)) and not _pandas_safe(obj):
        d["kind"] = "dataframe" if t is pd.DataFrame else "series"
        d["note"] = "holds a user-defined extension array or index: not read (reading it would run its code)"
    elif pd is not None and t is pd.DataFrame:
        d["kind"] = "dataframe"
        d["shape"] = list(obj.shape)
        d["columns"] = [[brief(c, 1), str(dt)] for c, dt in zip(obj.columns[:50], obj.dtypes.iloc[:50])]
        d["ncolumns"] = len(obj.columns)
        d["memory"] = int(obj.memory_usage(index=True, deep=False).sum())
        d["size"] = d["memory"]
        head = {}
        for i, c in enumerate(obj.columns[:20]):
            col = obj.iloc[:MAX_ITEMS, i]
            head[str(c) if _is(type(c), (str, int, float)) else "#%d" % i] = _column_values(col)
        d["head"] = head
    elif pd is not None and t is pd.Series:
        d["kind"] = "series"
        d["shape"] = list(obj.shape)
        d["dtype"] = str(obj.dtype)
        d["memory"] = int(obj.memory_usage(index=True, deep=False))
        d["size"] = d["memory"]
        d["values"] = _column_values(obj.iloc[:MAX_ITEMS])
    else:
        d["kind"] = "object"
    return d


def _pandas_safe(obj):
    """Whether a DataFrame/Series holds only numpy arrays and pandas' own
    extension arrays (and indexes): a user ExtensionArray runs its own code
    for dtype, len, nbytes and item access, so such an object is described
    by its type only. Checked through the blocks, before any dtype is read."""
    np, pd = _np(), _pd()
    try:
        safe_arrays = [v for v in vars(pd.arrays).values() if type(v) is type] + [pd.Categorical]
        for blk in obj._mgr.blocks:
            t = type(blk.values)
            if not (t is np.ndarray or _is(t, safe_arrays)):
                return False
        safe_index = [getattr(pd, n) for n in ("Index", "RangeIndex", "MultiIndex", "DatetimeIndex", "TimedeltaIndex",
                                                "PeriodIndex", "CategoricalIndex", "IntervalIndex") if hasattr(pd, n)]
        axes = [obj.index] + ([obj.columns] if type(obj) is pd.DataFrame else [])
        for ax in axes:
            if not _is(type(ax), safe_index):
                return False
            if type(ax) is not pd.RangeIndex and type(ax) is not pd.MultiIndex:
                t = type(ax._data)
                if not (t is np.ndarray or _is(t, safe_arrays)):
                    return False
    except Exception:
        return False
    return True


def _column_values(col):
    kind = getattr(col.dtype, "kind", "O")
    vals = col.to_numpy(copy=False) if kind != "O" else col.array
    out = []
    for x in vals[:MAX_ITEMS] if kind != "O" else list(vals)[:MAX_ITEMS]:
        if kind in "mM":
            out.append(str(x))
        elif kind in "biu?":
            out.append(int(x))
        elif kind == "f":
            out.append(brief(float(x), 1))
        elif kind == "c":
            out.append(brief(complex(x), 1))
        else:
            out.append(brief(x, 1))
    return out


def _items(d):
    # dict.items, not d.items(): no user override. Only exact-str keys: a key
    # of another type or a str subclass would run its __hash__/__eq__/
    # startswith. No lookups in d either (a colliding hostile key's __eq__
    # would run): the pairs are copied into a dict of exact-str keys.
    return [(k, v) for k, v in dict.items(d) if type(k) is str]


def _user_vars(ip):
    ns = ip.user_ns
    hidden = dict(_items(ip.user_ns_hidden))
    types = sys.modules["types"]
    for name, value in _items(ns):
        if name in SKIP or name.startswith("__") or name.startswith("_mcp_jupyter") or _IPY_NAME.match(name):
            continue
        if name in hidden and hidden[name] is value:
            continue
        if type(value) is types.ModuleType:
            continue
        yield name, value


def variables(args):
    ip = _ip()
    out = []
    for name, value in _user_vars(ip):
        t = type(value)
        v = {"name": name, "type": qualname(t), "size": size_of(value)}
        np, pd = _np(), _pd()
        if _is(t, TEXT) or _is(t, SEQS) or _is(t, SETS) or t is dict or t is range:
            v["len"] = len(value)
        elif np is not None and issubclass(t, np.ndarray):
            v["shape"] = list(np.ndarray.shape.__get__(value))
            v["dtype"] = str(np.ndarray.dtype.__get__(value))
            v["size"] = int(np.ndarray.nbytes.__get__(value))
        elif pd is not None and _is(t, (pd.DataFrame, pd.Series)) and _pandas_safe(value):
            v["shape"] = list(value.shape)
            v["size"] = int(value.memory_usage(index=True, deep=False).sum() if t is pd.DataFrame else value.memory_usage(index=True, deep=False))
        out.append(v)
        if len(out) >= int(args.get("limit") or 500):
            break
    return {"variables": out}


def inspect(args):
    ip = _ip()
    name = args["name"]
    if type(name) is not str:
        return {"found": False}
    found = [v for k, v in _items(ip.user_ns) if k == name]
    if not found:
        return {"found": False}
    d = describe(found[0])
    d["name"] = name
    d["found"] = True
    return d
