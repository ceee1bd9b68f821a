"""Rows P1-P3 of ../shared/BENCHMARKS.md (issue #14): the same MCP work against ours (`mcp-jupyter mcp --standalone`,
stdio), jupyter-mcp-server 2.2.4 (stdio, on a Jupyter Server on loopback) and jupyter-mcp-live 0.6.2 (that server's
/mcp, code mode), in one run, every kernel the same .venv ipykernel (see a1.py).
  P1: run the cell `1+1` -> its answer (ms, n after warm-ups)
  P2: run a cell printing 100k lines -> its answer (ms) and the answer's model-facing size
  P3: interrupt `while True: pass` -> the next `1+1` answered (ms). jupyter-mcp-server has no interrupt tool: its
      way is execute_cell(timeout=1), which interrupts at the deadline; its figure is that call + the next 1+1,
      minus the 1 s deadline.
Sides are interleaved: each round measures ours, then each peer. Prints rows P1a.. as JSON lines (ratio ours / peer).

    .venv/bin/python bench/peers/p.py BIN PEERS_VENV [N1]
"""
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import a1  # noqa: E402  (start_jupyter, measure, live_wrap, TOKEN, VENV)

CELLS = ["1+1", "for i in range(100000):\n    print(i)", "while True:\n    pass"]


def nb_json():
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                       "cells": [{"cell_type": "code", "id": f"p{k}", "metadata": {}, "source": s, "execution_count": None, "outputs": []}
                                 for k, s in enumerate(CELLS)]})


class Side:
    """call(kind, k): kind run|interrupt|loop on cell k, returns (ms, text, bytes)."""

    def __init__(self, session, run, interrupt=None, loop=None):
        self.s, self.run_args, self.interrupt_args, self.loop_args = session, run, interrupt, loop

    async def call(self, name, args):
        t0 = time.perf_counter()
        res = await self.s.call_tool(name, args)
        ms = (time.perf_counter() - t0) * 1000
        text, images, nbytes, _ = a1.measure(res)
        return ms, text, nbytes, bool(res.is_error)


async def one(side, pid, k=0):
    """One measurement of row pid on side: (ms, model-facing bytes of the answer)."""
    if pid == "P1":
        ms, text, nbytes, err = await side.call(*side.run_args(0))
        if err or "2" not in text:
            raise RuntimeError(f"1+1: {text[:300]}")
        return ms, nbytes
    if pid == "P2":
        ms, text, nbytes, err = await side.call(*side.run_args(1))
        if err:
            raise RuntimeError(f"100k: {text[:300]}")
        return ms, nbytes
    if side.interrupt_args is None:  # jupyter-mcp-server: the deadline interrupts
        t0 = time.perf_counter()
        await side.call(*side.loop_args(2))
        _, text2, _, _ = await side.call(*side.run_args(0))
        ms = (time.perf_counter() - t0) * 1000 - 1000
    else:
        task = asyncio.create_task(side.call(*side.loop_args(2)))
        await asyncio.sleep(1.0)
        t0 = time.perf_counter()
        await side.call(*side.interrupt_args())
        await task
        _, text2, _, _ = await side.call(*side.run_args(0))
        ms = (time.perf_counter() - t0) * 1000
    if "2" not in text2:
        raise RuntimeError(f"after interrupt: {text2[:300]}")
    return ms, 0


async def bench(sides, n1):
    """Every side measured in turn within each round (interleaved), after 3 warm-ups of 1+1 each."""
    res = {name: {"P1": ([], 0), "P2": ([], 0), "P3": ([], 0)} for name in sides}
    for side in sides.values():
        for _ in range(3):
            await side.call(*side.run_args(0))
    for pid, n in (("P1", n1), ("P2", 3), ("P3", 3)):
        for _ in range(n):
            for name, side in sides.items():
                try:
                    ms, nbytes = await one(side, pid)
                except Exception as e:
                    print(f"P {name} {pid} failed: {e!r}", file=sys.stderr)
                    continue
                xs, size = res[name][pid]
                xs.append(ms)
                res[name][pid] = (xs, max(size, nbytes))
    return res


@contextlib.asynccontextmanager
async def ours(binary, work):
    nb = os.path.join(work, "p-ours.ipynb")
    params = StdioServerParameters(command=binary, args=["mcp", "--standalone"], cwd=work)
    async with stdio_client(params) as (r, w):
        async with ClientSession(r, w) as s:
            await s.initialize()
            res = await s.call_tool("start_kernel", {"notebook_path": nb, "venv_path": a1.VENV})
            if res.is_error:
                raise RuntimeError(a1.measure(res)[0])
            a = {"notebook_path": nb}
            side = Side(s, lambda k: ("run_cell", {**a, "cell_id": f"p{k}"}), lambda: ("interrupt_kernel", a),
                        lambda k: ("run_cell_async", {**a, "cell_id": f"p{k}"}))
            yield side
            await s.call_tool("stop_kernel", a)


@contextlib.asynccontextmanager
async def jms(peers, url, work):
    exe = os.path.join(peers, "bin", "jupyter-mcp-server")
    params = StdioServerParameters(command=exe, args=["--transport", "stdio", "--provider", "jupyter", "--jupyter-url", url,
                                                      "--jupyter-token", a1.TOKEN], cwd=work, env=dict(os.environ))
    async with stdio_client(params) as (r, w):
        async with ClientSession(r, w) as s:
            await s.initialize()
            res = await s.call_tool("use_notebook", {"notebook_name": "p", "notebook_path": "p-jms.ipynb", "mode": "connect"})
            if res.is_error:
                raise RuntimeError(a1.measure(res)[0][:300])
            side = Side(s, lambda k: ("execute_cell", {"cell_index": k}), None,
                        lambda k: ("execute_cell", {"cell_index": k, "timeout": 1}))
            yield side


@contextlib.asynccontextmanager
async def live(url):
    hc = create_mcp_http_client(headers={"Authorization": f"token {a1.TOKEN}"})
    async with hc:
        async with streamable_http_client(url + "/mcp", http_client=hc, max_sse_event_size=None) as streams:
            async with ClientSession(streams[0], streams[1]) as s:
                await s.initialize()
                nb = "p-live.ipynb"
                res = await s.call_tool(*a1.live_wrap("setup_notebook", {"notebook_path": nb}))
                if res.is_error:
                    raise RuntimeError(a1.measure(res)[0][:300])
                side = Side(s, lambda k: a1.live_wrap("execute_cell", {"notebook_path": nb, "position_index": k}),
                            lambda: a1.live_wrap("interrupt_notebook_kernel", {"notebook_path": nb}),
                            lambda k: a1.live_wrap("execute_cell", {"notebook_path": nb, "position_index": k}))
                yield side


def p95(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


async def main():
    binary, peers = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    n1 = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    work = tempfile.mkdtemp(prefix="p-")
    for k in ("ours", "jms", "live"):
        with open(os.path.join(work, f"p-{k}.ipynb"), "w") as f:
            f.write(nb_json())
    proc, url, _ = a1.start_jupyter(peers, work)
    try:
        async with contextlib.AsyncExitStack() as stack:
            sides = {"ours": await stack.enter_async_context(ours(binary, work))}
            for name, cm in (("jupyter-mcp-server 2.2.4", lambda: jms(peers, url, work)), ("jupyter-mcp-live 0.6.2", lambda: live(url))):
                try:
                    sides[name] = await stack.enter_async_context(cm())
                except Exception as e:
                    print(f"P {name} did not start: {e!r}", file=sys.stderr)
            res = await bench(sides, n1)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)
    what = {"P1": "MCP run of the cell `1+1` -> answer", "P2": "MCP run of a 100k-line cell -> answer",
            "P3": "interrupt `while True: pass` -> next `1+1` answered"}
    goal = {"P1": "<= 0.1", "P2": "<= 0.9, no response over 32 KB", "P3": "<= 0.1"}
    for pid in ("P1", "P2", "P3"):
        o, osize = res["ours"][pid]
        for suffix, name in (("a", "jupyter-mcp-server 2.2.4"), ("b", "jupyter-mcp-live 0.6.2")):
            if name not in res or not res[name][pid][0]:
                print(json.dumps({"id": pid + suffix, "what": f"{what[pid]} vs {name}", "ours": round(statistics.median(o), 1),
                                  "reference": None, "ratio": None, "unit": "ms", "goal": goal[pid], "n": len(o), "note": f"{name} did not run (see log)"}))
                continue
            p, psize = res[name][pid]
            mo, mp = statistics.median(o), statistics.median(p)
            note = f"reference: {name}"
            if pid == "P2":
                note += f"; largest answer ours {osize:,} B, {name} {psize:,} B"
            if pid == "P3" and suffix == "a":
                note += "; jupyter-mcp-server has no interrupt tool: execute_cell(timeout=1) interrupts at its deadline, figure = that call + next 1+1 - 1 s"
            print(json.dumps({"id": pid + suffix, "what": f"{what[pid]} vs {name}", "ours": round(mo, 1), "reference": round(mp, 1),
                              "ratio": round(mo / mp, 3), "unit": "ms", "goal": goal[pid], "n": len(o),
                              "p95_ours": round(p95(o), 1), "p95_reference": round(p95(p), 1), "note": note + f"; load avg {os.getloadavg()[0]:.1f}"}))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
