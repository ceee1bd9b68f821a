import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorMime, mapOutput, OutputList, PlotlyMime, StderrMime, StdoutMime } from '../../src/kernel/outputs';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('mapOutput', () => {
  it('maps streams to the stdout/stderr MIME types, joining line lists', () => {
    const out = mapOutput({ output_type: 'stream', name: 'stdout', text: ['a\n', 'b\n'] });
    assert.deepEqual(out.items.map((i) => i.mime), [StdoutMime]);
    assert.equal(text(out.items[0].data), 'a\nb\n');
    assert.equal(out.metadata.outputType, 'stream');
    const err = mapOutput({ output_type: 'stream', name: 'stderr', text: 'oops' });
    assert.equal(err.items[0].mime, StderrMime);
  });

  it('maps errors to the error MIME type with the traceback as stack', () => {
    const out = mapOutput({ output_type: 'error', ename: 'ZeroDivisionError', evalue: 'division by zero', traceback: ['l1', 'l2'] });
    assert.equal(out.items[0].mime, ErrorMime);
    assert.deepEqual(JSON.parse(text(out.items[0].data)), { name: 'ZeroDivisionError', message: 'division by zero', stack: 'l1\nl2' });
  });

  it('decodes base64 images to their bytes', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const out = mapOutput({ output_type: 'display_data', data: { 'image/png': png.toString('base64') + '\n', 'text/plain': '<Figure>' } });
    assert.deepEqual(out.items.map((i) => i.mime), ['image/png', 'text/plain']);
    assert.deepEqual(Buffer.from(out.items[0].data), png);
  });

  it('keeps plotly JSON together with its html and png fallbacks, richest first', () => {
    const fig = { data: [{ type: 'scatter', x: [1, 2], y: [3, 4] }], layout: {} };
    const out = mapOutput({
      output_type: 'display_data',
      data: { 'text/plain': 'Figure', 'image/png': 'AAAA', 'text/html': '<div>plot</div>', [PlotlyMime]: fig },
      metadata: {},
    });
    assert.deepEqual(out.items.map((i) => i.mime), [PlotlyMime, 'text/html', 'image/png', 'text/plain']);
    assert.deepEqual(JSON.parse(text(out.items[0].data)), fig);
  });

  it('serializes application/json values and keeps execute_result metadata for the ipynb serializer', () => {
    const out = mapOutput({
      output_type: 'execute_result',
      execution_count: 7,
      data: { 'application/json': { a: [1, 2] }, 'text/plain': ['{', "'a': [1, 2]}"] },
      metadata: { isolated: true },
    });
    assert.deepEqual(JSON.parse(text(out.items[0].data)), { a: [1, 2] });
    assert.equal(text(out.items[1].data), "{'a': [1, 2]}");
    assert.deepEqual(out.metadata, { outputType: 'execute_result', executionCount: 7, metadata: { isolated: true } });
  });

  it('keeps svg as text', () => {
    const out = mapOutput({ output_type: 'display_data', data: { 'image/svg+xml': ['<svg>', '</svg>'] } });
    assert.equal(text(out.items[0].data), '<svg></svg>');
  });
});

describe('OutputList', () => {
  it('applies append, appendText, replace and clear in order', () => {
    const l = new OutputList();
    assert.deepEqual(l.apply({ seq: 1, kind: 'append', index: 0, output: { output_type: 'stream', name: 'stdout', text: 'a' } }), { type: 'append', index: 0 });
    assert.deepEqual(l.apply({ seq: 2, kind: 'appendText', index: 0, name: 'stdout', text: 'b' }), { type: 'update', index: 0 });
    assert.deepEqual(l.apply({ seq: 3, kind: 'append', index: 1, output: { output_type: 'display_data', data: { 'text/plain': 'x' } } }), { type: 'append', index: 1 });
    assert.deepEqual(l.apply({ seq: 4, kind: 'replace', index: 1, output: { output_type: 'display_data', data: { 'text/plain': 'y' } } }), { type: 'update', index: 1 });
    assert.deepEqual(l.outputs, [
      { output_type: 'stream', name: 'stdout', text: 'ab' },
      { output_type: 'display_data', data: { 'text/plain': 'y' } },
    ]);
    assert.deepEqual(l.apply({ seq: 5, kind: 'clear' }), { type: 'clear' });
    assert.equal(l.outputs.length, 0);
  });

  it('ignores a repeated seq and a replace of a missing output', () => {
    const l = new OutputList();
    l.apply({ seq: 1, kind: 'append', output: { output_type: 'stream', name: 'stdout', text: 'a' } });
    assert.equal(l.apply({ seq: 1, kind: 'append', output: { output_type: 'stream', name: 'stdout', text: 'a' } }).type, 'none');
    assert.equal(l.apply({ seq: 2, kind: 'replace', index: 5, output: { output_type: 'display_data', data: {} } }).type, 'none');
    assert.equal(l.outputs.length, 1);
  });

  it('does not alias the op output (appendText must not change the sender object)', () => {
    const l = new OutputList();
    const first = { output_type: 'stream' as const, name: 'stdout', text: 'a' };
    l.apply({ kind: 'append', output: first });
    l.apply({ kind: 'appendText', index: 0, text: 'b' });
    assert.equal(first.text, 'a');
  });

  it('refuses an output that is not an nbformat output and an unknown op kind, with the reason', () => {
    const l = new OutputList();
    assert.deepEqual(l.apply({ kind: 'append', output: 'not an output' }), { type: 'none', reason: 'append without an nbformat output' });
    assert.deepEqual(l.apply({ kind: 'append', output: { data: {} } }), { type: 'none', reason: 'append without an nbformat output' });
    const bogus = JSON.parse('{"kind": "explode"}');
    assert.deepEqual(l.apply(bogus), { type: 'none', reason: 'unknown op kind explode' });
    assert.equal(l.outputs.length, 0);
  });
});
