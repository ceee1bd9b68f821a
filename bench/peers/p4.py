"""Row P4 of ../shared/BENCHMARKS.md (issue #14): the outline of a 5,000-cell notebook (M2's, bench/mcpbench) through
each server's outline tool, client round trip (ms) and the answer's model-facing size; sides interleaved.
Ours `get_notebook_outline` (first page), jupyter-mcp-server `read_notebook(brief)` (its default page),
jupyter-mcp-live `view_notebook` (the whole notebook: it has no outline or paging).

    .venv/bin/python bench/peers/p4.py BIN PEERS_VENV [N]
"""
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "mcpbench"))
import a1  # noqa: E402
import p  # noqa: E402
from mcpbench import big_notebook  # noqa: E402


async def main():
    binary, peers = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    work = tempfile.mkdtemp(prefix="p4-")
    nb = big_notebook(5000)
    nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for k in ("ours", "jms", "live"):
        with open(os.path.join(work, f"p-{k}.ipynb"), "w") as f:
            json.dump(nb, f)
    calls = {"ours": lambda: ("get_notebook_outline", {"notebook_path": os.path.join(work, "p-ours.ipynb")}),
             "jupyter-mcp-server 2.2.4": lambda: ("read_notebook", {"notebook_name": "p", "response_format": "brief"}),
             "jupyter-mcp-live 0.6.2": lambda: a1.live_wrap("view_notebook", {"notebook_path": "p-live.ipynb"})}
    res = {k: ([], 0) for k in calls}
    proc, url, _ = a1.start_jupyter(peers, work)
    try:
        async with contextlib.AsyncExitStack() as stack:
            sides = {"ours": await stack.enter_async_context(p.ours(binary, work))}
            for name, cm in (("jupyter-mcp-server 2.2.4", lambda: p.jms(peers, url, work)), ("jupyter-mcp-live 0.6.2", lambda: p.live(url))):
                try:
                    sides[name] = await stack.enter_async_context(cm())
                except Exception as e:
                    print(f"P4 {name} did not start: {e!r}", file=sys.stderr)
            for r in range(n + 1):  # round 0 is a warm-up
                for name, side in sides.items():
                    try:
                        ms, text, nbytes, err = await side.call(*calls[name]())
                    except Exception as e:
                        ms, text, nbytes, err = 0, f"{type(e).__name__}: {e}", 0, True
                    if err:
                        print(f"P4 {name}: {text[:300]}", file=sys.stderr)
                        continue
                    if r:
                        xs, size = res[name]
                        xs.append(ms)
                        res[name] = (xs, max(size, nbytes))
                    print(f"P4 round {r} {name}: {ms:.0f} ms, {nbytes:,} B", file=sys.stderr)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)
    o, osize = res["ours"]
    for suffix, name in (("a", "jupyter-mcp-server 2.2.4"), ("b", "jupyter-mcp-live 0.6.2")):
        xs, size = res[name]
        if not xs:
            continue
        mo, mr = statistics.median(o), statistics.median(xs)
        print(json.dumps({"id": "P4" + suffix, "what": f"outline of a 5,000-cell notebook, client round trip vs {name}",
                          "ours": round(mo, 1), "reference": round(mr, 1), "ratio": round(mo / mr, 3), "unit": "ms",
                          "goal": "<= 0.1, no response over 32 KB", "n": len(o), "p95_ours": round(max(o), 1), "p95_reference": round(max(xs), 1),
                          "note": f"answers: ours {osize:,} B, {name} {size:,} B; sides interleaved; load avg {os.getloadavg()[0]:.1f}"}))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
