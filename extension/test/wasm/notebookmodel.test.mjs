// Checks that notebookmodel compiled to WebAssembly answers exactly like the
// native Go build: it replays every call recorded in
// notebookmodel/testdata/golden/*.json (written by `go test ./notebookmodel/jsapi`)
// against the .wasm and compares the results.
//
// Run: node --test extension/test/wasm/
// Uses extension/dist/notebookmodel.wasm (from `make wasm`), or $NOTEBOOKMODEL_WASM;
// builds a temporary one with `go build` when neither exists.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const goldenDir = join(root, 'notebookmodel/testdata/golden');

function wasmFiles() {
  const wasm = process.env.NOTEBOOKMODEL_WASM || join(root, 'extension/dist/notebookmodel.wasm');
  let exec = join(dirname(wasm), 'wasm_exec.js');
  // `make` touches an empty placeholder when notebookmodel/wasm is absent.
  if (existsSync(wasm) && statSync(wasm).size > 0 && existsSync(exec)) {
    return { wasm, exec };
  }
  const dir = mkdtempSync(join(tmpdir(), 'notebookmodel-wasm-'));
  const out = join(dir, 'notebookmodel.wasm');
  execFileSync('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', out, './notebookmodel/wasm'], {
    cwd: root,
    env: { ...process.env, GOOS: 'js', GOARCH: 'wasm' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const goroot = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
  exec = join(goroot, 'lib/wasm/wasm_exec.js');
  return { wasm: out, exec };
}

/** Loads the module the way the extension does and returns its API. */
async function load({ wasm, exec }) {
  createRequire(import.meta.url)(exec); // defines globalThis.Go
  const go = new globalThis.Go();
  const bytes = readFileSync(wasm);
  const t0 = performance.now();
  const { instance } = await WebAssembly.instantiate(bytes, go.importObject);
  go.run(instance); // resolves only if the program exits; the API is ready now
  const api = globalThis.mcpJupyterNotebookModel;
  const loadMs = performance.now() - t0;
  return { api, loadMs, size: bytes.length };
}

function resolveArg(arg) {
  return arg.startsWith('@file:') ? readFileSync(join(root, arg.slice('@file:'.length)), 'utf8') : arg;
}

// Same transformation as normalize() in notebookmodel/jsapi/golden_test.go.
function normalize(envelope) {
  const v = JSON.parse(envelope);
  if (v.ok && typeof v.ok === 'object' && typeof v.ok.notebook === 'string') {
    v.ok.notebookSha256 = createHash('sha256').update(v.ok.notebook, 'utf8').digest('hex');
    delete v.ok.notebook;
  }
  return v;
}

let mod;
before(async () => {
  mod = await load(wasmFiles());
});

test('the module loads and lists its methods', (t) => {
  assert.equal(typeof mod.api, 'object', 'globalThis.mcpJupyterNotebookModel is not set');
  assert.deepEqual([...mod.api.methods], ['outline', 'search', 'readCell', 'diff', 'applyEdit', 'fromSnapshot']);
  t.diagnostic(`notebookmodel.wasm: ${(mod.size / 1024 / 1024).toFixed(2)} MiB, instantiate+start ${mod.loadMs.toFixed(1)} ms`);
});

const goldens = readdirSync(goldenDir).filter((f) => f.endsWith('.json')).sort();

test('golden answers exist', () => {
  assert.ok(goldens.length >= 10, `only ${goldens.length} golden files in ${goldenDir}`);
});

for (const file of goldens) {
  test(`wasm answers equal native Go answers: ${file}`, () => {
    const golden = JSON.parse(readFileSync(join(goldenDir, file), 'utf8'));
    assert.ok(golden.calls.length > 0);
    for (const [i, call] of golden.calls.entries()) {
      const fn = mod.api[call.method];
      assert.equal(typeof fn, 'function', `no method ${call.method}`);
      const got = normalize(fn(...call.args.map(resolveArg)));
      assert.deepStrictEqual(got, call.result, `${file} call ${i} (${call.method} ${call.args.slice(1).join(' ')})`);
    }
  });
}

test('objects are accepted as arguments and bad input is an error envelope', () => {
  const nb = readFileSync(join(root, 'testfixtures/notebooks/basic.ipynb'), 'utf8');
  const hits = JSON.parse(mod.api.search(nb, { pattern: 'PRINT' }));
  assert.deepEqual(hits.ok.map((h) => h.cellId), ['hello', 'hello']);
  const bad = JSON.parse(mod.api.outline('{"cells": ['));
  assert.equal(bad.error.code, 'syntax');
  assert.equal(bad.error.line, 1);
  const none = JSON.parse(mod.api.call('nope', nb));
  assert.equal(none.error.code, 'badArgument');
});
