#!/bin/sh
# Builds the kernel image the docker_image tests run, with no registry: a
# minimal Debian with apt's python3 and ipykernel (only `python3`, no
# `python`, as on Debian/Ubuntu images), streamed into `docker import`.
# Usage: build-image.sh IMAGE   (DOCKER_HOST names the engine)
# Needs mmdebstrap and the Debian mirror (MCP_JUPYTER_DEBIAN_MIRROR overrides it).
set -eu
image=${1:?usage: build-image.sh IMAGE}
suite=${MCP_JUPYTER_DEBIAN_SUITE:-bookworm}
mirror=${MCP_JUPYTER_DEBIAN_MIRROR:-}
command -v mmdebstrap >/dev/null || { echo "mmdebstrap is not installed (apt-get install mmdebstrap)" >&2; exit 3; }
mmdebstrap --quiet --variant=essential --mode=root \
  --include=python3,python3-ipykernel \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  "$suite" - $mirror |
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'LABEL org.mcp-jupyter.test-image=1' \
    - "$image"
