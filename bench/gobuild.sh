#!/usr/bin/env bash
# Builds the benchmark program bench/<name>/ (Go, tagged benchprog) into <out>.
#
# The programs drive the sidecar's internal packages (the kernel client, the
# checkpoint engine), which Go lets only code under sidecar/ import. They are
# not product, so their source lives here; the build overlays it as the
# virtual package sidecar/internal/benchprog/<name>, which exists in no tree
# and in no product build (go build ./... skips the benchprog tag).
#
#   bench/gobuild.sh kernelbench /tmp/kernelbench
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: bench/gobuild.sh <name> <out>" >&2; exit 2; }
name=$1 out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/bench/$name"
[ -d "$src" ] || { echo "bench/gobuild.sh: no bench/$name" >&2; exit 2; }
overlay=$(mktemp)
trap 'rm -f "$overlay"' EXIT
virtual="$root/sidecar/internal/benchprog/$name"
{
  printf '{"Replace": {'
  sep=''
  for f in "$src"/*.go; do
    case "$f" in *_test.go) continue ;; esac
    printf '%s"%s": "%s"' "$sep" "$virtual/$(basename "$f")" "$f"
    sep=', '
  done
  printf '}}\n'
} >"$overlay"
cd "$root"
CGO_ENABLED=0 go build -tags benchprog -overlay "$overlay" -o "$out" "./sidecar/internal/benchprog/$name"
