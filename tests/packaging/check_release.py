"""Checks server.json against what the MCP Registry requires and against the packages it names.

usage: check_release.py RELEASE_DIR   (the output of `node packaging/build.mjs`)
The rules are those of the registry's server.schema.json (2025-09-29) and its ownership checks: npm's package.json
`mcpName` and PyPI's README `mcp-name:` marker must equal the server name.
"""

import json
import re
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


def exact_version(v):
    return bool(v) and v != "latest" and not re.search(r"[\^~<>=*x]|\|\|", v.replace("x86", "")) and " " not in v


server = json.loads((ROOT / "server.json").read_text())
name, version = server.get("name", ""), server.get("version", "")
check(re.fullmatch(r"[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+", name) and 3 <= len(name) <= 200, f"server name {name!r} breaks the registry's pattern")
check(name.startswith("io.github.mcp-jupyter/"), f"server name {name!r} is not in the repository owner's io.github namespace")
check(1 <= len(server.get("description", "")) <= 100, f"description is {len(server.get('description', ''))} chars (1..100)")
check(exact_version(version) and len(version) <= 255, f"server version {version!r} is not an exact version")
check(server.get("repository", {}).get("source") == "github" and server["repository"].get("url"), "repository needs url and source")

root_pkg = json.loads((ROOT / "package.json").read_text())
pyproject = tomllib.loads((ROOT / "packaging/pypi/pyproject.toml").read_text())["project"]
check(version == root_pkg["version"] == pyproject["version"], f"versions disagree: server.json {version}, package.json {root_pkg['version']}, pyproject {pyproject['version']}")

release = Path(sys.argv[1])
kinds = {}
for pkg in server.get("packages", []):
    allowed = {"registryType", "registryBaseUrl", "identifier", "version", "fileSha256", "runtimeHint", "transport", "runtimeArguments", "packageArguments", "environmentVariables"}
    check(set(pkg) <= allowed, f"package has fields the schema forbids: {set(pkg) - allowed}")
    for field in ("registryType", "identifier", "version", "transport"):
        check(field in pkg, f"package lacks {field}")
    check(exact_version(pkg.get("version", "")) and pkg.get("version") == version, f"package {pkg.get('identifier')} version {pkg.get('version')!r} != {version}")
    check(pkg.get("transport", {}).get("type") == "stdio", f"package {pkg.get('identifier')}: transport must be stdio")
    for arg in pkg.get("packageArguments", []):
        check(arg.get("type") in ("positional", "named"), f"argument type {arg.get('type')!r}")
        if arg.get("type") == "positional":
            check("value" in arg or "valueHint" in arg, "positional argument needs value or valueHint")
    check([a.get("value") for a in pkg.get("packageArguments", [])][:1] == ["mcp"], "the first package argument must be the `mcp` subcommand")
    kinds[pkg.get("registryType")] = pkg

check(set(kinds) == {"npm", "pypi"}, f"server.json lists {sorted(kinds)}, want npm and pypi")
npm_main = release / f"{kinds['npm']['identifier']}-{version}.tgz"
check(npm_main.exists(), f"{npm_main} not built")
if npm_main.exists():
    with tarfile.open(npm_main) as tar:
        meta = json.load(tar.extractfile("package/package.json"))
    check(meta["name"] == kinds["npm"]["identifier"] and meta["version"] == version, f"npm package is {meta['name']}@{meta['version']}")
    check(meta.get("mcpName") == name, f"npm package.json mcpName {meta.get('mcpName')!r} != {name!r}")
    check(all(v == version for v in meta.get("optionalDependencies", {}).values()) and len(meta.get("optionalDependencies", {})) == 6,
          f"optional dependencies must be the 6 platform packages at {version}: {meta.get('optionalDependencies')}")
check(pyproject["name"] == kinds["pypi"]["identifier"], f"pyproject name {pyproject['name']} != server.json {kinds['pypi']['identifier']}")
wheels = sorted(release.glob(f"mcp_jupyter_pair-{version}-py3-none-*.whl"))
check(wheels, "no wheel built")
for whl in wheels:
    with zipfile.ZipFile(whl) as z:
        metadata = z.read(f"mcp_jupyter_pair-{version}.dist-info/METADATA").decode()
        scripts = [n for n in z.namelist() if "/scripts/" in n]
    check(f"mcp-name: {name}" in metadata, f"{whl.name}: the README (long description) lacks the `mcp-name: {name}` marker")
    check(len(scripts) == 1 and scripts[0].rsplit("/", 1)[1].startswith("mcp-jupyter"), f"{whl.name}: scripts {scripts}")

if errors:
    print("release check failed:\n- " + "\n- ".join(errors))
    sys.exit(1)
print(f"ok: server.json {name}@{version} agrees with {npm_main.name} and {len(wheels)} wheel(s)")
