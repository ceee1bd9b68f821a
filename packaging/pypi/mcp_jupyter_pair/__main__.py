"""`mcp-jupyter-pair ARGS` runs the mcp-jupyter binary this wheel installed (for uvx and pipx run)."""

import os
import subprocess
import sys
import sysconfig

EXE = "mcp-jupyter.exe" if os.name == "nt" else "mcp-jupyter"


def binary():
    dirs = [os.path.dirname(os.path.abspath(sys.argv[0])), sysconfig.get_path("scripts")]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        dirs.append(sysconfig.get_path("scripts", user_scheme))
    for d in dirs:
        path = os.path.join(d, EXE)
        if os.path.isfile(path):
            return path
    sys.exit(f"mcp-jupyter-pair: the {EXE} binary is missing from {dirs}: reinstall the wheel for this platform")


def main():
    path = binary()
    if os.name == "nt":
        sys.exit(subprocess.call([path, *sys.argv[1:]]))
    os.execv(path, [path, *sys.argv[1:]])


if __name__ == "__main__":
    main()
