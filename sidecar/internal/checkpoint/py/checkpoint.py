# mcp-jupyter checkpoint helper. Runs inside the user's kernel (loaded as a
# private module, never into the user namespace). The Go side signs and
# verifies manifests; this module only writes and reads content-addressed blobs.
#
# Blob layout (one file per variable, named by the SHA-256 of its bytes):
#   b"MCPBLOB2" | pickle stream | out-of-band buffer 0 | buffer 1 | ... | trailer
#   trailer = u64 len(buffer i) for each i | u64 pickle length | u32 buffer count
#             | u32 serializer (0 pickle, 1 dill) | b"MCPBEND2"
# Out-of-band buffers (protocol 5) are written from the object's own memory, so
# numpy arrays and pandas blocks are never copied into a pickle byte string.
# Each buffer starts on a 64-byte boundary (zero padding before it) so the
# arrays restored from it are aligned; a buffer of at least BIG_BUF bytes
# starts and ends on a page boundary, so load can read it with O_DIRECT
# straight into its own memory (no page-cache copy). Version 1 blobs
# (b"MCPBLOB1"/b"MCPBEND1", no padding) are still read.

import errno
import hashlib
import io
import json
import mmap
import os
import pickle
import re
import stat
import struct
import sys
import threading
import types

MAGIC = b"MCPBLOB2"
END = b"MCPBEND2"
MAGIC_V1 = b"MCPBLOB1"
END_V1 = b"MCPBEND1"
ALIGN = 64
PAGE = 4096
BIG_BUF = 1 << 20
SERIALIZERS = {0: "pickle", 1: "dill"}
SKIP_NAMES = {"In", "Out", "_", "__", "___", "exit", "quit", "get_ipython", "_oh", "_dh", "_ih", "_ii", "_iii", "_exit_code"}
MIRROR_KEY = "_mcp_jupyter_checkpoint_mirror"
CHUNK = 1 << 22


class BlobVerificationError(Exception):
    """A blob does not match the signed manifest: nothing may be unpickled."""


class NeedsDill(Exception):
    """Raised while pickling when an object refers to code defined in the notebook."""


def _user_ns():
    from IPython import get_ipython

    ip = get_ipython()
    if ip is None:
        raise RuntimeError("not running in an IPython kernel")
    return ip, ip.user_ns


_IPY_NAME = re.compile(r"^_(i+|i\d+|\d+|oh|dh|ih)$")


def _is_internal(name, value, hidden):
    if name in SKIP_NAMES or name.startswith("__") or name.startswith("_mcp_jupyter") or _IPY_NAME.match(name):
        return True
    if name in hidden and hidden[name] is value:
        return True
    if isinstance(value, types.ModuleType):
        return True
    return False


def _qualname(tp):
    mod = getattr(tp, "__module__", None)
    qn = getattr(tp, "__qualname__", None) or getattr(tp, "__name__", "?")
    if mod in (None, "builtins"):
        return qn
    return mod + "." + qn


class _MainAwarePickler(pickle.Pickler):
    # Classes and functions defined in the notebook live in __main__: pickle
    # stores them by reference, which a fresh kernel cannot resolve. dill
    # stores them by value, so such objects go to dill.
    def reducer_override(self, obj):
        if isinstance(obj, (type, types.FunctionType)) and getattr(obj, "__module__", None) == "__main__":
            raise NeedsDill()
        if type(obj).__module__ == "__main__":
            raise NeedsDill()
        return NotImplemented


PIPE_CHUNK = 16 << 20
DIRECT_CHUNK = 64 << 20  # direct reads have no readahead: fewer, larger ones keep the disk busy
PARALLEL_MIN = 64 << 20  # blobs at least this big are verified side by side


class _HashingWriter:
    """Writes and hashes. Large buffers are hashed in a helper thread while
    the same chunk is written (both release the GIL), so hashing is nearly free."""

    def __init__(self, f):
        self.f = f
        self.h = hashlib.sha256()
        self.n = 0

    def _write_all(self, m):
        off = 0
        while off < m.nbytes:
            k = self.f.write(m[off : off + (1 << 30)])
            if not k:
                raise OSError("short write")
            off += k

    def write(self, b):
        m = memoryview(b).cast("B")
        if m.nbytes < 2 * PIPE_CHUNK:
            self.h.update(m)
            self._write_all(m)
        else:
            for off in range(0, m.nbytes, PIPE_CHUNK):
                chunk = m[off : off + PIPE_CHUNK]
                t = threading.Thread(target=self.h.update, args=(chunk,))
                t.start()
                try:
                    self._write_all(chunk)
                finally:
                    t.join()
        self.n += m.nbytes
        return m.nbytes


def _up(n, a):
    return (n + a - 1) // a * a


def _buffer_offsets(pickle_end, lens):
    """Where each out-of-band buffer of a version 2 blob starts, and where the
    trailer starts. Writer and reader share it, so the padding is implied."""
    offs, pos = [], pickle_end
    for n in lens:
        big = n >= BIG_BUF
        pos = _up(pos, PAGE if big else ALIGN)
        offs.append(pos)
        pos += n
        if big:
            pos = _up(pos, PAGE)
    return offs, pos


def _write_blob(tmp_path, value, serializer):
    """Serialize value to tmp_path; return (digest, size)."""
    bufs = []
    # O_EXCL | O_NOFOLLOW: never write through a planted symlink.
    fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0), 0o600)
    with open(fd, "wb", buffering=0) as raw:
        w = _HashingWriter(raw)
        w.write(MAGIC)
        if serializer == 0:
            # Protocol 5 frames the in-band stream (about 64 KiB per write).
            _MainAwarePickler(w, protocol=5, buffer_callback=bufs.append).dump(value)
        else:
            import dill

            dill.Pickler(w, protocol=5, byref=False, recurse=True).dump(value)
        pickle_len = w.n - len(MAGIC)
        views = [pb.raw() for pb in bufs]  # the objects' own memory: written without a copy
        lens = [m.nbytes for m in views]
        offs, end = _buffer_offsets(w.n, lens)
        for m, off in zip(views, offs):
            if off > w.n:
                w.write(bytes(off - w.n))
            w.write(m)
        if end > w.n:
            w.write(bytes(end - w.n))
        trailer = b"".join(struct.pack("<Q", n) for n in lens)
        trailer += struct.pack("<QII", pickle_len, len(lens), serializer) + END
        w.write(trailer)
        os.fsync(raw.fileno())
    return w.h.hexdigest(), w.n


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _touched_names(ip, ns):
    """Names that code run since the last save may have changed, or None when unknown."""
    mirror = getattr(ip, MIRROR_KEY, None)
    if mirror is None:
        return None
    touched = set(mirror["touched"])
    # A notebook function called since the save may change the globals it names.
    todo = [n for n in touched]
    while todo:
        v = ns.get(todo.pop())
        code = getattr(v, "__code__", None) if isinstance(v, types.FunctionType) else None
        if code is None or getattr(v, "__module__", None) != "__main__":
            continue
        names = set(code.co_names)
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                names.update(c.co_names)
        for n in names - touched:
            touched.add(n)
            todo.append(n)
    return touched


_CONTAINERS = (list, tuple, set, frozenset, dict)
_FANOUT = 10000


def _members(v):
    """Direct members of an exact builtin container (bounded)."""
    t = type(v)
    if t is dict:
        it = v.values()
    elif t in _CONTAINERS:
        it = v
    else:
        return ()
    out = []
    for x in it:
        if len(out) >= _FANOUT:
            break
        out.append(x)
    return out


def _touched_ids(values):
    # Objects a cell may have changed: the named ones, their direct members
    # (holder["a"][0] = 1 changes the array in holder) and, for numpy views,
    # the arrays they view (b = a[::2]; b[0] = 1 changes a).
    np = sys.modules.get("numpy")
    ids = set()
    for v in values:
        for x in [v] + list(_members(v)):
            ids.add(id(x))
            while np is not None and type(x) is np.ndarray and x.base is not None:
                x = x.base
                ids.add(id(x))
    return ids


def _reaches(value, touched_ids):
    if not touched_ids:
        return False
    if id(value) in touched_ids:
        return True
    return any(id(x) in touched_ids for x in _members(value))


# Code that can bind or replace variables without naming them (globals()[n] =,
# exec, magics such as %run or %store -r): after such a cell nothing is
# assumed unchanged.
_NAMESPACE_WRITERS = {"globals", "locals", "vars", "exec", "eval", "setattr", "delattr", "get_ipython", "__import__"}


# Magics that run no Python code of the cell (so cannot bind variables
# unseen); shell escapes (!cmd) are harmless too. Others (%run, %time stmt,
# %store -r, %%capture, ...) count as touching everything.
_SAFE_MAGICS = {"matplotlib", "config", "pip", "conda", "cd", "pwd", "who", "whos", "ls", "env", "load_ext",
                "autoreload", "aimport", "precision", "pdoc", "pinfo", "pinfo2", "psource", "history"}


def _harmless_ipython_calls(tree):
    import ast

    ok = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        recv = node.func.value
        if not (isinstance(recv, ast.Call) and isinstance(recv.func, ast.Name) and recv.func.id == "get_ipython"):
            continue
        attr = node.func.attr
        first = node.args[0] if node.args else None
        if attr in ("system", "getoutput") or (
            attr in ("run_line_magic", "run_cell_magic") and isinstance(first, ast.Constant) and first.value in _SAFE_MAGICS
        ):
            ok.add(id(recv.func))
    return ok


def _install_mirror(ip, ns):
    # Kept on the shell object, not in the user namespace; a restart drops it.
    if getattr(ip, MIRROR_KEY, None) is not None:
        return getattr(ip, MIRROR_KEY)
    mirror = {"touched": set(), "saved": {}}
    import ast

    def post_run_cell(result):
        try:
            src = result.info.raw_cell or ""
            tree = ast.parse(ip.transform_cell(src))
            harmless = _harmless_ipython_calls(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.Name):
                    mirror["touched"].add(node.id)
                    if node.id in _NAMESPACE_WRITERS and id(node) not in harmless:
                        mirror["touched"].add("*")
                elif isinstance(node, ast.Attribute) and node.attr == "__dict__":
                    mirror["touched"].add("*")
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    mirror["touched"].add(node.name)
                elif isinstance(node, ast.alias):
                    mirror["touched"].add((node.asname or node.name).split(".")[0])
                elif isinstance(node, (ast.Global, ast.Nonlocal)):
                    mirror["touched"].update(node.names)
        except Exception:
            # Code we cannot parse (exotic magics): assume it touched everything.
            mirror["touched"].add("*")

    ip.events.register("post_run_cell", post_run_cell)
    setattr(ip, MIRROR_KEY, mirror)
    return mirror


def _unchanged(name, value, mirror, touched, store):
    if touched is None or "*" in touched or mirror is None:
        return None
    prev = mirror["saved"].get(name)
    if prev is None or prev["id"] != id(value) or prev["type"] is not type(value) or name in touched:
        return None
    # Aliases: another touched name bound to the same object.
    if prev["digest"] is None or not os.path.exists(os.path.join(store, prev["digest"])):
        return None
    return prev


def save(args):
    ip, ns = _user_ns()
    store = args["blob_dir"]
    tmp_dir = os.path.join(store, "tmp")
    os.makedirs(tmp_dir, exist_ok=True)
    hidden = ip.user_ns_hidden
    only = set(args.get("names") or [])
    full = bool(args.get("full"))
    mirror = _install_mirror(ip, ns)
    touched = None if full else _touched_names(ip, ns)
    if touched is not None:
        touched_ids = _touched_ids([ns[n] for n in touched if n in ns])
    else:
        touched_ids = set()
    try:
        import dill  # noqa: F401

        have_dill = True
    except ImportError:
        have_dill = False
    saved, failed, written, reused = [], [], 0, 0
    new_saved = {}
    seen = set()
    first_name = {}  # id -> name: two names for one object stay one object
    for name in list(ns.keys()):
        value = ns.get(name)
        if _is_internal(name, value, hidden) or (only and name not in only):
            continue
        seen.add(name)
        tname = _qualname(type(value))
        other = first_name.get(id(value))
        if other is not None:
            if other in new_saved:
                e = new_saved[other]
                saved.append({"name": name, "type": tname, "serializer": e["serializer"], "digest": e["digest"],
                              "size": e["size"], "written": False, "alias_of": other})
            continue
        first_name[id(value)] = name
        prev = None if _reaches(value, touched_ids) else _unchanged(name, value, mirror, touched, store)
        if prev is not None:
            saved.append({"name": name, "type": tname, "serializer": prev["serializer"], "digest": prev["digest"],
                          "size": prev["size"], "written": False})
            new_saved[name] = prev
            reused += 1
            continue
        tmp = os.path.join(tmp_dir, "%d-%s.part" % (os.getpid(), name))
        err = None
        ser = None
        for attempt in (0, 1):
            if attempt == 1 and not have_dill:
                break
            try:
                if os.path.lexists(tmp):
                    os.unlink(tmp)  # the failed attempt's partial file
                digest, size = _write_blob(tmp, value, attempt)
                ser = attempt
                break
            except NeedsDill:
                err = "defined in the notebook (needs dill)"
            except RecursionError:
                err = "too deeply nested to pickle"
            except Exception as e:  # each serializer's own message is the diagnosis
                err = str(e) or type(e).__name__
        if ser is None:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            reason = err
            if not have_dill:
                reason += "; dill is not installed in the kernel's environment (pip install dill) - it saves lambdas, closures and notebook-defined classes"
            failed.append({"name": name, "type": tname, "reason": reason})
            continue
        final = os.path.join(store, digest)
        wrote = False
        if os.path.exists(final):
            os.unlink(tmp)  # same content already stored: nothing rewritten
        else:
            os.rename(tmp, final)
            wrote = True
            written += 1
        entry = {"id": id(value), "type": type(value), "digest": digest, "size": size, "serializer": SERIALIZERS[ser]}
        new_saved[name] = entry
        saved.append({"name": name, "type": tname, "serializer": SERIALIZERS[ser], "digest": digest, "size": size,
                      "written": wrote})
    for name in sorted(only - seen):
        failed.append({"name": name, "type": "", "reason": "not defined in the kernel"})
    if written:
        _fsync_dir(store)  # make the new names durable before the manifest names them
    mirror["saved"] = new_saved
    mirror["touched"] = set()
    return {"variables": saved, "failed": failed, "written": written, "reused": reused, "have_dill": have_dill}


def _alloc(n, aligned=False):
    # Pre-faulted anonymous memory: about twice as fast to fill as a bytearray,
    # which is zeroed page by page first. numpy/pandas adopt it as their buffer.
    # O_DIRECT needs page-aligned memory, which mmap gives; there the pages are
    # not pre-faulted: mmap() holds the GIL while populating (stalling the other
    # blob's reader and the imports), while the direct read faults them in
    # without it.
    if aligned and n:
        return mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if n >= (1 << 20) and hasattr(mmap, "MAP_POPULATE"):
        return mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE)
    return bytearray(n)


DIRECT_MIN = 8 << 20  # smaller blobs are read through the page cache


def _cached(fd, size):
    """Whether the blob looks resident in the page cache: then a buffered read
    copies from memory, while O_DIRECT would read the disk again."""
    nowait = getattr(os, "RWF_NOWAIT", None)
    if nowait is None or not hasattr(os, "preadv"):
        return True
    probe = bytearray(1)
    for off in (size // 2, size - 1):
        try:
            os.preadv(fd, [probe], off, nowait)
        except OSError:  # EAGAIN: not cached (EOPNOTSUPP: cannot tell, read the disk)
            return False
    return True


def _set_direct(fd, on):
    """Switch O_DIRECT on the open blob (the same inode: never reopened by name)."""
    import fcntl

    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, (flags | os.O_DIRECT) if on else (flags & ~os.O_DIRECT))
    except OSError:  # the file system has no direct I/O
        return False
    return on


def _pread_into(fd, view, off):
    """Read into view at file offset off (one read; may be short)."""
    if hasattr(os, "preadv"):
        return os.preadv(fd, [view], off)
    # Windows has no pread: seek + readinto on the same descriptor.
    with io.FileIO(fd, "rb", closefd=False) as raw:
        raw.seek(off)
        return raw.readinto(view) or 0


def _pread(fd, n, off):
    buf = bytearray(n)
    got = 0
    while got < n:
        k = _pread_into(fd, memoryview(buf)[got:], off + got)
        if not k:
            break
        got += k
    return bytes(buf[:got])


def _plan(f, digest, size):
    """Read the (not yet verified) trailer and cut the blob into runs
    [start, end), each read into its own memory. Returns (version, runs,
    buffer (run index, offset in run, length) list, pickle length, serializer).
    A lying trailer only makes a wrong plan: the digest check fails later."""
    if size < len(MAGIC) + 24:
        raise BlobVerificationError("blob %s is too short" % digest[:12])
    tail = _pread(f, 24, size - 24)
    if len(tail) != 24:
        raise BlobVerificationError("blob %s ended early" % digest[:12])
    pickle_len, nbuf, ser = struct.unpack("<QII", tail[:16])
    if tail[16:] == END:
        version = 2
    elif tail[16:] == END_V1:
        version = 1
    else:
        raise BlobVerificationError("blob %s has no valid trailer" % digest[:12])
    lens_size = 8 * nbuf
    pickle_end = len(MAGIC) + pickle_len
    if pickle_end + lens_size + 24 > size:
        raise BlobVerificationError("blob %s has an inconsistent layout" % digest[:12])
    lens_raw = _pread(f, lens_size, size - 24 - lens_size)
    if len(lens_raw) != lens_size:
        raise BlobVerificationError("blob %s ended early" % digest[:12])
    lens = [struct.unpack_from("<Q", lens_raw, 8 * i)[0] for i in range(nbuf)]
    trailer = size - 24 - lens_size
    if version == 1:
        offs, pos = [], pickle_end
        for n in lens:
            offs.append(pos)
            pos += n
    else:
        offs, pos = _buffer_offsets(pickle_end, lens)
    if pos != trailer:
        raise BlobVerificationError("blob %s has an inconsistent layout" % digest[:12])
    # Version 1: one run per part. Version 2: big buffers alone on their page
    # runs, everything else (magic, pickle, small buffers, trailer) grouped
    # between them; every run starts on a page boundary.
    runs, where = [], []
    if version == 1:
        runs.append((0, pickle_end))
        for off, n in zip(offs, lens):
            where.append((len(runs), 0, n))
            runs.append((off, off + n))
        runs.append((trailer, size))
    else:
        cur = 0
        for off, n in zip(offs, lens):
            if n >= BIG_BUF:
                if off > cur:
                    runs.append((cur, off))
                where.append((len(runs), 0, n))
                cur = _up(off + n, PAGE)
                runs.append((off, cur))
            else:
                where.append((None, off, n))
        runs.append((cur, size))
        for i, (ri, off, n) in enumerate(where):
            if ri is None:
                ri = next((j for j, (a, b) in enumerate(runs) if a <= off < b), None)
                if ri is None:
                    raise BlobVerificationError("blob %s has an inconsistent layout" % digest[:12])
                where[i] = (ri, off - runs[ri][0], n)
    return version, runs, where, pickle_len, ser


def _read_verified(path, digest, size):
    """Read a blob while hashing it; return (pickle bytes, [buffers], serializer)."""
    h = hashlib.sha256()
    # No symlinks, and O_NONBLOCK so a FIFO swapped in cannot hang the kernel;
    # then only a regular file is read.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise BlobVerificationError("blob %s cannot be opened: %s" % (digest[:12], e.strerror))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise BlobVerificationError("blob %s is not a regular file" % digest[:12])
        if st.st_size != size:
            raise BlobVerificationError("blob %s is %d bytes, the manifest says %d (truncated or replaced)" % (digest[:12], st.st_size, size))
        if getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        version, runs, where, pickle_len, ser = _plan(fd, digest, size)
        direct = False
        if version == 2 and size >= DIRECT_MIN and hasattr(os, "O_DIRECT") and not _cached(fd, size):
            direct = _set_direct(fd, True)
        if not direct and hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, size, os.POSIX_FADV_SEQUENTIAL)
        mems = [_alloc(_up(b - a, PAGE), direct) for a, b in runs]
        # Read run by run in large chunks; chunk i is hashed in a helper thread
        # (hashlib releases the GIL) while chunk i+1 is read.
        hasher = None
        try:
            for (a, b), mem in zip(runs, mems):
                mv = memoryview(mem)
                pos = a
                while pos < b:
                    end = min(b, pos + (DIRECT_CHUNK if direct else PIPE_CHUNK))
                    got = pos
                    while got < end:
                        want = end - got
                        if direct:
                            # Whole pages; at the end of the file the read is short.
                            want = min(_up(want, PAGE), len(mv) - (got - a))
                        try:
                            k = _pread_into(fd, mv[got - a : got - a + want], got)
                        except OSError as e:
                            if direct and e.errno == errno.EINVAL:
                                direct = _set_direct(fd, False)
                                continue
                            raise
                        if not k:
                            raise BlobVerificationError("blob %s ended early" % digest[:12])
                        got += k
                        if direct and got < end and got % PAGE:
                            direct = _set_direct(fd, False)  # a short read: finish through the page cache
                    if hasher is not None:
                        hasher.join()
                    hasher = threading.Thread(target=h.update, args=(mv[pos - a : end - a],))
                    hasher.start()
                    pos = end
        finally:
            if hasher is not None:
                hasher.join()
    finally:
        os.close(fd)
    if h.hexdigest() != digest:
        raise BlobVerificationError("blob %s does not match its digest (modified or swapped)" % digest[:12])
    head = memoryview(mems[0])
    if head[: len(MAGIC)] != (MAGIC if version == 2 else MAGIC_V1):
        raise BlobVerificationError("blob %s is not a checkpoint blob" % digest[:12])
    data = head[len(MAGIC) : len(MAGIC) + pickle_len]
    bufs = [memoryview(mems[ri])[off : off + n] for ri, off, n in where]
    return data, bufs, ser


def load(args):
    ip, ns = _user_ns()
    store = args["blob_dir"]
    entries = args["variables"]
    # Every blob is read and its digest checked against the signed manifest
    # (given by the sidecar, never read from disk here) before anything is
    # unpickled: one bad blob refuses the whole load.
    # Import the modules the values need (named by the signed manifest) in a
    # helper thread while the blobs are read: import is CPU, reading is I/O.
    mods = set()
    for e in entries:
        top = (e.get("type") or "").split(".")[0]
        if "." in (e.get("type") or "") and top not in ("__main__", "builtins") and top not in sys.modules:
            mods.add(top)
    import time

    t0 = time.perf_counter()
    pre = threading.Thread(target=_preimport, args=(sorted(mods),), daemon=True)
    pre.start()
    try:
        staged = _stage(store, entries)
        t1 = time.perf_counter()
    finally:
        pre.join()
    t2 = time.perf_counter()
    res = _load_rest(ip, ns, entries, staged)
    t3 = time.perf_counter()
    res["timings"] = {"read_verify": t1 - t0, "import_wait": t2 - t1, "unpickle": t3 - t2}
    return res


def _stage_one(store, e):
    digest = e["digest"]
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise BlobVerificationError("bad digest in manifest")
    data, bufs, ser = _read_verified(os.path.join(store, digest), digest, int(e["size"]))
    if SERIALIZERS.get(ser) != e["serializer"]:
        raise BlobVerificationError("blob %s serializer does not match the manifest" % digest[:12])
    return (e, data, bufs)


def _stage(store, entries):
    todo = [e for e in entries if not e.get("alias_of")]
    big = [e for e in todo if int(e["size"]) >= PARALLEL_MIN]
    if len(big) < 2:
        return [_stage_one(store, e) for e in todo]
    # SHA-256 is sequential per blob: large blobs are read and hashed side by
    # side (reads and hashing release the GIL). Every result is awaited before
    # any error is raised, so nothing is unpickled after a failure.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(len(big), os.cpu_count() or 2, 4)) as pool:
        futs = [pool.submit(_stage_one, store, e) for e in todo]
        errs = [f.exception() for f in futs]
    for err in errs:
        if err is not None:
            raise err
    return [f.result() for f in futs]


def _preimport(mods):
    import importlib

    for m in mods:
        try:
            importlib.import_module(m)
        except Exception:
            pass  # the unpickling step reports what is really missing


def _load_rest(ip, ns, entries, staged):
    loaded, failed = [], []
    mirror = _install_mirror(ip, ns)
    for e, data, bufs in staged:
        try:
            if e["serializer"] == "dill":
                import dill

                value = dill.loads(bytes(data))
            else:
                value = pickle.loads(data, buffers=bufs)
        except Exception as ex:
            failed.append({"name": e["name"], "type": e.get("type", ""), "reason": str(ex) or type(ex).__name__})
            continue
        ns[e["name"]] = value
        mirror["saved"][e["name"]] = {"id": id(value), "type": type(value), "digest": e["digest"], "size": int(e["size"]),
                                      "serializer": e["serializer"]}
        mirror["touched"].discard(e["name"])
        loaded.append(e["name"])
    for e in entries:
        src = e.get("alias_of")
        if src and src in loaded:
            ns[e["name"]] = ns[src]
            loaded.append(e["name"])
    return {"loaded": loaded, "failed": failed}
