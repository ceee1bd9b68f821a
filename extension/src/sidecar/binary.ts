// Locating and checking the sidecar binary: $MCP_JUPYTER_SIDECAR (development)
// → setting mcp-jupyter.sidecarPath → the binary bundled in this platform's VSIX.

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The sidecar executable's file name on this platform. */
export const BinaryName = process.platform === 'win32' ? 'mcp-jupyter.exe' : 'mcp-jupyter';

/** The sidecar binary to run, and where it was found. */
export interface BinaryChoice {
  /** Absolute path of the binary. */
  path: string;
  /** $MCP_JUPYTER_SIDECAR, the mcp-jupyter.sidecarPath setting, or the VSIX. */
  source: 'environment' | 'setting' | 'bundled';
}

/** No usable sidecar binary; the message says where we looked. */
export class SidecarNotFoundError extends Error {}

/** The VSIX target names whose binaries can run here, best first. */
export function platformDirs(platform = process.platform, arch = process.arch): string[] {
  const dirs = [`${platform}-${arch}`];
  if (platform === 'linux') dirs.push(`alpine-${arch}`);
  return dirs;
}

/** Finds the sidecar binary ($MCP_JUPYTER_SIDECAR → setting → bundled); throws SidecarNotFoundError. */
export function findBinary(extensionPath: string, settingPath: string | undefined, env = process.env): BinaryChoice {
  const fromEnv = env.MCP_JUPYTER_SIDECAR;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) {
      throw new SidecarNotFoundError(`MCP_JUPYTER_SIDECAR points at ${fromEnv}, which does not exist`);
    }
    return { path: fromEnv, source: 'environment' };
  }
  if (settingPath) {
    if (!fs.existsSync(settingPath)) {
      throw new SidecarNotFoundError(
        `the setting mcp-jupyter.sidecarPath points at ${settingPath}, which does not exist; fix or clear it`,
      );
    }
    return { path: settingPath, source: 'setting' };
  }
  const binRoot = path.join(extensionPath, 'extension', 'bin');
  for (const dir of platformDirs()) {
    const p = path.join(binRoot, dir, BinaryName);
    if (fs.existsSync(p)) return { path: p, source: 'bundled' };
  }
  throw new SidecarNotFoundError(
    `no sidecar binary for ${process.platform}-${process.arch} in ${binRoot}: install the VSIX built for this ` +
      `platform, or set mcp-jupyter.sidecarPath to a built mcp-jupyter binary`,
  );
}

/** Runs `<bin> --version` and returns the version word ("mcp-jupyter 1.2.3" → "1.2.3"). */
export function checkVersion(bin: string, timeoutMs = 15000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, ['--version'], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${bin} --version failed: ${err.message}${stderr ? `: ${stderr.trim()}` : ''}`));
        return;
      }
      const m = /^mcp-jupyter\s+(\S+)/m.exec(stdout);
      if (!m) {
        reject(new Error(`${bin} --version printed ${JSON.stringify(stdout.trim())}, not "mcp-jupyter <version>"`));
        return;
      }
      resolve(m[1]);
    });
  });
}
