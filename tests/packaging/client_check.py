"""One MCP client check against an installed mcp-jupyter: list the tools, start a kernel, run a cell.

usage: client_check.py WORKSPACE VENV COMMAND [ARG...]
COMMAND ARG... start the MCP server (e.g. `npx --offline mcp-jupyter-pair mcp --standalone`); the check adds
`--workspace WORKSPACE`. VENV is a Python environment with ipykernel for the kernel. Exits non-zero on a failure.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [{"cell_type": "code", "id": "c-sum", "metadata": {}, "execution_count": None, "outputs": [], "source": "6 * 7"}],
}


def text(res):
    return "".join(getattr(c, "text", "") for c in res.content)


async def main():
    ws, venv, command, *args = sys.argv[1:]
    with open(os.path.join(ws, "check.ipynb"), "w") as f:
        json.dump(NOTEBOOK, f)
    params = StdioServerParameters(command=command, args=[*args, "--workspace", ws], env=dict(os.environ), cwd=os.getcwd())
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            tools = {t.name for t in (await session.list_tools()).tools}
            for want in ("start_kernel", "run_cell", "get_notebook_outline", "stop_kernel"):
                assert want in tools, f"tool {want} missing from {sorted(tools)}"
            res = await session.call_tool("start_kernel", {"notebook_path": "check.ipynb", "venv_path": venv})
            assert not res.is_error, f"start_kernel failed: {text(res)}"
            res = await session.call_tool("run_cell", {"notebook_path": "check.ipynb", "cell_id": "c-sum"})
            assert not res.is_error and "42" in text(res), f"run_cell: {text(res)}"
            await session.call_tool("stop_kernel", {"notebook_path": "check.ipynb"})
    print(f"ok: {init.server_info.name} {init.server_info.version}, {len(tools)} tools, 6 * 7 = 42 through {command}")


asyncio.run(main())
