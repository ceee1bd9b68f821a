import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSnapshot, savedEnvironmentOf, withSavedEnvironment } from '../../src/snapshot';

describe('buildSnapshot', () => {
  it('reads ids, kinds, languages, unsaved text and nbformat metadata the way the ipynb serializer stores them', () => {
    const snap = buildSnapshot({
      uri: 'file:///w/a.ipynb',
      path: '/w/a.ipynb',
      version: 4,
      metadata: { nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'python3' } } },
      cells: [
        { kind: 1, languageId: 'markdown', text: '# Title', metadata: { id: 'md1', metadata: { tags: ['x'] } } },
        { kind: 2, languageId: 'python', text: 'x = 1  # unsaved', metadata: { id: 'c1', execution_count: 3, metadata: {} }, executionOrder: 5 },
        { kind: 2, languageId: 'raw', text: 'raw text', metadata: { id: 'r1' } },
        { kind: 2, languageId: 'python', text: 'y', metadata: { execution_count: 2 } },
        { kind: 2, languageId: 'python', text: 'old', metadata: { custom: { id: 'legacy', metadata: { collapsed: true } } } },
      ],
    });
    assert.equal(snap.version, 4);
    assert.deepEqual(snap.metadata, { kernelspec: { name: 'python3' } });
    assert.deepEqual(
      (snap.cells ?? []).map((c) => [c.id, c.kind, c.language, c.source, c.executionCount]),
      [
        ['md1', 'markdown', 'markdown', '# Title', null],
        ['c1', 'code', 'python', 'x = 1  # unsaved', 5],
        ['r1', 'raw', 'raw', 'raw text', null],
        ['', 'code', 'python', 'y', 2],
        ['legacy', 'code', 'python', 'old', null],
      ],
    );
    assert.deepEqual(snap.cells?.[0].metadata, { tags: ['x'] });
    assert.deepEqual(snap.cells?.[4].metadata, { collapsed: true });
  });
});

describe('saved environment', () => {
  it('round-trips through the notebook metadata without losing other keys', () => {
    const doc = { cells: [], nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'python3' } } };
    assert.equal(savedEnvironmentOf(doc), undefined);
    const next = withSavedEnvironment(doc, { type: 'venv', path: '/w/.venv', name: '.venv' });
    assert.deepEqual(savedEnvironmentOf(next), { type: 'venv', path: '/w/.venv', name: '.venv' });
    assert.deepEqual((next.metadata as Record<string, unknown>).kernelspec, { name: 'python3' });
    assert.deepEqual((next.metadata as Record<string, unknown>)['mcp-jupyter'], {
      environment: { type: 'venv', path: '/w/.venv', name: '.venv' },
    });
    assert.equal(savedEnvironmentOf(doc), undefined, 'the input is not mutated');
  });

  it('ignores an environment without a path', () => {
    assert.equal(savedEnvironmentOf({ metadata: { 'mcp-jupyter': { environment: { type: 'venv' } } } }), undefined);
  });
});
