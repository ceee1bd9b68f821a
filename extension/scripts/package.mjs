// Packages the VSIX with the sidecar inside.
//   node extension/scripts/package.mjs [GOOS GOARCH]   this platform's VSIX from bin/mcp-jupyter
//   node extension/scripts/package.mjs --all           every target, each with its own static sidecar
// VSIXes go to dist/mcp-jupyter-<target>-<version>.vsix.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goBuild, releaseVersion } from '../../packaging/targets.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** vsce target → Go's GOOS/GOARCH (alpine uses the static linux build). */
export const targets = {
  'linux-x64': ['linux', 'amd64'],
  'linux-arm64': ['linux', 'arm64'],
  'darwin-x64': ['darwin', 'amd64'],
  'darwin-arm64': ['darwin', 'arm64'],
  'win32-x64': ['windows', 'amd64'],
  'win32-arm64': ['windows', 'arm64'],
  'alpine-x64': ['linux', 'amd64'],
};

export function targetFor(goos, goarch) {
  const os = { linux: 'linux', darwin: 'darwin', windows: 'win32' }[goos];
  const arch = { amd64: 'x64', arm64: 'arm64' }[goarch];
  if (!os || !arch) throw new Error(`no VS Code target for GOOS=${goos} GOARCH=${goarch}`);
  return `${os}-${arch}`;
}

function run(cmd, args, opts = {}) {
  execFileSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
}

function requireFile(p, hint) {
  if (!fs.existsSync(p)) {
    console.error(`missing ${path.relative(root, p)}: ${hint}`);
    process.exit(1);
  }
}

function packageTarget(target, binary) {
  const exe = target.startsWith('win32') ? 'mcp-jupyter.exe' : 'mcp-jupyter';
  const binRoot = path.join(root, 'extension', 'bin');
  // Exactly one sidecar per VSIX: clear what an earlier target left.
  fs.rmSync(binRoot, { recursive: true, force: true });
  fs.mkdirSync(path.join(binRoot, target), { recursive: true });
  const dest = path.join(binRoot, target, exe);
  fs.copyFileSync(binary, dest);
  fs.chmodSync(dest, 0o755);
  fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
  const out = path.join(root, 'dist', `mcp-jupyter-${target}-${pkg.version}.vsix`);
  const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  run(process.execPath, [
    vsce, 'package', '--target', target, '--no-dependencies', '--out', out,
  ]);
  console.log(`${path.relative(root, out)}: ${(fs.statSync(out).size / 1024 / 1024).toFixed(2)} MiB`);
  return out;
}

const args = process.argv.slice(2);
requireFile(path.join(root, 'extension', 'dist', 'extension.js'), 'run npm run build first');
if (args[0] === '--all') {
  const version = process.env.VERSION || releaseVersion();
  const failed = [];
  for (const [target, [goos, goarch]] of Object.entries(targets)) {
    const exe = goos === 'windows' ? 'mcp-jupyter.exe' : 'mcp-jupyter';
    const bin = path.join(root, '.cache', 'sidecar', target, exe);
    // One target's failure (e.g. code that does not build for Windows) must not hide the others.
    try {
      goBuild(targetFor(goos, goarch), bin, version);
      packageTarget(target, bin);
    } catch (err) {
      console.error(`${target}: ${err.message.split('\n')[0]}`);
      failed.push(target);
    }
  }
  if (failed.length) {
    console.error(`VSIX not built for: ${failed.join(', ')}`);
    process.exit(1);
  }
} else {
  const [goos = process.env.GOOS, goarch = process.env.GOARCH] = args;
  const target = targetFor(goos ?? (process.platform === 'win32' ? 'windows' : process.platform), goarch ?? { x64: 'amd64', arm64: 'arm64' }[process.arch]);
  const exe = target.startsWith('win32') ? 'mcp-jupyter.exe' : 'mcp-jupyter';
  const bin = process.env.MCP_JUPYTER_BIN || path.join(root, 'bin', exe);
  requireFile(bin, 'build the sidecar with make sidecar');
  packageTarget(target, bin);
}
