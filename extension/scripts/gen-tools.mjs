// Mirrors the sidecar's tool core into package.json (contributes.languageModelTools
// and the tool set): asks `mcp-jupyter mcp` for tools/list over stdio (a real
// MCP handshake) and rewrites the two contribution lists. Run after a tool
// changes: node extension/scripts/gen-tools.mjs [path/to/mcp-jupyter]
// With --check it only compares and exits 1 when package.json is stale.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const bin = args.find((a) => !a.startsWith('--')) ?? path.join(root, 'bin', 'mcp-jupyter');
export const prefix = 'mcpjupyter_';

export async function listTools(binary, cwd = root) {
  const child = spawn(binary, ['mcp', '--standalone', '--workspace', cwd], { cwd, stdio: ['pipe', 'pipe', 'ignore'] });
  const rl = readline.createInterface({ input: child.stdout });
  const waiting = new Map();
  rl.on('line', (line) => {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    const w = waiting.get(msg.id);
    if (w) {
      waiting.delete(msg.id);
      if (msg.error) w.reject(new Error(JSON.stringify(msg.error)));
      else w.resolve(msg.result);
    }
  });
  let id = 0;
  const call = (method, params) =>
    new Promise((resolve, reject) => {
      const myId = ++id;
      waiting.set(myId, { resolve, reject });
      child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: myId, method, params }) + '\n');
    });
  const timer = setTimeout(() => {
    child.kill();
    for (const w of waiting.values()) w.reject(new Error('mcp-jupyter mcp did not answer within 30 s'));
  }, 30_000);
  try {
    await call('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'gen-tools', version: '1' } });
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
    const tools = [];
    let cursor;
    do {
      const res = await call('tools/list', cursor ? { cursor } : {});
      tools.push(...res.tools);
      cursor = res.nextCursor;
    } while (cursor);
    return tools;
  } finally {
    clearTimeout(timer);
    child.stdin.end();
    child.kill();
  }
}

/** JSON schema as VS Code accepts it in package.json (no $schema/$id). */
function cleanSchema(s) {
  if (Array.isArray(s)) return s.map(cleanSchema);
  if (!s || typeof s !== 'object') return s;
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$schema' || k === '$id') continue;
    out[k] = cleanSchema(v);
  }
  return out;
}

export function contributions(tools) {
  const sorted = [...tools].sort((a, b) => a.name.localeCompare(b.name));
  const lmTools = sorted.map((t) => ({
    name: prefix + t.name,
    toolReferenceName: t.name,
    displayName: t.title ?? t.annotations?.title ?? t.name,
    modelDescription: t.description,
    userDescription: t.title ?? t.name,
    canBeReferencedInPrompt: true,
    icon: '$(notebook)',
    tags: ['jupyter', 'notebook', 'mcp-jupyter', ...(t.annotations?.readOnlyHint ? ['read-only'] : [])],
    inputSchema: cleanSchema(t.inputSchema ?? { type: 'object', properties: {} }),
  }));
  const toolSets = [
    {
      name: 'mcpJupyter',
      referenceName: 'jupyter',
      displayName: 'MCP Jupyter',
      description: 'Run cells, read and edit the open notebook, inspect and checkpoint the shared kernel.',
      icon: '$(notebook)',
      tools: lmTools.map((t) => t.name),
    },
  ];
  return { lmTools, toolSets };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const tools = await listTools(bin);
  const { lmTools, toolSets } = contributions(tools);
  const pkgPath = path.join(root, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'));
  const before = JSON.stringify([pkg.contributes.languageModelTools, pkg.contributes.languageModelToolSets]);
  pkg.contributes.languageModelTools = lmTools;
  pkg.contributes.languageModelToolSets = toolSets;
  const after = JSON.stringify([lmTools, toolSets]);
  if (check) {
    if (before !== after) {
      console.error('package.json languageModelTools differ from the sidecar tools: run node extension/scripts/gen-tools.mjs');
      process.exit(1);
    }
    console.log(`package.json declares the sidecar's ${tools.length} tools`);
  } else {
    fs.writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n');
    console.log(`wrote ${tools.length} tools to package.json`);
  }
}
