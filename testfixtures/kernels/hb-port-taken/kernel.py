"""A real ipykernel whose heartbeat port is taken by someone else before it binds.

This is what happens when another process grabs the port between the client's
probe and the kernel's bind: ipykernel binds the heartbeat in a thread, that
thread dies of "Address already in use", and the kernel lives on without a
heartbeat. The squatter here listens but never speaks ZMTP.

With HB_TAKEN_ONCE=<path> only the first launch (the one that creates <path>)
has its port taken; without it every launch does.
"""
import json
import os
import socket
import sys

conn = sys.argv[sys.argv.index("-f") + 1]
with open(conn) as f:
    ci = json.load(f)

once = os.environ.get("HB_TAKEN_ONCE")
take = True
if once:
    try:
        os.close(os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        take = False

squatter = None
if take and ci.get("transport", "tcp") == "tcp":
    squatter = socket.socket()
    squatter.bind((ci["ip"], ci["hb_port"]))
    squatter.listen(8)

from ipykernel import kernelapp  # noqa: E402

kernelapp.launch_new_instance()
