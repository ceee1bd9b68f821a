"""Writes the server's tool names (from tools/list through the Python MCP SDK) as a JSON list.

usage: expected_tools.py BINARY WORKSPACE OUT
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main():
    binary, ws, out = sys.argv[1:4]
    params = StdioServerParameters(command=binary, args=["mcp", "--standalone", "--workspace", ws], cwd=ws)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            names = sorted(t.name for t in (await session.list_tools()).tools)
    json.dump(names, open(out, "w"))


asyncio.run(main())
