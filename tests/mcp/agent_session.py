"""A full agent session against the real mcp-jupyter binary, driven by the
official Python MCP SDK over stdio, against real ipykernel kernels.

usage: agent_session.py BINARY WORKSPACE NOTEBOOK VENV [ERA]
ERA: "handshake" (default: initialize + notifications/initialized, the
2025-11-25 lifecycle) or "modern" (server/discover, the stateless 2026-07-28
revision). The server runs as `mcp-jupyter mcp --standalone` (headless).
Exits non-zero with a message on the first failed expectation.
"""

import asyncio
import base64
import json
import os
import struct
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


async def call(session, name, args, expect_error=False, progress=None):
    res = await session.call_tool(name, args, progress_callback=progress)
    text = "".join(getattr(c, "text", "") for c in res.content)
    if expect_error:
        check(res.is_error, f"{name}({args}) should fail, got {text[:300]}")
        return text
    check(not res.is_error, f"{name}({args}) failed: {text}")
    check(res.structured_content is not None, f"{name}: no structuredContent")
    return res.structured_content


async def stream_until_done(session, nb, task_id, timeout=60):
    since, ops, deadline = 0, [], time.time() + timeout
    while time.time() < deadline:
        out = await call(session, "get_execution_stream", {"notebook_path": nb, "task_id": task_id, "since": since, "wait_ms": 2000})
        for op in out.get("ops", []):
            want = ops[-1]["seq"] + 1 if ops else since
            check(op["seq"] == want, f"seq gap: {op} after {ops[-1:]} (since {since})")
            ops.append(op)
        since = out["next"]
        if out["done"]:
            return out, ops
    raise AssertionError(f"task {task_id} not done after {timeout}s")


async def main():
    binary, ws, nb, venv = sys.argv[1:5]
    era = sys.argv[5] if len(sys.argv) > 5 else "handshake"
    original = open(os.path.join(ws, nb), "rb").read()
    args = ["mcp", "--standalone", "--workspace", ws]
    env = dict(os.environ)
    params = StdioServerParameters(command=binary, args=args, env=env, cwd=ws)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            if era == "modern":
                disc = await session.discover()
                check(disc.supported_versions, f"discover: {disc}")
            else:
                init = await session.initialize()
                check(init.server_info.name == "mcp-jupyter", f"server name {init.server_info.name}")
            print(f"{era}: negotiated protocol {session.protocol_version}", flush=True)

            tools = {t.name: t for t in (await session.list_tools()).tools}
            for name in ["start_kernel", "stop_kernel", "restart_kernel", "interrupt_kernel", "run_cell_async", "run_cell",
                         "get_execution_stream", "submit_input", "get_kernel_info", "list_kernels", "list_environments",
                         "get_notebook_outline", "read_cell_smart", "search_notebook", "propose_edit", "append_cell",
                         "insert_cell", "delete_cell", "move_cell"]:
                check(name in tools, f"tool {name} missing")
                t = tools[name]
                runs_code = name in ("run_cell", "run_cell_async")
                check(t.annotations is not None and t.annotations.open_world_hint is runs_code,
                      f"{name}: openWorldHint must be {runs_code} (true exactly for the tools that run arbitrary code)")
                if runs_code:
                    check(t.annotations.destructive_hint is True, f"{name}: runs arbitrary code, so destructiveHint must be true")
                check(t.input_schema is not None, f"{name}: no inputSchema")
                check(t.description and t.title, f"{name}: title/description missing")
            check(tools["get_notebook_outline"].annotations.read_only_hint, "outline must be read-only")
            check(tools["delete_cell"].annotations.destructive_hint, "delete_cell must be destructive")
            check(tools["insert_cell"].annotations.destructive_hint is False, "insert_cell must not be destructive")

            kernel = await call(session, "start_kernel", {"notebook_path": nb, "venv_path": venv})
            check(kernel["language"] == "python" and kernel["pid"] > 0, f"kernel: {kernel}")

            outline = await call(session, "get_notebook_outline", {"notebook_path": nb})
            check(outline["cell_count"] == 2, f"outline: {outline}")
            first_id = outline["cells"][0]["id"]

            ins = await call(session, "insert_cell", {"notebook_path": nb, "index": 1,
                                                      "content": "import time\nfor i in range(3):\n    print('tick', i, flush=True)\n    time.sleep(0.3)\n'done'"})
            new_id = ins["cell_id"]
            check(ins["index"] == 1 and ins["applied_via"] == "disk", f"insert: {ins}")
            check([c["id"] for c in ins["cells"]][1] == new_id, "inserted cell not at index 1")

            # A stale index is refused with the fresh outline.
            stale = await call(session, "run_cell_async", {"notebook_path": nb, "index": 2, "cell_id": new_id}, expect_error=True)
            check("stale" in stale.lower() and first_id in stale, f"stale view error: {stale}")

            task = await call(session, "run_cell_async", {"notebook_path": nb, "cell_id": new_id})
            final, ops = await stream_until_done(session, nb, task["task_id"])
            text = "".join(op.get("text", "") or json.dumps(op.get("output", {})) for op in ops)
            for i in range(3):
                check(f"tick {i}" in text, f"stream missing tick {i}: {text}")
            check(final["status"] == "ok" and "'done'" in final["llm_summary"], f"final: {final}")
            # The run is stamped into the cell's metadata (sync record), through the edit path.
            deadline = time.time() + 20
            while time.time() < deadline and b'"mcp-jupyter"' not in open(os.path.join(ws, nb), "rb").read():
                await asyncio.sleep(0.1)
            check(b'"mcp-jupyter"' in open(os.path.join(ws, nb), "rb").read(), "run not stamped into the cell metadata")

            # Interrupt a long cell.
            long_task = await call(session, "run_cell_async", {"notebook_path": nb, "code_override": "import time\nprint('sleeping', flush=True)\ntime.sleep(120)"})
            deadline = time.time() + 30
            while time.time() < deadline:
                st = await call(session, "get_execution_stream", {"notebook_path": nb, "task_id": long_task["task_id"], "wait_ms": 1000})
                if "sleeping" in st["llm_summary"]:
                    break
            await call(session, "interrupt_kernel", {"notebook_path": nb})
            final, _ = await stream_until_done(session, nb, long_task["task_id"], timeout=30)
            check(final["status"] == "error" and "KeyboardInterrupt" in final["error"], f"interrupt: {final}")

            # Abandoning a blocking run_cell (here: the client's read timeout) sends
            # notifications/cancelled, which interrupts the kernel: the next run is not stuck.
            try:
                await session.call_tool("run_cell", {"notebook_path": nb, "code_override": "import time\ntime.sleep(300)", "timeout_s": 300},
                                        read_timeout_seconds=3)
                raise AssertionError("run_cell of sleep(300) returned within 3 s")
            except AssertionError:
                raise
            except Exception:
                pass
            t0 = time.time()
            after = await call(session, "run_cell", {"notebook_path": nb, "code_override": "'after cancel'", "timeout_s": 60})
            check(after["status"] == "ok" and time.time() - t0 < 30, f"kernel still busy after cancellation: {after}")

            # A PNG image (matplotlib) with progress notifications.
            progress = []

            async def on_progress(p, total, message):
                progress.append((p, message))

            img = await call(session, "run_cell", {"notebook_path": nb, "timeout_s": 120, "code_override":
                "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\nimport matplotlib.pyplot as plt\n"
                "fig = plt.figure(figsize=(4, 3), dpi=100)\nplt.plot([1, 2, 3])\nplt.show()"}, progress=on_progress)
            check(img["status"] == "ok", f"image: {img}")
            pngs = [o["data"]["image/png"] for o in img["raw_outputs"] if "image/png" in o.get("data", {})]
            check(len(pngs) == 1, f"raw image/png missing: {img['raw_outputs']}")
            png = base64.b64decode(pngs[0])
            w, h = struct.unpack(">II", png[16:24])  # IHDR width, height
            check(f"[image/png {w}x{h}, " in img["llm_summary"], f"image summary {img['llm_summary']!r}, png is {w}x{h}")
            check(len(progress) >= 1, "no progress notification for run_cell")
            values = [p for p, _ in progress]
            check(values == sorted(set(values)), f"progress must increase: {progress}")

            # A plotly figure stays JSON in raw_outputs and is summarized as traces.
            fig = await call(session, "run_cell", {"notebook_path": nb, "timeout_s": 120, "code_override":
                "import plotly.graph_objects as go, plotly.io as pio\npio.renderers.default = 'plotly_mimetype'\n"
                "go.Figure(go.Bar(x=['a', 'b'], y=[1, 2], name='sales'), layout_title_text='Revenue').show()"})
            check(fig["status"] == "ok", f"plotly: {fig}")
            check("plotly figure" in fig["llm_summary"] and "bar" in fig["llm_summary"] and "Revenue" in fig["llm_summary"], f"plotly summary: {fig['llm_summary']}")
            check(any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in fig["raw_outputs"]), "raw plotly JSON missing")

            # input() answered through submit_input.
            asked = await call(session, "run_cell_async", {"notebook_path": nb, "code_override": "name = input('who? ')\nprint('hello', name)"})
            deadline = time.time() + 30
            while time.time() < deadline:
                st = await call(session, "get_execution_stream", {"notebook_path": nb, "task_id": asked["task_id"], "wait_ms": 1000})
                if st.get("pending_input"):
                    break
            check(st.get("pending_input", {}).get("prompt") == "who? ", f"pending input: {st}")
            await call(session, "submit_input", {"notebook_path": nb, "task_id": asked["task_id"], "value": "agent"})
            final, _ = await stream_until_done(session, nb, asked["task_id"])
            check("hello agent" in final["llm_summary"], f"input: {final}")

            info = await call(session, "get_kernel_info", {"notebook_path": nb})
            check(info["status"] in ("idle", "busy") and info["executions"] >= 4, f"kernel info: {info}")
            check(os.path.realpath(info.get("environment", "")) == os.path.realpath(venv), f"kernel environment: {info}")
            ks = await call(session, "list_kernels", {})
            check(len(ks["kernels"]) == 1, f"list_kernels: {ks}")

            cell = await call(session, "read_cell_smart", {"notebook_path": nb, "cell_id": first_id})
            check(cell["index"] == 0, f"read_cell_smart: {cell}")
            found = await call(session, "search_notebook", {"notebook_path": nb, "query": "tick"})
            check(any(h["cell_id"] == new_id for h in found["hits"]), f"search: {found}")

            deleted = await call(session, "delete_cell", {"notebook_path": nb, "cell_id": new_id})
            check(all(c["id"] != new_id for c in deleted["cells"]), "cell not deleted")
            check(open(os.path.join(ws, nb), "rb").read() == original, "insert + delete did not leave the file byte-identical")

            await call(session, "stop_kernel", {"notebook_path": nb})
            gone = await call(session, "get_kernel_info", {"notebook_path": nb}, expect_error=True)
            check("start_kernel" in gone, f"after stop: {gone}")
    print("agent session ok")


if __name__ == "__main__":
    asyncio.run(main())
