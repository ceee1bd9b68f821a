import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EditRefusedError, KeyedQueue, planEdits } from '../../src/edits/plan';
import type { EditOp } from '../../src/protocol.gen';

const op = (o: Partial<EditOp> & Pick<EditOp, 'op'>): EditOp => ({ index: 0, count: 1, toIndex: 0, ...o }) as EditOp;

describe('planEdits', () => {
  it('inserts new cells at a position as one replaceCells of an empty range', () => {
    const plan = planEdits([op({ op: 'insert', index: 1, cells: [{ kind: 'code', language: 'python', source: 'z = 3' }] })], 3);
    assert.deepEqual(plan, { type: 'replaceCells', start: 1, end: 1, cells: [{ fresh: { kind: 'code', language: 'python', source: 'z = 3' } }] });
  });

  it('replaces a source as one cell replacement (one undo step)', () => {
    assert.deepEqual(planEdits([op({ op: 'replaceSource', index: 2, source: 'new' })], 4), {
      type: 'replaceCells',
      start: 2,
      end: 3,
      cells: [{ existing: 2, source: 'new' }],
    });
  });

  it('deletes a range', () => {
    assert.deepEqual(planEdits([op({ op: 'delete', index: 1, count: 2 })], 4), { type: 'replaceCells', start: 1, end: 3, cells: [] });
  });

  it('moves a cell forward and backward over the touched span only', () => {
    assert.deepEqual(planEdits([op({ op: 'move', index: 0, toIndex: 2 })], 4), {
      type: 'replaceCells',
      start: 0,
      end: 3,
      cells: [{ existing: 1 }, { existing: 2 }, { existing: 0 }],
    });
    assert.deepEqual(planEdits([op({ op: 'move', index: 3, toIndex: 1 })], 5), {
      type: 'replaceCells',
      start: 1,
      end: 4,
      cells: [{ existing: 3 }, { existing: 1 }, { existing: 2 }],
    });
    assert.deepEqual(planEdits([op({ op: 'move', index: 1, toIndex: 1 })], 3), { type: 'none' });
  });

  it('applies ops in order, each against the document the previous one left', () => {
    // insert at 0 shifts the old cell 0 to index 1; the replaceSource then targets it.
    const plan = planEdits(
      [op({ op: 'insert', index: 0, cells: [{ kind: 'markdown', language: 'markdown', source: '# h' }] }), op({ op: 'replaceSource', index: 1, source: 'changed' })],
      2,
    );
    assert.deepEqual(plan, {
      type: 'replaceCells',
      start: 0,
      end: 1,
      cells: [{ fresh: { kind: 'markdown', language: 'markdown', source: '# h' } }, { existing: 0, source: 'changed' }],
    });
  });

  it('keeps a metadata-only batch as metadata updates', () => {
    assert.deepEqual(planEdits([op({ op: 'setMetadata', index: 1, metadata: { tags: ['a'] } })], 2), {
      type: 'metadata',
      updates: [{ index: 1, metadata: { tags: ['a'] } }],
    });
  });

  it('clears outputs and changes types', () => {
    assert.deepEqual(planEdits([op({ op: 'clearOutputs', index: 0, count: 2 })], 2), {
      type: 'replaceCells',
      start: 0,
      end: 2,
      cells: [{ existing: 0, clearOutputs: true }, { existing: 1, clearOutputs: true }],
    });
    assert.deepEqual(planEdits([op({ op: 'changeType', index: 0, cells: [{ kind: 'markdown', language: 'markdown', source: '' }] })], 1), {
      type: 'replaceCells',
      start: 0,
      end: 1,
      cells: [{ existing: 0, kind: 'markdown', language: 'markdown', clearOutputs: true }],
    });
  });

  const refused: [string, EditOp[], number, RegExp][] = [
    ['no edits', [], 2, /no edits/],
    ['insert past the end', [op({ op: 'insert', index: 3, cells: [{ kind: 'code', language: 'python', source: '' }] })], 2, /out of range 0\.\.2/],
    ['insert without cells', [op({ op: 'insert', index: 0 })], 2, /without cells/],
    ['unknown kind', [op({ op: 'insert', index: 0, cells: [{ kind: 'sql' as 'code', language: 'python', source: '' }] })], 2, /unknown cell kind/],
    ['delete past the end', [op({ op: 'delete', index: 1, count: 2 })], 2, /out of range/],
    ['replace a deleted index', [op({ op: 'delete', index: 1 }), op({ op: 'replaceSource', index: 1, source: 'x' })], 2, /edit 1: .*out of range/],
    ['move target too far', [op({ op: 'move', index: 0, toIndex: 2 })], 2, /move target/],
    ['fractional index', [op({ op: 'delete', index: 0.5 })], 2, /integer/],
    ['unknown op', [op({ op: 'explode' as 'insert' })], 2, /unknown op/],
  ];
  for (const [name, ops, count, re] of refused) {
    it(`refuses ${name}`, () => {
      assert.throws(() => planEdits(ops, count), (err: unknown) => err instanceof EditRefusedError && re.test(err.message));
    });
  }
});

describe('KeyedQueue', () => {
  it('runs jobs of one key one at a time, in order, and keys independently', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    let releaseA!: () => void;
    const gateA = new Promise<void>((r) => (releaseA = r));
    const a1 = q.run('a', async () => {
      log.push('a1 start');
      await gateA;
      log.push('a1 end');
      return 1;
    });
    const a2 = q.run('a', async () => {
      log.push('a2');
      return 2;
    });
    const b1 = q.run('b', async () => {
      log.push('b1');
      return 3;
    });
    assert.equal(await b1, 3);
    assert.deepEqual(log, ['a1 start', 'b1']);
    releaseA();
    assert.deepEqual(await Promise.all([a1, a2]), [1, 2]);
    assert.deepEqual(log, ['a1 start', 'b1', 'a1 end', 'a2']);
  });

  it('keeps going after a failed job', async () => {
    const q = new KeyedQueue();
    const failed = q.run('a', async () => {
      throw new Error('boom');
    });
    await assert.rejects(failed, /boom/);
    assert.equal(await q.run('a', async () => 'ok'), 'ok');
  });
});
