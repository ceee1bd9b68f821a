"""The Python MCP client over streamable HTTP, in both protocol eras.

usage: http_eras.py URL TOKEN NOTEBOOK
Connects with the bearer token, once with the initialize handshake and once
with server/discover (2026-07-28), and reads the notebook outline each time.
"""

import asyncio
import sys

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def session(url, token, nb, era):
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as hc:
        async with streamable_http_client(url, http_client=hc) as streams:
            async with ClientSession(streams[0], streams[1]) as s:
                if era == "modern":
                    await s.discover()
                else:
                    await s.initialize()
                res = await s.call_tool("get_notebook_outline", {"notebook_path": nb})
                if res.is_error or res.structured_content["cell_count"] < 1:
                    raise SystemExit(f"{era}: outline failed: {res}")
                print(f"{era}: protocol {s.protocol_version}, {res.structured_content['cell_count']} cells")


async def main():
    url, token, nb = sys.argv[1:4]
    for era in ("handshake", "modern"):
        await session(url, token, nb, era)


if __name__ == "__main__":
    asyncio.run(main())
