"""nbclient's side of A2 (run by the peers venv): execute NOTEBOOK on the kernelspec kernelspec "benchvenv" (found via
JUPYTER_PATH; its argv is the same .venv ipykernel ours uses), kernel started and ready before the clock starts, like ours.
Prints {"ms": ..., "cells": n, "errors": n, "outputs": n} on stdout.

    JUPYTER_PATH=DIR python nbclient_run.py NOTEBOOK   # DIR/kernels/benchvenv/kernel.json
"""
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient

nb = nbformat.read(sys.argv[1], as_version=4)
client = NotebookClient(nb, timeout=600, kernel_name="benchvenv", allow_errors=False,
                        resources={"metadata": {"path": os.path.dirname(os.path.abspath(sys.argv[1]))}})
with client.setup_kernel():
    t0 = time.perf_counter()
    for i, cell in enumerate(nb.cells):
        client.execute_cell(cell, i)
    ms = (time.perf_counter() - t0) * 1000
outs = sum(len(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code")
print(json.dumps({"ms": ms, "cells": len(nb.cells), "outputs": outs}))
