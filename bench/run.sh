#!/usr/bin/env bash
# Runs every benchmark group of ../shared/BENCHMARKS.md and writes docs/benchmarks.{json,md}.
#
# A group is an executable in bench/groups/, run from the repo root in name order. It prints
# JSON rows, one per line:
#   {"id","what","ours","reference","ratio","unit","goal","n","p95_ours","p95_reference","note"}
# Anything else it prints on stdout is ignored with a warning; its stderr goes to the log.
# A group that fails or times out becomes a row saying so: a benchmark never fails the run.
#
# Environment: BENCH_GROUPS="10-kernel 90-sidecar" runs only those groups;
# BENCH_GROUP_TIMEOUT (seconds, default 3600) bounds each group;
# BENCH_OUT (default docs) is where benchmarks.json and benchmarks.md go;
# BENCH_GROUPS_DIR (default bench/groups) is where the groups are (the framework's own test uses it).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-docs}
timeout_s=${BENCH_GROUP_TIMEOUT:-3600}
py=python3
[ -x .venv/bin/python ] && py=.venv/bin/python
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
rows="$work/rows.jsonl"
: > "$rows"

for g in "${BENCH_GROUPS_DIR:-bench/groups}"/*; do
  name=$(basename "$g")
  [ -f "$g" ] && [ -x "$g" ] || continue
  if [ -n "${BENCH_GROUPS:-}" ] && [[ " $BENCH_GROUPS " != *" $name "* ]]; then continue; fi
  echo "== bench group $name" >&2
  start=$(date +%s)
  timeout --kill-after=30 "$timeout_s" "$g" > "$work/$name.out" 2> >(tee "$work/$name.err" >&2)
  rc=$?
  "$py" bench/collect.py group "$name" "$rc" "$(( $(date +%s) - start ))" "$work/$name.out" "$work/$name.err" >> "$rows"
done

"$py" bench/collect.py render "$rows" "$out/benchmarks.json" "$out/benchmarks.md"
echo "wrote $out/benchmarks.json and $out/benchmarks.md" >&2
