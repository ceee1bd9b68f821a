#!/usr/bin/env python3
"""M2c and M3 as a real MCP client sees them (Python mcp SDK over stdio, the real binary):
tools/list size; get_notebook_outline (first page, and paging through all of it) and
append_cell on a 5,000-cell notebook: round trip and response size (content + structuredContent).

usage: .venv/bin/python tests/mcp/answer_sizes.py bin/mcp-jupyter [samples]
"""
import asyncio, json, os, statistics, sys, tempfile, time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench", "mcpbench"))
from mcpbench import big_notebook  # the M2 notebook (5,000 cells)


def size(res):
    return len(res.model_dump_json(by_alias=True, exclude_none=True))


async def main(binary, n):
    with tempfile.TemporaryDirectory() as ws:
        with open(os.path.join(ws, "big.ipynb"), "w") as f:
            json.dump(big_notebook(5000), f, indent=1)
        params = StdioServerParameters(command=binary, args=["mcp", "--standalone", "--workspace", ws], env=dict(os.environ))
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as s:
                await s.initialize()
                tl = await s.list_tools()
                print(f"M3 tools/list: {size(tl)} bytes ({size(tl)/1024:.1f} KB), {len(tl.tools)} tools")
                first, rts = None, []
                for i in range(3 + n):
                    t0 = time.perf_counter()
                    res = await s.call_tool("get_notebook_outline", {"notebook_path": "big.ipynb"})
                    dt = (time.perf_counter() - t0) * 1000
                    assert not res.is_error and res.structured_content["cell_count"] == 5000 and res.structured_content["more"]
                    first = res
                    if i >= 3:
                        rts.append(dt)
                rts.sort()
                print(f"M2c get_notebook_outline first page: median {statistics.median(rts):.1f} ms (p95 {rts[int(len(rts)*0.95)-1]:.1f}), "
                      f"{size(first)} bytes, {len(first.structured_content['cells'])} cells of 5000, n={n}")
                off, pages, largest, seen, worst = 0, 0, 0, 0, 0.0
                while True:
                    t0 = time.perf_counter()
                    res = await s.call_tool("get_notebook_outline", {"notebook_path": "big.ipynb", "offset": off})
                    worst = max(worst, (time.perf_counter() - t0) * 1000)
                    sc = res.structured_content
                    pages, largest, seen = pages + 1, max(largest, size(res)), seen + len(sc["cells"])
                    if not sc["more"]:
                        break
                    off = sc["next_offset"]
                print(f"M2c paging through: {pages} pages, {seen} cells, largest {largest} bytes, slowest {worst:.1f} ms")
                t0 = time.perf_counter()
                res = await s.call_tool("append_cell", {"notebook_path": "big.ipynb", "content": "print('end')"})
                dt = (time.perf_counter() - t0) * 1000
                assert not res.is_error, res.content
                print(f"M2c append_cell: {dt:.1f} ms, {size(res)} bytes, {len(res.structured_content['cells'])} cells shown")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20))
