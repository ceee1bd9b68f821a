# Test driver: one real ipykernel through jupyter_client, commanded by JSON lines
# on stdin. Used by Go tests until they run on the session package.
import json
import queue
import sys

from jupyter_client.manager import start_new_kernel

def start():
    # jupyter_client picks ports by binding port 0 and closing it; another
    # program (a parallel test package) can take one before the kernel binds,
    # and the kernel dies of "Address already in use". Try again on new ports.
    for attempt in range(3):
        try:
            return start_new_kernel(kernel_name="python3", startup_timeout=60)
        except Exception as e:  # RuntimeError from a kernel that died at start
            if attempt == 2:
                raise
            print(f"kernel start failed ({e!r}); retrying on new ports", file=sys.stderr)


km, kc = start()


def run(code, silent):
    msg_id = kc.execute(code, silent=silent, store_history=not silent, allow_stdin=False)
    out, err, error = [], [], None
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            if not km.is_alive():
                return {"stdout": "".join(out), "stderr": "".join(err),
                        "error": {"ename": "DeadKernel", "evalue": "the kernel died", "traceback": []}}
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        t, c = msg["msg_type"], msg["content"]
        if t == "stream":
            (out if c["name"] == "stdout" else err).append(c["text"])
        elif t == "error":
            error = {"ename": c["ename"], "evalue": c["evalue"], "traceback": c["traceback"]}
        elif t == "status" and c["execution_state"] == "idle":
            break
    reply = kc.get_shell_msg(timeout=600)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=600)
    if reply["content"]["status"] == "error" and error is None:
        c = reply["content"]
        error = {"ename": c.get("ename", ""), "evalue": c.get("evalue", ""), "traceback": c.get("traceback", [])}
    return {"stdout": "".join(out), "stderr": "".join(err), "error": error}


print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    op = req["op"]
    try:
        if op == "exec":
            res = run(req["code"], req.get("silent", True))
        elif op == "restart":
            km.restart_kernel(now=True)
            kc.wait_for_ready(timeout=120)
            res = {}
        elif op == "alive":
            res = {"alive": km.is_alive()}
        else:
            res = {"error": {"ename": "DriverError", "evalue": "unknown op " + op, "traceback": []}}
    except Exception as e:  # report, keep serving
        res = {"error": {"ename": "DriverError", "evalue": repr(e), "traceback": []}}
    print(json.dumps(res), flush=True)
kc.stop_channels()
km.shutdown_kernel(now=True)
