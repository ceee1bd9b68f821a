"""Row A2 (../shared/BENCHMARKS.md): `run_cells` of a whole 60-cell notebook through the real binary
(`mcp-jupyter mcp --standalone`, Python `mcp` client over stdio) vs nbclient executing the same notebook on the
same ipykernel (.venv), same run, rounds interleaved. Each round starts from a fresh kernel on both sides (not
timed): ours = restart_kernel then the timed run_cells call; nbclient = a fresh kernel ready, then the timed
execute_cell loop. Prints one JSON row on stdout.

    .venv/bin/python bench/peers/a2.py BIN PEERS_PYTHON [ROUNDS] [a2|trivial]
"""
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import notebook  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.dirname(os.path.dirname(sys.executable))


def text_of(res):
    return "".join(getattr(c, "text", "") or "" for c in res.content)


async def main():
    binary, peers_py = os.path.abspath(sys.argv[1]), sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    kind = sys.argv[4] if len(sys.argv) > 4 else "a2"  # trivial: 60 `x = k` cells, the per-cell cost of the runner
    work = tempfile.mkdtemp(prefix="a2-")
    nbjson = json.dumps(notebook.notebook(kind), indent=1)
    src = os.path.join(work, "src.ipynb")
    with open(src, "w") as f:
        f.write(nbjson)
    kdir = os.path.join(work, "jp", "kernels", "benchvenv")
    os.makedirs(kdir)
    with open(os.path.join(kdir, "kernel.json"), "w") as f:
        json.dump({"argv": [os.path.join(VENV, "bin", "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                   "display_name": "bench .venv", "language": "python"}, f)
    env = dict(os.environ, JUPYTER_PATH=os.path.join(work, "jp"))
    ours, ref, note = [], [], ""
    params = StdioServerParameters(command=binary, args=["mcp", "--standalone"], cwd=work)
    async with stdio_client(params) as (r, w):
        async with ClientSession(r, w) as s:
            await s.initialize()
            nbp = os.path.join(work, "a2.ipynb")
            shutil.copy(src, nbp)
            res = await s.call_tool("start_kernel", {"notebook_path": nbp, "venv_path": VENV})
            if res.is_error:
                raise SystemExit(f"start_kernel: {text_of(res)}")
            for k in range(rounds):
                shutil.copy(src, nbp)
                res = await s.call_tool("restart_kernel", {"notebook_path": nbp})
                if res.is_error:
                    raise SystemExit(f"restart_kernel: {text_of(res)}")
                t0 = time.perf_counter()
                res = await s.call_tool("run_cells", {"notebook_path": nbp})
                ours.append((time.perf_counter() - t0) * 1000)
                txt = text_of(res)
                if res.is_error:
                    raise SystemExit(f"run_cells: {txt[:2000]}")
                if k == 0:
                    note_ours = f"ours answer {len(txt)} chars"
                    print(f"A2 ours answer (first 600 chars): {txt[:600]}", file=sys.stderr)
                p = subprocess.run([peers_py, os.path.join(HERE, "nbclient_run.py"), src], env=env,
                                   capture_output=True, text=True, timeout=900)
                if p.returncode != 0:
                    raise SystemExit(f"nbclient: {p.stderr[-2000:]}")
                o = json.loads(p.stdout.strip().splitlines()[-1])
                ref.append(o["ms"])
                print(f"A2 round {k}: ours {ours[-1]:.0f} ms, nbclient {o['ms']:.0f} ms ({o['outputs']} outputs)", file=sys.stderr)
            await s.call_tool("stop_kernel", {"notebook_path": nbp})
    shutil.rmtree(work, ignore_errors=True)
    mo, mr = statistics.median(ours), statistics.median(ref)
    load = os.getloadavg()[0]
    what = ("run_cells of a whole 60-cell notebook (imports, DataFrame, 10 figures, prints), MCP call -> last cell done"
            if kind == "a2" else "run_cells of 60 trivial cells (x = k): the runner's own per-notebook cost")
    print(json.dumps({"id": "A2" if kind == "a2" else "A2t", "what": what,
                      "ours": round(mo, 1), "reference": round(mr, 1), "ratio": round(mo / mr, 3), "unit": "ms",
                      "goal": "<= 0.9", "n": rounds, "p95_ours": round(max(ours), 1), "p95_reference": round(max(ref), 1),
                      "note": f"reference: nbclient execute_cell loop, kernel ready before the clock; same .venv ipykernel; fresh kernel per round; rounds interleaved; {note_ours}; load avg {load:.1f}"}))


if __name__ == "__main__":
    asyncio.run(main())
