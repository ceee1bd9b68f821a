#!/usr/bin/env bash
# Creates the venv the remote-kernel tests start their Jupyter servers from:
#   $1 (default <repo>/.cache/remote-venv) with jupyter_server 2.x and
#   jupyter-kernel-gateway from PyPI, on top of ipykernel.
# Idempotent: a venv whose stamp matches this script's requirements is kept.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../../.." && pwd)"
dest="${1:-$root/.cache/remote-venv}"
reqs='jupyter_server>=2.14,<3 jupyter-kernel-gateway>=3,<4 ipykernel>=6.29'
stamp="$dest/.remote-venv.stamp"
# Test packages run in parallel and may all call this: one installs, the others wait.
mkdir -p "$(dirname "$dest")"
exec 9>"$dest.lock"
flock 9
if [[ -f "$stamp" && "$(cat "$stamp")" == "$reqs" ]]; then
  exit 0
fi
py="${PYTHON:-}"
if [[ -z "$py" ]]; then
  if [[ -x "$root/.venv/bin/python" ]]; then py="$root/.venv/bin/python"; else py="$(command -v python3)"; fi
fi
start=$(date +%s)
rm -rf "$dest"
"$py" -m venv "$dest"
"$dest/bin/python" -m pip install --quiet --disable-pip-version-check $reqs
echo "$reqs" > "$stamp"
echo "remote-venv: installed into $dest in $(( $(date +%s) - start ))s" >&2
