#!/usr/bin/env bash
# The agent CLIs users run, installed from npm into a private prefix and HOME (no login), each configured the
# documented way (`<cli> mcp add jupyter -- mcp-jupyter mcp --standalone`), connected, offered every tool, and
# making real tool calls through its own path: Claude Code, Gemini CLI and Copilot CLI in prompt mode against a
# scripted model on loopback (tests/clis/model_stub.py), Codex through `codex app-server`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
py=$root/.venv/bin/python
bin=${MCP_JUPYTER_BIN:-$root/bin/mcp-jupyter}
clis=(@anthropic-ai/claude-code@2.1.332 @openai/codex@0.171.0 @google/gemini-cli@0.61.0 @github/copilot@1.0.102)
prefix=$root/.cache/clis
stamp="$prefix/.installed-$(printf '%s ' "${clis[@]}" | sha256sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  rm -rf "$prefix" && mkdir -p "$prefix"
  npm install --no-audit --no-fund --loglevel=error --prefix "$prefix" "${clis[@]}" >/dev/null
  touch "$stamp"
fi
C=$prefix/node_modules/.bin

work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-jupyter-clis.XXXXXX")
stub_pid=
cleanup() { [ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/bin" "$work/ws"
ln -s "$bin" "$work/bin/mcp-jupyter"
export PATH="$work/bin:$PATH" NO_COLOR=1 CI=1
"$py" - "$work/ws/check.ipynb" <<'PY'
import json, sys
cell = {"cell_type": "code", "id": "c-sum", "metadata": {}, "execution_count": None, "outputs": [], "source": "6 * 7"}
json.dump({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}, open(sys.argv[1], "w"))
PY
"$py" "$root/tests/clis/expected_tools.py" "$bin" "$work/ws" "$work/expected.json"

start_stub() {  # a fresh scripted model per CLI, logging to $work/$1.log
  rm -f "$work/port"
  "$py" "$root/tests/clis/model_stub.py" "$work/port" "$work/$1.log" "$root/.venv" & stub_pid=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
  touch "$work/$1.log"
  stub_url=http://127.0.0.1:$(cat "$work/port")
}
stop_stub() { kill "$stub_pid" 2>/dev/null || true; wait "$stub_pid" 2>/dev/null || true; stub_pid=; }
run_cli() {  # a CLI's own HOME, in the workspace, bounded
  local name=$1; shift
  mkdir -p "$work/home-$name"
  (cd "$work/ws" && HOME="$work/home-$name" timeout 180 "$@")
}

# Claude Code
run_cli claude "$C/claude" mcp add jupyter -- mcp-jupyter mcp --standalone >/dev/null
run_cli claude "$C/claude" mcp list | tee "$work/claude-list.txt" | grep -q 'jupyter: .*Connected' \
  || { cat "$work/claude-list.txt"; echo "claude mcp list: jupyter not connected"; exit 1; }
start_stub claude
ENABLE_TOOL_SEARCH=false ANTHROPIC_BASE_URL=$stub_url ANTHROPIC_API_KEY=sk-stub \
  run_cli claude "$C/claude" -p "run the check cell" --model claude-opus-4-5 \
  --allowedTools mcp__jupyter__start_kernel,mcp__jupyter__run_cell > "$work/claude.out" 2>&1 || { cat "$work/claude.out"; exit 1; }
stop_stub
"$py" "$root/tests/clis/check_log.py" "Claude Code" "$work/claude.log" "$work/expected.json"

# Codex: configured with `codex mcp add`, driven through its app-server (mcpServerStatus/list, mcpServer/tool/call)
run_cli codex "$C/codex" mcp add jupyter -- mcp-jupyter mcp --standalone >/dev/null 2>&1
HOME="$work/home-codex" "$py" "$root/tests/clis/codex_app_server.py" "$C/codex" "$work/ws" "$root/.venv" "$work/expected.json" 2>"$work/codex.err" \
  || { tail -20 "$work/codex.err"; exit 1; }

# Gemini CLI (its model passes wait_for_previous, which Gemini adds to every tool's schema)
run_cli gemini "$C/gemini" mcp add jupyter mcp-jupyter mcp --standalone >/dev/null
mkdir -p "$work/home-gemini/.gemini"
echo '{"security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": false}}, "privacy": {"usageStatisticsEnabled": false}, "general": {"disableAutoUpdate": true}}' \
  > "$work/home-gemini/.gemini/settings.json"
start_stub gemini
GOOGLE_GEMINI_BASE_URL=$stub_url GEMINI_API_KEY=stub \
  run_cli gemini "$C/gemini" -p "run the check cell" --yolo -m gemini-2.5-flash > "$work/gemini.out" 2>&1 || { cat "$work/gemini.out"; exit 1; }
stop_stub
"$py" "$root/tests/clis/check_log.py" "Gemini CLI" "$work/gemini.log" "$work/expected.json"

# Copilot CLI in its offline mode with a local (Anthropic-compatible) provider
run_cli copilot "$C/copilot" mcp add jupyter -- mcp-jupyter mcp --standalone >/dev/null
start_stub copilot
COPILOT_OFFLINE=true COPILOT_PROVIDER_BASE_URL=$stub_url COPILOT_PROVIDER_TYPE=anthropic COPILOT_PROVIDER_API_KEY=stub \
  COPILOT_MODEL=claude-sonnet-4.5 run_cli copilot "$C/copilot" -p "run the check cell" --allow-all-tools > "$work/copilot.out" 2>&1 \
  || { cat "$work/copilot.out"; exit 1; }
stop_stub
"$py" "$root/tests/clis/check_log.py" "Copilot CLI" "$work/copilot.log" "$work/expected.json"
echo "agent CLIs: Claude Code, Codex, Gemini CLI and Copilot CLI connect, list every tool and run a cell"
