import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { NotebookModel, NotebookModelError } from '../../src/notebook/model';
import type { Snapshot, SnapshotCell } from '../../src/protocol.gen';
import { answerInProcess } from '../../src/tools/inprocess';

// The real notebookmodel.wasm (extension/dist from `make wasm`, else built here).
const root = path.resolve(__dirname, '..', '..', '..');

function wasmFiles(): { wasm: string; exec: string } {
  const wasm = path.join(root, 'extension', 'dist', 'notebookmodel.wasm');
  const exec = path.join(root, 'extension', 'dist', 'wasm_exec.js');
  if (fs.existsSync(wasm) && fs.statSync(wasm).size > 0 && fs.existsSync(exec)) return { wasm, exec };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notebookmodel-wasm-'));
  const out = path.join(dir, 'notebookmodel.wasm');
  execFileSync('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', out, './notebookmodel/wasm'], {
    cwd: root,
    env: { ...process.env, GOOS: 'js', GOARCH: 'wasm' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const goroot = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
  return { wasm: out, exec: path.join(goroot, 'lib', 'wasm', 'wasm_exec.js') };
}

function cell(i: number): SnapshotCell {
  return i % 10 === 0
    ? { id: `m${i}`, kind: 'markdown', language: 'markdown', source: `# Section ${i}`, executionCount: null }
    : { id: `c${i}`, kind: 'code', language: 'python', source: `x${i} = ${i}\nprint(x${i})`, executionCount: i };
}

function snapshot(n: number): Snapshot {
  return { uri: 'file:///w/big.ipynb', path: '/w/big.ipynb', version: 1, cells: Array.from({ length: n }, (_, i) => cell(i)) };
}

describe('notebookmodel in the extension host', () => {
  let model: NotebookModel;
  let loadMs = 0;
  let size = 0;
  before(async () => {
    const { wasm, exec } = wasmFiles();
    size = fs.statSync(wasm).size;
    const t0 = performance.now();
    model = await NotebookModel.load(wasm, exec);
    loadMs = performance.now() - t0;
  });

  it('answers through a handle like the whole buffer from scratch, after splices', (t) => {
    t.diagnostic(`notebookmodel.wasm ${(size / 1024 / 1024).toFixed(2)} MiB, load ${loadMs.toFixed(1)} ms`);
    const snap = snapshot(30);
    const h = model.open(snap);
    h.splice(1, 1, [{ ...cell(1), source: 'needle = 1' }], 2);
    h.splice(5, 0, [{ id: 'ins', kind: 'markdown', language: 'markdown', source: '## Needle here', executionCount: null }], 3);
    h.splice(0, 1, [], 4);
    const cells = [{ ...cell(1), source: 'needle = 1' }, ...snap.cells!.slice(2, 5), { id: 'ins', kind: 'markdown' as const, language: 'markdown', source: '## Needle here', executionCount: null }, ...snap.cells!.slice(5)];
    const fresh = model.call('fromSnapshot', { ...snap, version: 4, cells }) as { notebook: string };
    assert.deepEqual(h.outline(), model.call('outline', fresh.notebook));
    assert.deepEqual(
      h.search({ pattern: 'needle' }).map((x) => x.cellId),
      ['c1', 'ins'],
    );
    assert.deepEqual(h.readCell({ cellId: 'ins' }), model.call('readCell', fresh.notebook, { cellId: 'ins' }));
    h.close();
    assert.throws(() => h.outline(), /closed/);
  });

  it('refuses bad input with the model error code', () => {
    const h = model.open(snapshot(2));
    assert.throws(() => h.splice(5, 0, [], 2), (e: unknown) => e instanceof NotebookModelError && e.code === 'badArgument');
    assert.throws(() => h.readCell({ cellId: 'nope' }), NotebookModelError);
    h.close();
  });

  it('outlines 5,000 cells through a handle (W4: timings in the diagnostics)', (t) => {
    const snap = snapshot(5000);
    let t0 = performance.now();
    const h = model.open(snap);
    const openMs = performance.now() - t0;
    t0 = performance.now();
    assert.equal(h.outline().length, 5000);
    const firstMs = performance.now() - t0;
    t0 = performance.now();
    h.outline();
    const warmMs = performance.now() - t0;
    t0 = performance.now();
    h.splice(2500, 1, [{ ...cell(2501), source: 'edited' }], 2);
    const spliceMs = performance.now() - t0;
    t0 = performance.now();
    const after = h.outline();
    const afterEditMs = performance.now() - t0;
    assert.equal(after[2500].title, 'edited');
    t0 = performance.now();
    assert.equal(h.search({ pattern: 'x4999' }).length, 2);
    const searchMs = performance.now() - t0;
    h.close();
    t.diagnostic(
      `5000 cells: open ${openMs.toFixed(1)} ms, first outline ${firstMs.toFixed(1)} ms, outline again ${warmMs.toFixed(1)} ms, ` +
        `splice 1 cell ${spliceMs.toFixed(2)} ms, outline after the edit ${afterEditMs.toFixed(1)} ms, search ${searchMs.toFixed(1)} ms`,
    );
  });

  it('answers the three reading tools from the buffer with the sidecar tools\' arguments', () => {
    const h = model.open(snapshot(25));
    const nb = { handle: h, version: 7 };
    const outline = JSON.parse(answerInProcess('get_notebook_outline', {}, '/w/big.ipynb', nb) ?? '');
    assert.equal(outline.cell_count, 25);
    assert.equal(outline.version, 7);
    assert.equal(outline.cells[10].title, 'Section 10');
    assert.match(outline.note, /sidecar is not running/);
    const cell = JSON.parse(answerInProcess('read_cell_smart', { cell_id: 'c3' }, '/w/big.ipynb', nb) ?? '');
    assert.equal(cell.cell.source, 'x3 = 3\nprint(x3)');
    const byIndex = JSON.parse(answerInProcess('read_cell_smart', { index: 4 }, '/w/big.ipynb', nb) ?? '');
    assert.equal(byIndex.cell.id, 'c4');
    const found = JSON.parse(answerInProcess('search_notebook', { query: 'section', cell_type: 'markdown', max_results: 2 }, '/w/big.ipynb', nb) ?? '');
    assert.deepEqual(found.hits.map((x: { cell_id: string }) => x.cell_id), ['m0', 'm10']);
    assert.equal(found.truncated, true);
    const code = JSON.parse(answerInProcess('search_notebook', { query: 'Section', cell_type: 'code' }, '/w/big.ipynb', nb) ?? '');
    assert.deepEqual(code.hits, []);
    assert.equal(answerInProcess('run_cell', {}, '/w/big.ipynb', nb), undefined, 'only reading tools');
    assert.throws(() => answerInProcess('read_cell_smart', {}, '/w/big.ipynb', nb), /cell_id or index/);
    assert.throws(() => answerInProcess('search_notebook', { query: '(', regex: true }, '/w/big.ipynb', nb), NotebookModelError);
    h.close();
  });
});
