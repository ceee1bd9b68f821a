import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc';
import { ErrorCodes } from '../../src/protocol.gen';
import { kernelStartFailure, notFound } from '../../src/sidecar/errors';

describe('sidecar error data', () => {
  it('reads the install command of a kernel start failure', () => {
    const err = new ResponseError(ErrorCodes.KernelStartFailed, 'no ipykernel', {
      notebookPath: '/w/a.ipynb',
      python: '/w/.venv/bin/python',
      installCommand: '/w/.venv/bin/python -m pip install ipykernel',
    });
    assert.deepEqual(kernelStartFailure(err), {
      notebookPath: '/w/a.ipynb',
      python: '/w/.venv/bin/python',
      installCommand: '/w/.venv/bin/python -m pip install ipykernel',
      stderr: undefined,
    });
  });

  it('gives no data for other codes, plain errors and malformed data', () => {
    assert.equal(kernelStartFailure(new ResponseError(ErrorCodes.NotFound, 'x', { kind: 'kernel', name: '' })), undefined);
    assert.equal(kernelStartFailure(new Error('boom')), undefined);
    assert.equal(kernelStartFailure(new ResponseError(ErrorCodes.KernelStartFailed, 'x', 'not an object')), undefined);
    const odd = kernelStartFailure(new ResponseError(ErrorCodes.KernelStartFailed, 'x', { installCommand: 42 }));
    assert.equal(odd?.installCommand, undefined, 'a non-string command is dropped, never run');
    assert.equal(notFound(new ResponseError(ErrorCodes.NotFound, 'x', { kind: 'unicorn', name: 'n' })), undefined);
  });

  it('reads what was not found', () => {
    assert.deepEqual(notFound(new ResponseError(ErrorCodes.NotFound, 'no kernel', { kind: 'kernel', name: '/w/a.ipynb' })), {
      kind: 'kernel',
      name: '/w/a.ipynb',
    });
  });
});
