#!/usr/bin/env bash
# The released packages, installed as a user would, with no Go toolchain or project build on PATH and the package
# registries unreachable: `npx` from the npm tarballs and `pip` from the wheel each pass one real MCP client check.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
py=${TEST_PYTHON:-$root/.venv/bin/python}   # the client (Python mcp SDK) and the kernel's environment
work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-jupyter-packaging.XXXXXX")
trap 'rm -rf "$work"' EXIT

node "$root/packaging/build.mjs" --targets host --out "$work/release" >/dev/null
"$py" "$root/tests/packaging/check_release.py" "$work/release"

version=$(node -p "require('$root/package.json').version")
node_dir=$(dirname "$(command -v node)")
clean_path="$node_dir:/usr/bin:/bin"
if PATH=$clean_path command -v go >/dev/null; then echo "go is on the clean PATH ($clean_path): the check would not prove anything"; exit 1; fi
mkdir -p "$work/ws" "$work/home"
user_env=(env -i "PATH=$clean_path" "HOME=$work/home" "TMPDIR=${TMPDIR:-/tmp}")

# npm: install both tarballs with the registry unreachable (--offline, empty cache), then run through npx.
"${user_env[@]}" npm install --offline --no-audit --no-fund --loglevel=error --cache "$work/npm-cache" --prefix "$work/npm" \
  "$work/release/mcp-jupyter-pair-$version.tgz" "$work/release/mcp-jupyter-pair-$(node -p 'process.platform+"-"+process.arch')-$version.tgz"
(cd "$work/npm" && "${user_env[@]}" "$py" "$root/tests/packaging/client_check.py" "$work/ws" "$root/.venv" \
  npx --offline --cache "$work/npm-cache" mcp-jupyter-pair mcp --standalone)

# pip: a fresh venv, the wheel only (--no-index), then the console command uvx/pipx would run.
python3 -m venv "$work/pyenv"
"$work/pyenv/bin/pip" install --disable-pip-version-check -q --no-index "$work"/release/mcp_jupyter_pair-"$version"-*.whl
"${user_env[@]}" "$py" "$root/tests/packaging/client_check.py" "$work/ws" "$root/.venv" "$work/pyenv/bin/mcp-jupyter-pair" mcp --standalone
test -x "$work/pyenv/bin/mcp-jupyter" || { echo "the wheel did not install the mcp-jupyter binary on PATH"; exit 1; }
echo "packaging: npm and pip installs pass the MCP client check"
