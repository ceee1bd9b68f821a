// The release targets and the one way to build the sidecar for them, shared by
// the VSIX packager (extension/scripts/package.mjs) and packaging/build.mjs.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * vsce/npm target (`${process.platform}-${process.arch}`) → Go's GOOS/GOARCH and the wheel's platform tag.
 * The binary is static (CGO_ENABLED=0), so one Linux build serves glibc and musl.
 */
export const targets = {
  'linux-x64': { goos: 'linux', goarch: 'amd64', wheel: 'manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64' },
  'linux-arm64': { goos: 'linux', goarch: 'arm64', wheel: 'manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64' },
  'darwin-x64': { goos: 'darwin', goarch: 'amd64', wheel: 'macosx_12_0_x86_64' },
  'darwin-arm64': { goos: 'darwin', goarch: 'arm64', wheel: 'macosx_12_0_arm64' },
  'win32-x64': { goos: 'windows', goarch: 'amd64', wheel: 'win_amd64' },
  'win32-arm64': { goos: 'windows', goarch: 'arm64', wheel: 'win_arm64' },
};

/** The target of this machine. */
export function hostTarget() {
  return `${process.platform}-${process.arch}`;
}

/** The released version: package.json's (server.json and pyproject.toml must agree; a test checks). */
export function releaseVersion() {
  return JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
}

/** The binary's file name for a target. */
export function exeName(target) {
  return target.startsWith('win32') ? 'mcp-jupyter.exe' : 'mcp-jupyter';
}

/**
 * Builds the sidecar for a target into out. Reproducible: no paths (-trimpath), no VCS stamp, no build id, static;
 * the same source, version and Go toolchain give the same bytes.
 */
export function goBuild(target, out, version = releaseVersion()) {
  const t = targets[target];
  if (!t) throw new Error(`unknown target ${target} (known: ${Object.keys(targets).join(', ')})`);
  const ldflags = `-s -w -buildid= -X github.com/mcp-jupyter/mcp-jupyter/sidecar.Version=${version}`;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  execFileSync('go', ['build', '-trimpath', '-buildvcs=false', '-ldflags', ldflags, '-o', out, './sidecar/cmd/mcp-jupyter'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, CGO_ENABLED: '0', GOOS: t.goos, GOARCH: t.goarch },
  });
  return out;
}
