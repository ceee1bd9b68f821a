import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StampKey, stampedMetadata } from '../../src/provenance';

describe('stampedMetadata', () => {
  it('sets the stamp in the nbformat metadata and keeps everything else', () => {
    const current = { id: 'c1', execution_count: 3, metadata: { tags: ['x'], [StampKey]: { source_hash: 'old' } } };
    const next = stampedMetadata(current, { source_hash: 'sha256:1', origin: 'human' });
    assert.deepEqual(next, { id: 'c1', execution_count: 3, metadata: { tags: ['x'], [StampKey]: { source_hash: 'sha256:1', origin: 'human' } } });
    assert.deepEqual(current.metadata[StampKey], { source_hash: 'old' }, 'the input is not changed');
  });
  it('works on a cell without metadata', () => {
    assert.deepEqual(stampedMetadata(undefined, { s: 1 }), { metadata: { [StampKey]: { s: 1 } } });
  });
});
