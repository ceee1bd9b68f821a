"""A kernel that binds every socket of its connection file and then never answers.

With SILENT_ONCE=<path> only the first launch (the one that creates <path>) is
silent; later launches run a real ipykernel.
"""
import json
import os
import sys
import time

once = os.environ.get("SILENT_ONCE")
if once:
    try:
        os.close(os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        sys.exit(0)

import zmq  # noqa: E402

conn = sys.argv[sys.argv.index("-f") + 1]
with open(conn) as f:
    ci = json.load(f)
ctx = zmq.Context()
sep = ":" if ci["transport"] == "tcp" else "-"
socks = []
for name, kind in [("shell", zmq.ROUTER), ("stdin", zmq.ROUTER), ("control", zmq.ROUTER), ("iopub", zmq.XPUB), ("hb", zmq.REP)]:
    s = ctx.socket(kind)
    s.bind(f"{ci['transport']}://{ci['ip']}{sep}{ci[name + '_port']}")
    socks.append(s)
while True:
    time.sleep(3600)
