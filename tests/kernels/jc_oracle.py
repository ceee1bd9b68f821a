"""What jupyter_client itself sees from one kernel: the oracle the Go tests compare with.

Usage: python jc_oracle.py KERNEL_NAME CODE SLEEP_CODE [LINES_CODE]
Prints one JSON object: the stdout text of CODE, its status, what an interrupt of SLEEP_CODE did (the reply status
or "died"), and whether the kernel still answers afterwards.
"""
import json
import sys
import time

from jupyter_client.manager import start_new_kernel

name, code, sleep_code = sys.argv[1:4]
lines_code = sys.argv[4] if len(sys.argv) > 4 else None
km, kc = start_new_kernel(kernel_name=name, startup_timeout=120)
out = {"kernel": name}
try:
    texts = []
    reply = kc.execute_interactive(code, timeout=60, output_hook=lambda m: texts.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
    out["stdout"], out["status"] = "".join(texts), reply["content"]["status"]
    if lines_code:
        texts = []
        kc.execute_interactive(lines_code, timeout=60, output_hook=lambda m: texts.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
        out["lines"] = "".join(texts)
    msg_id = kc.execute(sleep_code)
    # wait until the kernel reports busy for it, then interrupt
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            m = kc.get_iopub_msg(timeout=1)
        except Exception:
            continue
        if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status" and m["content"]["execution_state"] == "busy":
            break
    time.sleep(0.5)
    km.interrupt_kernel()
    out["interrupt"] = "no reply"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            r = kc.get_shell_msg(timeout=0.5)
            out["interrupt"] = r["content"]["status"]
            break
        except Exception:
            if not km.is_alive():
                out["interrupt"] = "died"
                break
    time.sleep(1)
    out["alive_after_interrupt"] = km.is_alive()
finally:
    km.shutdown_kernel(now=True)
print(json.dumps(out))
