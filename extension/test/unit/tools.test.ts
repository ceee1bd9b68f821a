import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

// package.json must declare exactly the sidecar's tools (names, descriptions,
// schemas): ask the built sidecar over MCP, as gen-tools.mjs does.
const root = path.resolve(__dirname, '..', '..', '..');
const bin = process.env.MCP_JUPYTER_BIN || path.join(root, 'bin', 'mcp-jupyter');
// The generator is an ES module; load it with a real dynamic import (not tsc's require).
const importEsm = new Function('p', 'return import(p)') as (p: string) => Promise<{
  listTools(binary: string, cwd?: string): Promise<{ name: string }[]>;
  contributions(tools: unknown[]): { lmTools: unknown[]; toolSets: unknown[] };
}>;

describe('language-model tool declarations', () => {
  it('match the sidecar tools/list (run npm run gen:tools after changing a tool)', { skip: !fs.existsSync(bin) && 'no built sidecar (make sidecar)' }, async () => {
    const gen = await importEsm(path.join(root, 'extension', 'scripts', 'gen-tools.mjs'));
    const tools = await gen.listTools(bin);
    assert.ok(tools.length >= 20, `only ${tools.length} tools`);
    const want = gen.contributions(tools);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    assert.deepEqual(pkg.contributes.languageModelTools, want.lmTools);
    assert.deepEqual(pkg.contributes.languageModelToolSets, want.toolSets);
  });
});
