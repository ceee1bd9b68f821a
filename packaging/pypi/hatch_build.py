"""Makes the wheel a platform wheel carrying one static mcp-jupyter binary.

packaging/build.mjs stages this folder with the binary in bin/ and sets
MCP_JUPYTER_WHEEL_PLATFORM to the wheel's platform tag.
"""

import os

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class BinaryWheelHook(BuildHookInterface):
    def initialize(self, version, build_data):
        platform = os.environ.get("MCP_JUPYTER_WHEEL_PLATFORM")
        if not platform:
            raise RuntimeError("MCP_JUPYTER_WHEEL_PLATFORM is not set: build wheels with `node packaging/build.mjs`")
        names = [n for n in os.listdir(os.path.join(self.root, "bin")) if n.startswith("mcp-jupyter")]
        if len(names) != 1:
            raise RuntimeError(f"expected one mcp-jupyter binary in {self.root}/bin, found {names}")
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{platform}"
        build_data["shared_scripts"][f"bin/{names[0]}"] = names[0]
