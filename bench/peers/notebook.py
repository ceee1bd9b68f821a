"""The fixed 60-cell notebook of rows A1 and A2 (../shared/BENCHMARKS.md): imports, a DataFrame build,
10 small figures, prints; A1 also needs a 100k-line cell, a raising cell and a known line to edit.

    python notebook.py OUT.ipynb [a1|a2]
"""
import json
import sys
import uuid


def cells(kind="a2"):
    if kind == "trivial":  # 60 cells that cost the kernel nothing: what a runner adds per cell
        return [{"cell_type": "code", "id": f"c{k:02d}", "metadata": {}, "source": f"x{k} = {k}",
                 "execution_count": None, "outputs": []} for k in range(60)]
    src = []
    src.append("# Sales analysis\nA fixed benchmark notebook.")  # 0 markdown
    src.append("import math\nimport numpy as np\nimport pandas as pd\nimport matplotlib\n%matplotlib inline\nimport matplotlib.pyplot as plt")  # 1
    src.append("rng = np.random.default_rng(7)\nsales = pd.DataFrame({'region': rng.choice(['north', 'south', 'east', 'west'], 1200),\n    'units': rng.integers(1, 50, 1200), 'price': rng.random(1200) * 100})\nsales['revenue'] = sales['units'] * sales['price']\nprint(sales.shape)")  # 2
    src.append("THRESHOLD = 25\nprint('threshold', THRESHOLD)")  # 3
    i = 0
    while len(src) < 60:
        n = len(src)
        if n % 5 == 0 and i < 10:
            src.append(f"fig, ax = plt.subplots(figsize=(3, 2))\nax.plot(np.arange(20), np.cumsum(rng.standard_normal(20)) + {i})\nax.set_title('series {i}')\nplt.show()")
            i += 1
        elif n % 7 == 0:
            src.append(f"## Section {n}\nNotes for part {n}.")
        else:
            src.append(f"v{n} = sales['units'].sum() + {n}\nprint('step {n}', v{n})")
    if kind == "a1":
        # A1's special cells, self-contained so each can run on a fresh kernel (the rest stays as for A2).
        src[40] = "for i in range(100000):\n    print(i)"  # 100k lines; the last is 99999
        src[41] = ("import numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\n%matplotlib inline\n"
                   "big = pd.DataFrame({'region': ['north', 'south', 'east', 'west'] * 75,\n"
                   "    'units': np.arange(300), 'revenue': np.arange(300) * 2.5})\n"
                   "fig, ax = plt.subplots(figsize=(4, 3))\nbig.groupby('region')['revenue'].sum().plot.bar(ax=ax)\n"
                   "ax.set_title('revenue by region')\nplt.show()")  # a figure; big is 300 x 3
        src[42] = "x = 1\nraise ValueError('threshold too low')"  # raises; step 8 fixes this line
    out = []
    for k, s in enumerate(src):
        md = s.startswith("#") and not s.startswith("#!")
        c = {"cell_type": "markdown" if md else "code", "id": f"c{k:02d}", "metadata": {}, "source": s}
        if not md:
            c.update(execution_count=None, outputs=[])
        out.append(c)
    return out


def notebook(kind="a2"):
    return {"nbformat": 4, "nbformat_minor": 5, "cells": cells(kind),
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}}}


if __name__ == "__main__":
    with open(sys.argv[1], "w") as f:
        json.dump(notebook(sys.argv[2] if len(sys.argv) > 2 else "a2"), f, indent=1)
