"""Drives `codex app-server` (JSON-RPC over stdio, the model-free path of the Codex CLI) against the mcp-jupyter
server configured with `codex mcp add`: the server's status and tool list, then real tool calls.

usage: codex_app_server.py CODEX WORKSPACE VENV EXPECTED_TOOLS_JSON
"""

import json
import subprocess
import sys

codex, ws, venv, expected_file = sys.argv[1:5]
expected = set(json.load(open(expected_file)))
proc = subprocess.Popen([codex, "app-server"], cwd=ws, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
next_id = 0


def request(method, params):
    global next_id
    next_id += 1
    proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": next_id, "method": method, "params": params}) + "\n")
    proc.stdin.flush()
    while True:
        line = proc.stdout.readline()
        if not line:
            sys.exit(f"codex app-server exited during {method}")
        msg = json.loads(line)
        if msg.get("id") == next_id and "method" not in msg:
            if "error" in msg:
                sys.exit(f"{method}: {msg['error']}")
            return msg["result"]
        if "method" in msg and "id" in msg:  # a request from the server (approvals): decline
            proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "not scripted"}}) + "\n")


def text(result):
    return "".join(c.get("text", "") for c in result.get("content", []) if isinstance(c, dict))


try:
    request("initialize", {"clientInfo": {"name": "mcp-jupyter-test", "version": "0"}})
    proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "initialized"}) + "\n")
    status = request("mcpServerStatus/list", {})
    servers = {s.get("name"): s for s in status.get("data", status.get("servers", []))}
    assert "jupyter" in servers, f"jupyter not among {list(servers)}: {json.dumps(status)[:500]}"
    tools = servers["jupyter"].get("tools", {})
    names = set(tools if isinstance(tools, dict) else [t.get("name") for t in tools])
    assert names == expected, f"codex lists {sorted(names)}; want {sorted(expected)}"
    thread = request("thread/start", {"cwd": ws})
    thread_id = thread.get("thread", {}).get("id") or thread.get("threadId")
    assert thread_id, f"thread/start: {thread}"
    calls = [("start_kernel", {"notebook_path": "check.ipynb", "venv_path": venv}),
             ("run_cell", {"notebook_path": "check.ipynb", "cell_id": "c-sum"}),
             ("stop_kernel", {"notebook_path": "check.ipynb"})]
    for tool, args in calls:
        res = request("mcpServer/tool/call", {"server": "jupyter", "threadId": thread_id, "tool": tool, "arguments": args})
        assert not res.get("isError"), f"{tool}: {text(res)[:500]}"
        if tool == "run_cell":
            assert "42" in text(res) or "42" in json.dumps(res.get("structuredContent")), f"run_cell: {json.dumps(res)[:500]}"
    print(f"ok: codex app-server lists {len(names)} jupyter tools and ran 6 * 7 = 42")
finally:
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
