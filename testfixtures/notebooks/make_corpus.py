"""Writes the notebook corpus the notebookmodel tests read.

Run with the test venv: .venv/bin/python testfixtures/notebooks/make_corpus.py
Files are written with nbformat, so they carry Jupyter's exact formatting;
a few are written by hand to cover old minor versions and other writers.
"""
import base64
import json
import os
import struct
import zlib

import nbformat
from nbformat import v4

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, nb):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        nbformat.write(nb, f)


def png(width, height):
    raw = b"".join(b"\x00" + bytes([(x * 7 + y * 3) % 256 for x in range(width * 3)]) for y in range(height))
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def meta():
    return {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.12.3", "mimetype": "text/x-python",
                          "file_extension": ".py", "codemirror_mode": {"name": "ipython", "version": 3}},
    }


def basic():
    nb = v4.new_notebook(metadata=meta())
    nb.cells = [
        v4.new_markdown_cell("# Analysis\n\nLoad the data and look at it.", id="intro"),
        v4.new_code_cell("import math\nx = 41\nx + 1", id="calc", execution_count=1, outputs=[
            v4.new_output("execute_result", {"text/plain": "42"}, execution_count=1)]),
        v4.new_markdown_cell("## Results\nSome *text*.", id="results-head"),
        v4.new_code_cell("print('hello')\nprint('world')", id="hello", execution_count=2, outputs=[
            v4.new_output("stream", name="stdout", text="hello\nworld\n")]),
        v4.new_code_cell("1/0", id="boom", execution_count=3, outputs=[
            v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                          traceback=["\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
                                     "\x1b[0;31mZeroDivisionError\x1b[0m: division by zero"])]),
        v4.new_code_cell("", id="empty"),
    ]
    write("basic.ipynb", nb)


def plotly_nb():
    import plotly.graph_objects as go
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[4, 1, 2], name="series"), layout={"title": {"text": "A plot"}})
    nb = v4.new_notebook(metadata=meta())
    nb.cells = [v4.new_code_cell("import plotly.graph_objects as go\nfig = go.Figure(...)\nfig", id="plot", execution_count=1,
        outputs=[v4.new_output("display_data", {"application/vnd.plotly.v1+json": json.loads(fig.to_json()),
                                                 "text/html": "<div>plot</div>"})])]
    write("plotly.ipynb", nb)


def images():
    nb = v4.new_notebook(metadata=meta())
    data = base64.b64encode(png(64, 48)).decode()
    nb.cells = [
        v4.new_code_cell("plt.plot([1, 2])", id="img", execution_count=5, outputs=[
            v4.new_output("display_data", {"image/png": data, "text/plain": "<Figure size 640x480 with 1 Axes>"},
                          metadata={"image/png": {"width": 64, "height": 48}})]),
        v4.new_markdown_cell("![inline](attachment:dot.png)", id="att",
                             attachments={"dot.png": {"image/png": data}}),
    ]
    write("images_attachments.ipynb", nb)


def widgets():
    md = meta()
    md["widgets"] = {"application/vnd.jupyter.widget-state+json": {"version_major": 2, "version_minor": 0, "state": {
        "a1b2": {"model_name": "IntSliderModel", "model_module": "@jupyter-widgets/controls",
                 "model_module_version": "2.0.0", "state": {"value": 7, "max": 10}}}}}
    nb = v4.new_notebook(metadata=md)
    nb.cells = [v4.new_code_cell("import ipywidgets as w\nw.IntSlider(7)", id="slider", execution_count=1, outputs=[
        v4.new_output("display_data", {"application/vnd.jupyter.widget-view+json": {
            "model_id": "a1b2", "version_major": 2, "version_minor": 0}, "text/plain": "IntSlider(value=7)"})])]
    write("widgets.ipynb", nb)


def raw_and_unicode():
    nb = v4.new_notebook(metadata=meta())
    nb.cells = [
        v4.new_raw_cell("%%latex\n\\section{Raw}", id="raw1", metadata={"format": "text/latex"}),
        v4.new_markdown_cell("# Überblick — 概要 🚀\n\nÄrger mit Umlauten, emoji 🎉, RTL שלום, combining é.", id="uni"),
        v4.new_code_cell("s = 'naïve café ☕'\nprint(s)", id="unicode-code", execution_count=1, outputs=[
            v4.new_output("stream", name="stdout", text="naïve café ☕\n")]),
        v4.new_code_cell("# tab\tand control \x01 chars\nprint('\\u2028')", id="ctrl"),
    ]
    write("raw_unicode.ipynb", nb)


def huge():
    nb = v4.new_notebook(metadata=meta())
    lines = "".join(f"line {i}: {'x' * 60}\n" for i in range(20000))
    nb.cells = [v4.new_code_cell("for i in range(20000): print(f'line {i}: ' + 'x' * 60)", id="big", execution_count=1,
                                 outputs=[v4.new_output("stream", name="stdout", text=lines)]),
                v4.new_code_cell("needle_after_big = 1", id="after")]
    write("huge_output.ipynb", nb)


def minor_versions():
    # Older minor versions: no cell ids (ids came in 4.5).
    for minor in range(0, 5):
        d = {"cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Version 4.%d\n" % minor, "text"]},
            {"cell_type": "code", "execution_count": 1, "metadata": {"collapsed": False},
             "outputs": [{"name": "stdout", "output_type": "stream", "text": ["ok\n"]}], "source": ["print('ok')"]},
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": []},
        ], "metadata": meta(), "nbformat": 4, "nbformat_minor": minor}
        with open(os.path.join(HERE, "v4_%d.ipynb" % minor), "w", encoding="utf-8") as f:
            f.write(json.dumps(d, sort_keys=True, indent=1, ensure_ascii=False) + "\n")


def other_writers():
    # Two-space indent, unsorted keys, source as strings, unknown fields, no trailing newline.
    d = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"custom": {"keep": [1, 2.50, "x"]}},
         "cells": [{"id": "a", "cell_type": "code", "source": "x = 1\ny = 2", "metadata": {}, "outputs": [],
                    "execution_count": None, "x-unknown": True},
                   {"id": "b", "cell_type": "markdown", "source": "### Third level", "metadata": {}}],
         "x-top-unknown": {"nested": None}}
    with open(os.path.join(HERE, "two_space_unsorted.ipynb"), "w", encoding="utf-8") as f:
        f.write(json.dumps(d, indent=2, ensure_ascii=True))
    with open(os.path.join(HERE, "compact.ipynb"), "w", encoding="utf-8") as f:
        f.write(json.dumps(d, separators=(",", ":")))


def malformed():
    with open(os.path.join(HERE, "malformed_syntax.ipynb.bad"), "w", encoding="utf-8") as f:
        f.write('{\n "cells": [\n  {"cell_type": "code",}\n ]\n}\n')
    with open(os.path.join(HERE, "nbformat3.ipynb.bad"), "w", encoding="utf-8") as f:
        f.write(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}, indent=1) + "\n")


if __name__ == "__main__":
    basic(); plotly_nb(); images(); widgets(); raw_and_unicode(); huge(); minor_versions(); other_writers(); malformed()
