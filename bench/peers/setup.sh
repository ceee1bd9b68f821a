#!/usr/bin/env bash
# Creates the peers venv (issue #14 / #18 rows A1, A2, P1-P4): jupyter-mcp-server 2.2.4 with its Jupyter
# Server deps, jupyter-mcp-live 0.6.2 (if it installs), nbclient. Prints the install time of each to stderr
# and a summary line to stdout. PEERS_VENV overrides the location (default .cache/peers-venv under the repo).
set -uo pipefail
cd "$(dirname "$0")/../.."
venv=${PEERS_VENV:-$PWD/.cache/peers-venv}
py=${PYTHON:-python3}
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv" || { echo "peers: cannot create $venv" >&2; exit 1; }
pip="$venv/bin/python -m pip --disable-pip-version-check -q"
status=()
inst() { # name spec...
  local name=$1; shift
  local t0=$(date +%s.%N)
  if nice -n 10 $pip install "$@" >&2; then
    status+=("$name=ok:$(echo "$(date +%s.%N) - $t0" | bc)s")
  else
    status+=("$name=FAILED:$(echo "$(date +%s.%N) - $t0" | bc)s")
  fi
}
inst nbclient nbclient ipykernel matplotlib pandas
inst jupyter-mcp-server jupyter-mcp-server==2.2.4 jupyterlab jupyter-collaboration
inst jupyter-mcp-live jupyter-mcp-live==0.6.2
echo "${status[*]}"
