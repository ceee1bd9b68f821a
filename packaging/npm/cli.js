#!/usr/bin/env node
// Runs the mcp-jupyter binary from the platform package npm installed beside
// this one (an optional dependency per os/cpu, as esbuild and Biome ship theirs).
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');

const target = `${process.platform}-${process.arch}`;
const exe = process.platform === 'win32' ? 'mcp-jupyter.exe' : 'mcp-jupyter';
const platformPackage = `@mcp-jupyter-pair/${target}`;

function binary() {
  if (process.env.MCP_JUPYTER_BINARY) return process.env.MCP_JUPYTER_BINARY;
  try {
    return path.join(path.dirname(require.resolve(`${platformPackage}/package.json`)), 'bin', exe);
  } catch {
    console.error(
      `mcp-jupyter: no binary for ${target}: the optional dependency ${platformPackage} is not installed. ` +
        'Reinstall without --omit=optional / --no-optional, or set MCP_JUPYTER_BINARY to an mcp-jupyter binary.',
    );
    process.exit(1);
  }
}

const child = spawn(binary(), process.argv.slice(2), { stdio: 'inherit', windowsHide: true });
const forward = (signal) => () => child.kill(signal);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward(signal));
child.on('error', (err) => {
  console.error(`mcp-jupyter: cannot run ${err.path ?? 'the binary'}: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
