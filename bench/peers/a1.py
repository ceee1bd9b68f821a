"""Row A1 (../shared/BENCHMARKS.md): tokens per task. A fixed 12-step scripted session on one 60-cell notebook
(bench/peers/notebook.py, kind a1) driven against ours (`mcp-jupyter mcp --standalone`, stdio) and the peers that
run here: jupyter-mcp-server 2.2.4 (stdio, connected to a Jupyter Server on loopback) and jupyter-mcp-live 0.6.2
(its /mcp endpoint inside the same Jupyter Server; code mode: every tool is reached through `execute`). Each server
gets its own copy of the notebook and its own kernel; all kernels are the same .venv ipykernel.

Per step it counts the model-facing bytes of the answer (text content + base64 image data; structuredContent
is counted apart, most clients do not hand it to the model) and checks with an oracle that the answer carries
the fact the step needs. A peer without a tool for a step uses the closest tool an agent would reach for (named
in the table). Prints the A1 row (JSON) on stdout, the per-step table (markdown) on stderr and into OUT_MD.

    .venv/bin/python bench/peers/a1.py BIN PEERS_VENV [OUT_MD]
"""
import asyncio
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import notebook  # noqa: E402

VENV = os.path.dirname(os.path.dirname(sys.executable))
TOKEN = "a1bench"
OLD = "raise ValueError('threshold too low')"
NEW = "print('fixed', 6 * 4 + 1)"
NEW_SRC = "x = 1\n" + NEW
PNG = b"\x89PNG\r\n\x1a\n"

STEPS = [  # (name, oracle description)
    ("outline", "the notebook's title heading 'Sales analysis'"),
    ("search 'revenue by region'", "the text and cell 41"),
    ("read cell 2", "its source (sales['revenue'])"),
    ("read cell 41", "its source ('revenue by region')"),
    ("run cell 40 (100k lines)", "the last line 99999"),
    ("run cell 41 (figure)", "an image (or its image/png output named)"),
    ("run cell 42 (raises)", "the exception name ValueError"),
    ("edit one line of cell 42", "the edited line"),
    ("re-run cell 42", "its output 'fixed 25'"),
    ("inspect DataFrame big", "its shape 300 x 3"),
    ("read the figure (cell 41)", "a PNG image"),
    ("read cell 40's output", "the last line 99999"),
]


def measure(res):
    text, images, nbytes = [], [], 0
    for c in res.content:
        t = getattr(c, "type", "")
        if t == "text":
            text.append(c.text)
            nbytes += len(c.text.encode())
        elif t == "image":
            images.append(c.data)
            nbytes += len(c.data)
        elif t == "resource":
            r = c.resource
            s = getattr(r, "text", None) or getattr(r, "blob", "") or ""
            text.append(s)
            nbytes += len(s.encode())
        else:
            s = json.dumps(c.model_dump(mode="json"))
            text.append(s)
            nbytes += len(s)
    sc = getattr(res, "structured_content", None)
    return "\n".join(text), images, nbytes, len(json.dumps(sc)) if sc else 0


def has_png(images, text):
    for d in images:
        try:
            if base64.b64decode(d)[:8] == PNG:
                return True
        except Exception:
            pass
    return False


def oracle(i, text, images):
    t = text
    return [
        lambda: "Sales analysis" in t,
        lambda: "revenue by region" in t and re.search(r"\b41\b|c41", t) is not None,
        lambda: "sales['revenue']" in t or 'sales[\\"revenue\\"]' in t or "sales[\\'revenue\\']" in t,
        lambda: "revenue by region" in t,
        lambda: "99999" in t,
        lambda: has_png(images, t) or "image/png" in t,
        lambda: "ValueError" in t,
        lambda: "print('fixed'" in t or "print(\\'fixed\\'" in t,
        lambda: "fixed 25" in t,
        lambda: re.search(r"300\D", t) is not None and ("3 columns" in t or re.search(r"\b300\D{1,12}\b3\b", t) is not None),
        lambda: has_png(images, t),
        lambda: "99999" in t,
    ][i]()


def ours_steps(nb):
    a = {"notebook_path": nb}
    return [
        ("get_notebook_outline", a),
        ("search_notebook", {**a, "query": "revenue by region"}),
        ("read_cell_smart", {**a, "cell_id": "c02"}),
        ("read_cell_smart", {**a, "cell_id": "c41"}),
        ("run_cell", {**a, "cell_id": "c40"}),
        ("run_cell", {**a, "cell_id": "c41"}),
        ("run_cell", {**a, "cell_id": "c42"}),
        ("edit_cell_source", {**a, "cell_id": "c42", "old_string": OLD, "new_string": NEW}),
        ("run_cell", {**a, "cell_id": "c42"}),
        ("inspect_variable", {**a, "var_name": "big"}),
        ("read_cell_smart", {**a, "cell_id": "c41"}),
        ("read_cell_smart", {**a, "cell_id": "c40"}),
    ]


def jms_steps():
    n = {"notebook_name": "a1"}
    return [
        ("read_notebook", {**n, "response_format": "brief"}),
        ("read_notebook", {**n, "response_format": "detailed", "limit": 0}),  # no search tool: read all sources
        ("read_cell", {"cell_index": 2}),
        ("read_cell", {"cell_index": 41}),
        ("execute_cell", {"cell_index": 40}),
        ("execute_cell", {"cell_index": 41}),
        ("execute_cell", {"cell_index": 42}),
        ("edit_cell_source", {"cell_index": 42, "old_string": OLD, "new_string": NEW}),
        ("execute_cell", {"cell_index": 42}),
        ("execute_code", {"code": "big"}),  # no inspect tool: evaluate it
        ("read_cell", {"cell_index": 41, "include_outputs": True}),
        ("read_cell", {"cell_index": 40, "include_outputs": True}),
    ]


def live_steps(nb):
    p = {"notebook_path": nb}
    return [
        ("view_notebook", p),
        ("view_notebook", p),  # no search tool
        ("read_cell", {**p, "position_index": 2}),
        ("read_cell", {**p, "position_index": 41}),
        ("execute_cell", {**p, "position_index": 40}),
        ("execute_cell", {**p, "position_index": 41}),
        ("execute_cell", {**p, "position_index": 42}),
        ("edit_code_cell", {**p, "position_index": 42, "source": NEW_SRC, "execute": False}),  # whole source
        ("execute_cell", {**p, "position_index": 42}),
        ("add_code_cell", {**p, "source": "big", "execute": True}),  # no inspect tool: a cell that shows it
        ("view_cell_image", {**p, "position_index": 41}),
        ("read_cell", {**p, "position_index": 40}),
    ]


async def drive(session, steps, wrap=None):
    rows, texts = [], []
    for i, (tool, args) in enumerate(steps):
        name, cargs = tool, args
        if isinstance(args.get("task_id"), int):  # "the task of step N": from that step's answer
            m = re.search(r'"task_id":\s*"([^"]+)"', texts[args["task_id"] - 1])
            cargs = {**args, "task_id": m.group(1) if m else "missing"}
        if wrap:
            name, cargs = wrap(tool, args)
        t0 = time.perf_counter()
        try:
            res = await session.call_tool(name, cargs)
            text, images, nbytes, sc = measure(res)
            err = bool(res.is_error)
        except Exception as e:  # a transport failure is a step with no answer
            text, images, nbytes, sc, err = f"{type(e).__name__}: {e}", [], 0, 0, True
        ms = (time.perf_counter() - t0) * 1000
        texts.append(text)
        ok = oracle(i, text, images)
        if os.environ.get("A1_DUMP"):
            print(f"A1 DUMP step {i + 1} {tool}: {text[:4000]}", file=sys.stderr)
        rows.append({"step": i + 1, "tool": tool, "bytes": nbytes, "structured": sc, "images": len(images),
                     "fact": ok, "error": err, "ms": round(ms), "head": text[:160].replace("\n", " ")})
        print(f"A1 step {i + 1} {tool}: {nbytes} B, fact={ok}, err={err}, {ms:.0f} ms :: {text[:120]!r}", file=sys.stderr)
    return rows


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def live_wrap(tool, args):
    return "execute", {"code": f"return await call_tool({tool!r}, {args!r})"}


def ours_stream_steps(nb):
    """Ours, re-reading outputs headless the way the run_cell answer points to (its task's stream)."""
    st = ours_steps(nb)
    a = {"notebook_path": nb}
    st[10] = ("get_execution_stream", {**a, "task_id": 6})
    st[11] = ("get_execution_stream", {**a, "task_id": 5})
    return st


async def run_ours(binary, work, name="ours", steps=ours_steps):
    nb = os.path.join(work, f"a1-{name}.ipynb")
    params = StdioServerParameters(command=binary, args=["mcp", "--standalone"], cwd=work)
    async with stdio_client(params) as (r, w):
        async with ClientSession(r, w) as s:
            await s.initialize()
            res = await s.call_tool("start_kernel", {"notebook_path": nb, "venv_path": VENV})
            if res.is_error:
                raise RuntimeError(f"start_kernel: {measure(res)[0]}")
            rows = await drive(s, steps(nb))
            await s.call_tool("stop_kernel", {"notebook_path": nb})
            return rows


async def run_jms(peers, url, work):
    exe = os.path.join(peers, "bin", "jupyter-mcp-server")
    params = StdioServerParameters(command=exe, args=["--transport", "stdio", "--provider", "jupyter", "--jupyter-url", url,
                                                      "--jupyter-token", TOKEN], cwd=work, env=dict(os.environ))
    async with stdio_client(params) as (r, w):
        async with ClientSession(r, w) as s:
            await s.initialize()
            res = await s.call_tool("use_notebook", {"notebook_name": "a1", "notebook_path": "a1-jms.ipynb", "mode": "connect"})
            if res.is_error:
                raise RuntimeError(f"use_notebook: {measure(res)[0][:500]}")
            print(f"A1 jms use_notebook: {measure(res)[0][:300]!r}", file=sys.stderr)
            return await drive(s, jms_steps())


async def run_live(url, work):
    hc = create_mcp_http_client(headers={"Authorization": f"token {TOKEN}"})
    async with hc:
        async with streamable_http_client(url + "/mcp", http_client=hc, max_sse_event_size=None) as streams:
            async with ClientSession(streams[0], streams[1]) as s:
                await s.initialize()
                res = await s.call_tool(*live_wrap("setup_notebook", {"notebook_path": "a1-live.ipynb"}))
                print(f"A1 live setup_notebook: {measure(res)[0][:300]!r}", file=sys.stderr)
                if res.is_error:
                    raise RuntimeError(f"setup_notebook: {measure(res)[0][:500]}")
                return await drive(s, live_steps("a1-live.ipynb"), wrap=live_wrap)


def start_jupyter(peers, work):
    jp = os.path.join(work, "jp")
    kdir = os.path.join(jp, "kernels", "python3")  # shadows the server venv's own python3: the same .venv kernel
    os.makedirs(kdir)
    with open(os.path.join(kdir, "kernel.json"), "w") as f:
        json.dump({"argv": [os.path.join(VENV, "bin", "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                   "display_name": "Python 3 (bench .venv)", "language": "python"}, f)
    tools = ["list_notebook_sessions", "list_notebook_kernels", "execute_cell", "setup_notebook", "switch_notebook_kernel",
             "shutdown_notebook", "interrupt_notebook_kernel", "restart_notebook_kernel", "add_code_cell", "edit_code_cell",
             "add_markdown_cell", "edit_markdown_cell", "delete_cell", "view_notebook", "read_cell", "view_cell_image"]
    cfg = os.path.join(work, "jupyter_config.py")
    with open(cfg, "w") as f:
        f.write("c = get_config()\nc.MCPExtensionApp.mcp_tools = %r\n" % [f"jupyter_mcp_live.execution_tools:{t}" for t in tools])
    port = free_port()
    log = open(os.path.join(work, "jupyter.log"), "w")
    env = dict(os.environ, JUPYTER_PATH=jp)
    proc = subprocess.Popen(["nice", "-n", "5", os.path.join(peers, "bin", "jupyter-lab"), "--allow-root", "--no-browser",
                             f"--port={port}", "--ip=127.0.0.1", f"--ServerApp.token={TOKEN}", f"--ServerApp.root_dir={work}",
                             f"--config={cfg}"], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    import urllib.request
    t0 = time.time()
    while time.time() - t0 < 180:
        try:
            urllib.request.urlopen(urllib.request.Request(url + "/api/status", headers={"Authorization": f"token {TOKEN}"}), timeout=2)
            return proc, url, time.time() - t0
        except Exception:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    raise RuntimeError(f"jupyter lab did not start; see {work}/jupyter.log")


def table(results):
    names = list(results)
    out = ["| step | " + " | ".join(f"{n} bytes (tool) | fact" for n in names) + " |",
           "|---|" + "---|---|" * len(names)]
    for i, (step, fact) in enumerate(STEPS):
        cells = []
        for n in names:
            r = results[n][i] if results[n] and i < len(results[n]) else None
            if r is None:
                cells += ["—", "—"]
            else:
                img = f", {r['images']} img" if r["images"] else ""
                cells += [f"{r['bytes']:,} (`{r['tool']}`{img})", ("yes" if r["fact"] else "**no**") + (" (error)" if r["error"] else "")]
        out.append(f"| {i + 1}. {step} — needs {fact} | " + " | ".join(cells) + " |")
    tot = []
    for n in names:
        rs = results[n] or []
        tot += [f"**{sum(r['bytes'] for r in rs):,}**", f"{sum(r['fact'] for r in rs)}/{len(STEPS)}"]
    out.append("| total | " + " | ".join(tot) + " |")
    return "\n".join(out)


async def main():
    binary = os.path.abspath(sys.argv[1])
    peers = os.path.abspath(sys.argv[2])
    out_md = sys.argv[3] if len(sys.argv) > 3 else None
    work = tempfile.mkdtemp(prefix="a1-")
    nbjson = json.dumps(notebook.notebook("a1"), indent=1)
    for k in ("ours", "ours-stream", "jms", "live"):
        with open(os.path.join(work, f"a1-{k}.ipynb"), "w") as f:
            f.write(nbjson)
    results, notes = {}, []
    results["ours"] = await run_ours(binary, work)
    results["ours (11-12 via get_execution_stream)"] = await run_ours(binary, work, "ours-stream", ours_stream_steps)
    proc = None
    try:
        if os.environ.get("A1_ONLY") == "ours":
            raise RuntimeError("A1_ONLY=ours")
        proc, url, up = start_jupyter(peers, work)
        notes.append(f"Jupyter Server up in {up:.1f} s")
        for name, fn in (("jupyter-mcp-server 2.2.4", lambda: run_jms(peers, url, work)),
                         ("jupyter-mcp-live 0.6.2", lambda: run_live(url, work))):
            try:
                results[name] = await asyncio.wait_for(fn(), 900)
            except Exception as e:
                notes.append(f"{name} skipped: {type(e).__name__}: {str(e)[:300]}")
                print(f"A1 {name} failed: {e!r}", file=sys.stderr)
                results[name] = None
    except Exception as e:
        notes.append(f"peers skipped: {e}")
    finally:
        if proc:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(20)
            except Exception:
                os.killpg(proc.pid, 9)
    md = table(results)
    print(md, file=sys.stderr)
    if out_md:
        with open(out_md, "w") as f:
            f.write(md + "\n\n" + "; ".join(notes) + "\n")
    ours = sum(r["bytes"] for r in results["ours"])
    facts = sum(r["fact"] for r in results["ours"])
    peer_tot = {n: sum(r["bytes"] for r in rs) for n, rs in results.items() if not n.startswith("ours") and rs}
    ref_name = min(peer_tot, key=peer_tot.get) if peer_tot else None
    ref = peer_tot.get(ref_name)
    pf = {n: sum(r["fact"] for r in rs) for n, rs in results.items() if not n.startswith("ours") and rs}
    alt = results["ours (11-12 via get_execution_stream)"]
    alt_note = f"ours re-reading steps 11-12 through get_execution_stream: {sum(r['bytes'] for r in alt):,} B, facts {sum(r['fact'] for r in alt)}/12"
    print(json.dumps({"id": "A1", "what": "model-facing bytes over a fixed 12-step session on a 60-cell notebook (text + base64 images)",
                      "ours": ours, "reference": ref, "ratio": round(ours / ref, 3) if ref else None, "unit": "bytes",
                      "goal": "<= 0.5, every fact present", "n": 1, "p95_ours": None, "p95_reference": None,
                      "note": f"facts ours {facts}/12; {alt_note}; peers: " + ", ".join(f"{n} {peer_tot[n]:,} B, facts {pf[n]}/12" for n in peer_tot)
                              + (f"; reference = smallest peer ({ref_name})" if ref_name else "") + ("; " + "; ".join(notes) if notes else "")}))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
