#!/usr/bin/env bash
# Runs every benchmark of ../shared/BENCHMARKS.md and writes docs/benchmarks.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "no benchmarks yet"
