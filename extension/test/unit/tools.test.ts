import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { describe, it } from 'node:test';
import { ReadOnlyTools, ToolPrefix } from '../../src/tools/tools.gen';

// package.json's languageModelTools and tools.gen.ts are generated from the
// tool core's metadata by `go generate ./sidecar/internal/tools/...` (a Go test
// checks they are fresh). This test checks the other end: what a real MCP
// client gets from the built sidecar's tools/list is what VS Code is told.
const root = path.resolve(__dirname, '..', '..', '..');
const bin = process.env.MCP_JUPYTER_BIN || path.join(root, 'bin', 'mcp-jupyter');

interface ListedTool {
  name: string;
  description?: string;
  inputSchema?: unknown;
  annotations?: { readOnlyHint?: boolean };
}

/** tools/list over stdio from `mcp-jupyter mcp --standalone` (a real MCP handshake). */
async function listTools(binary: string): Promise<ListedTool[]> {
  const child = spawn(binary, ['mcp', '--standalone', '--workspace', root], { cwd: root, stdio: ['pipe', 'pipe', 'ignore'] });
  const rl = readline.createInterface({ input: child.stdout });
  const waiting = new Map<number, (msg: { result?: { tools: ListedTool[]; nextCursor?: string }; error?: unknown }) => void>();
  rl.on('line', (line) => {
    try {
      const msg = JSON.parse(line);
      waiting.get(msg.id)?.(msg);
      waiting.delete(msg.id);
    } catch {
      // not a JSON-RPC line
    }
  });
  let id = 0;
  const call = (method: string, params: unknown) =>
    new Promise<{ tools: ListedTool[]; nextCursor?: string }>((resolve, reject) => {
      const myId = ++id;
      waiting.set(myId, (msg) => (msg.result ? resolve(msg.result) : reject(new Error(JSON.stringify(msg.error)))));
      child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: myId, method, params }) + '\n');
    });
  try {
    await call('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'tools-test', version: '1' } });
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
    const tools: ListedTool[] = [];
    let cursor: string | undefined;
    do {
      const res = await call('tools/list', cursor ? { cursor } : {});
      tools.push(...res.tools);
      cursor = res.nextCursor;
    } while (cursor);
    return tools;
  } finally {
    child.stdin.end();
    child.kill();
  }
}

/** A schema without $schema/$id (VS Code rejects them in package.json). */
function vscodeSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(vscodeSchema);
  if (!s || typeof s !== 'object') return s;
  return Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$schema' && k !== '$id').map(([k, v]) => [k, vscodeSchema(v)]));
}

describe('language-model tool declarations', () => {
  it('match what MCP clients get from the built sidecar (run make generate after changing a tool)', { skip: !fs.existsSync(bin) && 'no built sidecar (make sidecar)' }, async () => {
    const listed = (await listTools(bin)).sort((a, b) => a.name.localeCompare(b.name));
    assert.ok(listed.length >= 20, `only ${listed.length} tools`);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const declared: { name: string; modelDescription: string; tags: string[]; inputSchema: unknown }[] = pkg.contributes.languageModelTools;
    assert.deepEqual(
      declared.map((t) => t.name),
      listed.map((t) => ToolPrefix + t.name),
    );
    for (const [i, t] of listed.entries()) {
      assert.equal(declared[i].modelDescription, t.description, t.name);
      assert.deepEqual(declared[i].inputSchema, vscodeSchema(t.inputSchema), t.name);
      const readOnly = !!t.annotations?.readOnlyHint;
      assert.equal(ReadOnlyTools.has(t.name), readOnly, `${t.name}: ReadOnlyTools vs readOnlyHint`);
      assert.equal(declared[i].tags.includes('read-only'), readOnly, `${t.name}: read-only tag`);
    }
  });
});
