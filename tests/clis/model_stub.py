"""A scripted model on loopback for agent CLIs tested without a login: it speaks just enough of the Anthropic
Messages API, the OpenAI Responses/Chat APIs and the Gemini API for a CLI to run one agent turn. The script:
call start_kernel, then run_cell on the check notebook, then answer with the run's result. Every request and the
tools each offered are logged as JSON lines for the test to check.

usage: model_stub.py PORT_FILE LOG_FILE VENV
"""

import json
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT_FILE, LOG_FILE, VENV = sys.argv[1:4]
LOCK = threading.Lock()


def log(entry):
    with LOCK, open(LOG_FILE, "a") as f:
        f.write(json.dumps(entry) + "\n")


def script_step(tool_names, results_so_far):
    """The next action: (tool_name, arguments) or None when done. tool_names are the CLI's names for our tools."""
    by_suffix = {our_name(n): n for n in tool_names}
    plan = [
        ("start_kernel", {"notebook_path": "check.ipynb", "venv_path": VENV}),
        ("run_cell", {"notebook_path": "check.ipynb", "cell_id": "c-sum"}),
    ]
    if results_so_far < len(plan):
        name, args = plan[results_so_far]
        return by_suffix.get(name, name), args
    return None


PREFIXES = ("mcp__jupyter__", "mcp_jupyter_", "jupyter-", "jupyter__")  # Claude Code, Gemini CLI, Copilot CLI


def our_name(name):
    """The server's tool name inside a CLI's name for it, or None for the CLI's own tools."""
    for prefix in PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return None


def ours(names):
    return sorted(our_name(n) for n in names if our_name(n))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {}

    def send_json(self, obj, status=200):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_sse(self, events):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        for name, obj in events:
            if name:
                self.wfile.write(f"event: {name}\n".encode())
            self.wfile.write(f"data: {json.dumps(obj)}\n\n".encode())
        self.wfile.flush()
        self.close_connection = True

    def do_GET(self):
        log({"method": "GET", "path": self.path})
        if "/models" in self.path:
            self.send_json({"data": [{"id": "stub-model", "object": "model"}], "object": "list", "models": []})
        else:
            self.send_json({})

    def do_POST(self):
        req = self.body()
        path = self.path.split("?")[0]
        if path.endswith("/v1/messages"):
            return self.anthropic(req)
        if path.endswith("/count_tokens"):
            return self.send_json({"input_tokens": 10})
        if ":streamGenerateContent" in path or ":generateContent" in path:
            return self.gemini(req, stream=":stream" in path)
        if path.endswith(":countTokens"):
            return self.send_json({"totalTokens": 10})
        log({"method": "POST", "path": self.path, "unhandled": True})
        self.send_json({"error": {"message": f"stub: {path} not scripted"}}, 404)

    # --- Anthropic Messages API -------------------------------------------------------------------------------
    def anthropic(self, req):
        names = [t.get("name", "") for t in req.get("tools", [])]
        results = [b for m in req.get("messages", []) if m.get("role") == "user" and isinstance(m.get("content"), list)
                   for b in m["content"] if b.get("type") == "tool_result"]
        log({"api": "anthropic", "all_tools": names, "tools": ours(names), "tool_results": [json.dumps(r.get("content"))[:2000] for r in results]})
        step = script_step(names, len(results)) if ours(names) else None
        msg_id = f"msg_{uuid.uuid4().hex[:12]}"
        if step:
            block = {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:12]}", "name": step[0], "input": {}}
            deltas = [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                               "delta": {"type": "input_json_delta", "partial_json": json.dumps(step[1])}})]
            stop, full = "tool_use", dict(block, input=step[1])
        else:
            text = "done: " + (json.dumps(results[-1].get("content"))[:200] if results else "ok")
            block = {"type": "text", "text": ""}
            deltas = [("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}})]
            stop, full = "end_turn", {"type": "text", "text": text}
        usage = {"input_tokens": 10, "output_tokens": 5}
        if not req.get("stream"):
            return self.send_json({"id": msg_id, "type": "message", "role": "assistant", "model": req.get("model", "stub"),
                                   "content": [full], "stop_reason": stop, "stop_sequence": None, "usage": usage})
        self.send_sse([
            ("message_start", {"type": "message_start", "message": {"id": msg_id, "type": "message", "role": "assistant",
                                                                     "model": req.get("model", "stub"), "content": [],
                                                                     "stop_reason": None, "stop_sequence": None, "usage": usage}}),
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}),
            *deltas,
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 5}}),
            ("message_stop", {"type": "message_stop"}),
        ])


    # --- Gemini API -----------------------------------------------------------------------------------------------
    def gemini(self, req, stream):
        names = [d.get("name", "") for t in req.get("tools", []) for d in t.get("functionDeclarations", [])]
        results = [p["functionResponse"] for c in req.get("contents", []) for p in c.get("parts", []) if "functionResponse" in p]
        log({"api": "gemini", "all_tools": names, "tools": ours(names), "tool_results": [json.dumps(r)[:2000] for r in results],
             "schemas": {d.get("name"): d.get("parametersJsonSchema") or d.get("parameters") for t in req.get("tools", [])
                         for d in t.get("functionDeclarations", []) if "jupyter" in d.get("name", "") or d.get("name") in ("run_cell", "start_kernel")}})
        step = script_step(names, len(results)) if ours(names) else None
        if req.get("generationConfig", {}).get("responseMimeType") == "application/json":
            part = {"text": json.dumps({"reasoning": "stub", "next_speaker": "user"})}
        elif step:
            # Gemini CLI adds wait_for_previous to every tool and passes it through: send it as its model would.
            part = {"functionCall": {"name": step[0], "args": dict(step[1], wait_for_previous=True)}}
        else:
            part = {"text": "done: " + (json.dumps(results[-1])[:200] if results else "ok")}
        chunk = {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
                 "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}}
        if stream:
            return self.send_sse([(None, chunk)])
        self.send_json(chunk)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
