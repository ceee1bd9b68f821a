"""Reference side of K1-K5: the same measurements with Python jupyter_client.

Run by bench/kernelbench (the Go side) once per benchmark, in its own process so
peak RSS is per benchmark:  python reference.py K2 --n 200 --warmup 10
Prints one JSON object: {"samples_ms": [...], "bytes": [...], "rss_mb": float, "retries": int, "note": str}.
The kernel is the same one the Go side starts: this interpreter's ipykernel
(jupyter_client maps the kernelspec's "python" to sys.executable).
"""

import argparse
import json
import os
import resource
import signal
import sys
import time
from queue import Empty

from jupyter_client import KernelManager

# Same code as the Go side (bench/kernelbench/main.go).
K3_CODE = {
    "K3a": "for i in range(100000):\n    print(i)",
    "K3b": "import sys\nsys.stdout.write('x' * (50 * 1024 * 1024))\nsys.stdout.flush()",
    "K3c": "'x' * (50 * 1024 * 1024)",
}
# The loop announces itself once it runs: an interrupt sent on execute_input
# can land before the code starts, and ipykernel swallows it.
SPIN = "print('spinning', flush=True)\nwhile True:\n    pass"
REINTERRUPT_S = 2.0


def start():
    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    return km, kc


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def ms(t0, t1):
    return (t1 - t0) * 1000.0


def wait_iopub(kc, msg_id, msg_type, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == msg_type:
            return msg


def wait_reply(kc, msg_id, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def k1(args, out):
    for _ in range(args.n):
        t0 = time.perf_counter()
        km, kc = start()
        out["samples_ms"].append(ms(t0, time.perf_counter()))
        stop(km, kc)


def k2(args, out):
    km, kc = start()
    try:
        for i in range(args.warmup + args.n):
            t0 = time.perf_counter()
            reply = kc.execute_interactive("1+1", output_hook=lambda m: None, timeout=60)
            t1 = time.perf_counter()
            assert reply["content"]["status"] == "ok", reply["content"]
            if i >= args.warmup:
                out["samples_ms"].append(ms(t0, t1))
    finally:
        stop(km, kc)


def k3(args, out, which):
    km, kc = start()
    counted = {"n": 0}

    def hook(msg):
        t = msg["msg_type"]
        c = msg["content"]
        if t == "stream":
            counted["n"] += len(c["text"])
        elif t in ("execute_result", "display_data"):
            counted["n"] += len(c["data"].get("text/plain", ""))

    try:
        for _ in range(args.n):
            counted["n"] = 0
            t0 = time.perf_counter()
            reply = kc.execute_interactive(K3_CODE[which], output_hook=hook, timeout=600)
            t1 = time.perf_counter()
            assert reply["content"]["status"] == "ok", reply["content"]
            out["samples_ms"].append(ms(t0, t1))
            out["bytes"].append(counted["n"])
    finally:
        stop(km, kc)


def k4(args, out):
    km, kc = start()
    retries = 0
    try:
        for _ in range(args.n):
            msg_id = kc.execute(SPIN)
            wait_iopub(kc, msg_id, "stream")
            t0 = time.perf_counter()
            km.interrupt_kernel()
            while True:
                try:
                    reply = wait_reply(kc, msg_id, timeout=REINTERRUPT_S)
                    break
                except Empty:
                    if time.perf_counter() - t0 > 60:
                        raise SystemExit(f"no reply 60 s after the interrupt ({retries} re-sent)")
                    retries += 1
                    km.interrupt_kernel()
            assert reply["content"].get("ename") == "KeyboardInterrupt", reply["content"]
            # Stop at status: idle, the same event our side's Execute returns on
            # (the run is over and the kernel takes the next request).
            wait_iopub(kc, msg_id, "status")
            t1 = time.perf_counter()
            out["samples_ms"].append(ms(t0, t1))
    finally:
        stop(km, kc)
    out["retries"] = retries


def k5(args, out):
    # What a jupyter_client user (e.g. Jupyter Server) observes: the kernel
    # restarter polls is_alive() every time_to_dead (3 s) and fires "restart".
    import asyncio

    from jupyter_client.ioloop import IOLoopKernelManager
    from tornado.ioloop import IOLoop

    for _ in range(args.n):
        km = IOLoopKernelManager(kernel_name="python3")
        km.start_kernel()
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        # The restarter's PeriodicCallback runs on this thread's current loop
        # (the one jupyter_core's run_sync set up).
        loop = asyncio.get_event_loop()
        IOLoop.current()
        seen = {}

        def on_restart(seen=seen, loop=loop):
            seen["t"] = time.perf_counter()
            loop.stop()

        km.add_restart_callback(on_restart, "restart")
        km.restart_kernel = lambda *a, **kw: None  # observe only; do not relaunch
        km.start_restarter()
        msg_id = kc.execute(SPIN)
        wait_iopub(kc, msg_id, "stream")
        t0 = time.perf_counter()
        os.kill(km.provisioner.process.pid, signal.SIGKILL)
        guard = loop.call_later(30, loop.stop)
        loop.run_forever()
        guard.cancel()
        km.stop_restarter()
        kc.stop_channels()
        try:
            km.shutdown_kernel(now=True)
        except Exception:
            pass
        if "t" not in seen:
            raise SystemExit("restarter never noticed the dead kernel within 30 s")
        out["samples_ms"].append(ms(t0, seen["t"]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bench")
    p.add_argument("--n", type=int, default=5)
    p.add_argument("--warmup", type=int, default=0)
    args = p.parse_args()
    out = {"samples_ms": [], "bytes": [], "rss_mb": 0.0, "retries": 0, "note": ""}
    b = args.bench
    if b == "K1":
        k1(args, out)
    elif b == "K2":
        k2(args, out)
    elif b in K3_CODE:
        k3(args, out, b)
    elif b == "K4":
        k4(args, out)
    elif b == "K5":
        k5(args, out)
    else:
        raise SystemExit(f"unknown benchmark {b}")
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
