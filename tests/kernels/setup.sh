#!/usr/bin/env bash
# Creates .cache/kernels-venv: a venv holding real kernels from PyPI (ipykernel as the control, bash_kernel,
# xeus-python, deno), each kernelspec installed with --sys-prefix into the venv's share/jupyter/kernels, the way a
# user's `pip install` + `python -m bash_kernel.install --sys-prefix` leaves them. Tests that need it skip when it is
# absent. Usage: tests/kernels/setup.sh [VENV_DIR]   (PYTHON=python3.x to choose the interpreter)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${1:-${MCP_JUPYTER_KERNELS_VENV:-$root/.cache/kernels-venv}}
py=${PYTHON:-python3}
stamp=$venv/.kernels.stamp
if [ -f "$stamp" ] && cmp -s "$stamp" "$here/requirements.txt"; then
  echo "kernels venv up to date: $venv"; exit 0
fi
start=$(date +%s)
mkdir -p "$(dirname "$venv")"
test -x "$venv/bin/python" || "$py" -m venv "$venv"
"$venv/bin/pip" install --disable-pip-version-check -q -r "$here/requirements.txt"
# ipykernel's and xeus-python's wheels ship their kernelspecs under share/jupyter/kernels already; bash_kernel and
# deno need their install step (both into the venv's prefix, as --sys-prefix does).
"$venv/bin/python" -m bash_kernel.install --sys-prefix >/dev/null
if "$venv/bin/deno" --version >/dev/null 2>&1; then
  # `deno jupyter --install` always writes to the user data dir: let it write into a scratch home, then move
  # the kernelspec into the venv's prefix (the user's own data dir is left alone).
  scratch=$(mktemp -d)
  if HOME="$scratch" XDG_DATA_HOME="$scratch/share" "$venv/bin/deno" jupyter --install >/dev/null 2>&1 &&
    spec=$(dirname "$(find "$scratch" -path '*/kernels/deno/kernel.json' | head -1)") && [ "$spec" != . ]; then
    rm -rf "$venv/share/jupyter/kernels/deno" && mkdir -p "$venv/share/jupyter/kernels" && mv "$spec" "$venv/share/jupyter/kernels/deno"
  else
    echo "deno: 'deno jupyter --install' failed; the Deno tests will skip" >&2
  fi
  rm -rf "$scratch"
else
  echo "deno: the PyPI wheel gave no working binary here; the Deno tests will skip" >&2
fi
cp "$here/requirements.txt" "$stamp"
echo "kernels venv ready in $(( $(date +%s) - start ))s: $venv"
"$venv/bin/jupyter" kernelspec list || true
