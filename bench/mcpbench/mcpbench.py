"""M1 and M2 of BENCHMARKS.md, measured with the official Python MCP client.

usage: mcpbench.py BINARY [--n 200] [--warmup 10]
Prints one JSON row per benchmark (docs/benchmarks.json shape).
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time

from jupyter_client import KernelManager
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def p95(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def direct_round_trips(n, warmup):
    """K2's reference: execute 1+1 → status idle with jupyter_client."""
    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    samples = []
    try:
        for i in range(warmup + n):
            t0 = time.perf_counter()
            msg_id = kc.execute("1+1")
            while True:
                msg = kc.get_iopub_msg(timeout=60)
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
            kc.get_shell_msg(timeout=60)
            if i >= warmup:
                samples.append((time.perf_counter() - t0) * 1000)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return samples


def big_notebook(n):
    cells = []
    for i in range(n):
        if i % 10 == 0:
            cells.append({"cell_type": "markdown", "id": f"m{i}", "metadata": {}, "source": [f"## Section {i}\n", "Some prose about the data."]})
        else:
            cells.append({"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                          "source": [f"df_{i} = load({i})\n", f"df_{i}.describe()"]})
    return {"cells": cells, "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}


async def mcp_side(binary, ws, n, warmup):
    params = StdioServerParameters(command=binary, args=["mcp", "--standalone", "--workspace", ws], env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as s:
            await s.initialize()
            res = await s.call_tool("start_kernel", {"notebook_path": "m1.ipynb", "venv_path": os.path.dirname(os.path.dirname(sys.executable))})
            if res.is_error:
                raise SystemExit(f"start_kernel: {res.content}")
            m1, m1srv = [], []
            for i in range(warmup + n):
                t0 = time.perf_counter()
                res = await s.call_tool("run_cell", {"notebook_path": "m1.ipynb", "code_override": "1+1"})
                dt = (time.perf_counter() - t0) * 1000
                if res.is_error or res.structured_content["llm_summary"] != "2":
                    raise SystemExit(f"run_cell: {res}")
                if i >= warmup:
                    m1.append(dt)
                    m1srv.append(res.meta["mcp-jupyter/serverMs"])
            await s.call_tool("stop_kernel", {"notebook_path": "m1.ipynb"})
            m2, m2rt = [], []
            for i in range(3 + 20):
                t0 = time.perf_counter()
                a = await s.call_tool("get_notebook_outline", {"notebook_path": "big.ipynb"})
                b = await s.call_tool("search_notebook", {"notebook_path": "big.ipynb", "query": "df_4999", "in_outputs": False})
                dt = (time.perf_counter() - t0) * 1000
                if a.is_error or b.is_error or a.structured_content["cell_count"] != 5000 or not b.structured_content["hits"]:
                    raise SystemExit("M2 call failed")
                if i >= 3:
                    m2.append(a.meta["mcp-jupyter/serverMs"] + b.meta["mcp-jupyter/serverMs"])
                    m2rt.append(dt)
            return m1, m1srv, m2, m2rt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    args = ap.parse_args()
    if os.environ.get("BENCH_QUICK") == "1":
        args.n, args.warmup = 3, 1
    with tempfile.TemporaryDirectory() as ws:
        for name, nb in [("m1.ipynb", big_notebook(1)), ("big.ipynb", big_notebook(5000))]:
            with open(os.path.join(ws, name), "w") as f:
                json.dump(nb, f, indent=1)
        ref = direct_round_trips(args.n, args.warmup)
        m1, m1srv, m2, m2rt = asyncio.run(mcp_side(args.binary, ws, args.n, args.warmup))
    ours, refm = statistics.median(m1), statistics.median(ref)
    print(json.dumps({"id": "M1", "what": "MCP `run_cell` `1+1` round trip (Python mcp client → mcp-jupyter mcp, stdio)",
                      "ours": round(ours, 3), "reference": round(refm, 3), "ratio": round(ours / refm, 3), "unit": "ms", "goal": "<= 1.3",
                      "n": len(m1), "p95_ours": round(p95(m1), 3), "p95_reference": round(p95(ref), 3),
                      "note": "reference: jupyter_client execute 1+1 → status idle (K2's reference), same run; server-side run_cell time %.2f ms (the rest is stdio + the Python client)" % statistics.median(m1srv)}))
    print(json.dumps({"id": "M2", "what": "`get_notebook_outline` + `search_notebook` on a 5,000-cell notebook, server time",
                      "ours": round(statistics.median(m2), 3), "reference": None, "ratio": None, "unit": "ms", "goal": "<= 10", "n": len(m2),
                      "p95_ours": round(p95(m2), 3), "p95_reference": None,
                      "note": "tool handler time (_meta serverMs), reading + hashing the file each call (the parse is reused while the file is unchanged); MCP client round trip incl. stdio + JSON %.1f ms" % statistics.median(m2rt)}))


if __name__ == "__main__":
    main()
