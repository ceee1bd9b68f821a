#!/usr/bin/env bash
# Two clean builds of the release binaries (each with an empty Go build cache, from two copies of the source at
# different paths) must give the same bytes.   usage: packaging/reproducible.sh [target ...]  (default: linux-x64 win32-x64)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(linux-x64 win32-x64)
work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-jupyter-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
for side in a b; do
  mkdir -p "$work/$side/src"
  git -C "$root" ls-files -z --cached --others --exclude-standard | (cd "$root" && xargs -0 cp --parents -t "$work/$side/src")
  for t in "${targets[@]}"; do
    (cd "$work/$side/src" && GOCACHE="$work/$side/gocache" GOFLAGS=-mod=mod \
      node -e "import('./packaging/targets.mjs').then(m => m.goBuild('$t', '$work/$side/out/$t'))")
  done
done
status=0
for t in "${targets[@]}"; do
  a=$(sha256sum < "$work/a/out/$t" | cut -d' ' -f1); b=$(sha256sum < "$work/b/out/$t" | cut -d' ' -f1)
  if [ "$a" = "$b" ]; then echo "$t: reproducible ($a)"; else echo "$t: DIFFERENT ($a vs $b)"; status=1; fi
done
exit $status
