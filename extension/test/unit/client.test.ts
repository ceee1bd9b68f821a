import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RequestType } from 'vscode-jsonrpc';
import { EditorSnapshotRequest, ExecutionOutputNotification, ExecutionOutputParams, PROTOCOL_HASH } from '../../src/protocol.gen';
import { ExitInfo, Logger, RestartBudget, SidecarClient } from '../../src/sidecar/client';

// Test-only methods of the fake sidecar (extension/test/fixtures/fake-sidecar.js).
const Echo = new RequestType<unknown, unknown, void>('test/echo');
const Crash = new RequestType<unknown, unknown, void>('test/crash');
const AskSnapshot = new RequestType<{ notebookPath: string }, unknown, void>('test/askSnapshot');
const Notify = new RequestType<unknown, null, void>('test/notify');

// Compiled to out/test/unit; the fixture stays in the source tree.
const fake = path.resolve(__dirname, '..', '..', '..', 'extension', 'test', 'fixtures', 'fake-sidecar.js');

function client(mode: string, lines: string[] = [], maxRestarts = 2) {
  const logger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, sidecar: (l) => lines.push(l) };
  return new SidecarClient({
    resolveBinary: async () => process.execPath,
    args: [fake, 'serve'],
    env: { ...process.env, FAKE_MODE: mode, NODE_PATH: path.resolve(__dirname, '..', '..', '..', 'node_modules') },
    logger,
    initializeParams: () => ({ clientName: 'test', clientVersion: '0', workspaceFolders: [], protocolHash: PROTOCOL_HASH }),
    maxRestarts,
    restartDelayMs: 10,
  });
}

function nextEvent<T>(subscribe: (l: (v: T) => void) => { dispose(): void }): Promise<T> {
  return new Promise((resolve) => {
    const d = subscribe((v) => {
      d.dispose();
      resolve(v);
    });
  });
}

describe('RestartBudget', () => {
  it('allows max restarts per window', () => {
    const b = new RestartBudget(2, 1000);
    assert.equal(b.take(0), true);
    assert.equal(b.take(10), true);
    assert.equal(b.take(20), false);
    assert.equal(b.take(1005), true, 'the first restart left the window');
  });
});

describe('SidecarClient', () => {
  it('initializes, answers requests, pipes stderr lines and serves reverse requests', async () => {
    const lines: string[] = [];
    const c = client('ok', lines);
    c.onRequest(EditorSnapshotRequest, (p) => ({ uri: 'file://' + p.notebookPath, path: p.notebookPath, version: 3, cells: [] }));
    const outputs: ExecutionOutputParams[] = [];
    c.onNotification(ExecutionOutputNotification, (p) => outputs.push(p));
    await c.start();
    assert.deepEqual(c.initializeResult, { sidecarVersion: 'fake', protocolHash: PROTOCOL_HASH, attachSocket: '' });
    assert.deepEqual(await c.request(Echo, { a: 1 }), { a: 1 });
    assert.deepEqual(await c.request(AskSnapshot, { notebookPath: '/x.ipynb' }), {
      uri: 'file:///x.ipynb',
      path: '/x.ipynb',
      version: 3,
      cells: [],
    });
    await c.request(Notify, { seq: 1 });
    await c.request(Echo, {}); // notifications are delivered in order before later replies
    assert.deepEqual(outputs, [{ seq: 1 }]);
    assert.match(lines.join('\n'), /fake sidecar \d+ up \(ok\)\nsecond line/);
    const exit = nextEvent<ExitInfo>(c.onDidExit);
    await c.dispose();
    assert.equal((await exit).expected, true);
  });

  it('restarts after a crash with a new process and reports the lost one', async () => {
    const c = client('ok');
    await c.start();
    const first = c.pid;
    const exit = nextEvent<ExitInfo>(c.onDidExit);
    const restarted = nextEvent<{ pid: number }>(c.onDidStart);
    await assert.rejects(c.request(Crash, {}));
    const info = await exit;
    assert.equal(info.expected, false);
    assert.equal(info.willRestart, true);
    assert.equal(info.code, 7);
    const again = await restarted;
    assert.notEqual(again.pid, first);
    assert.deepEqual(await c.request(Echo, { v: 'alive' }), { v: 'alive' });
    await c.dispose();
  });

  it('gives up when the restart budget is spent and offers a manual restart', async () => {
    const c = client('ok', [], 1);
    await c.start();
    const restarted = nextEvent(c.onDidStart);
    await assert.rejects(c.request(Crash, {}));
    await restarted;
    const failed = nextEvent<string>(c.onDidFail);
    await assert.rejects(c.request(Crash, {}));
    assert.match(await failed, /restart budget is spent/);
    await assert.rejects(c.request(Echo, {}), /Restart Sidecar/);
    await c.restart();
    assert.deepEqual(await c.request(Echo, { v: 'back' }), { v: 'back' });
    await c.dispose();
  });

  it('stops a sidecar that refuses initialize and says why on every request', async () => {
    const c = client('bad-init', [], 3);
    const failed = nextEvent<string>(c.onDidFail);
    await assert.rejects(c.start(), /refused initialize: protocol mismatch/);
    assert.match(await failed, /protocol mismatch/);
    assert.equal(c.pid, undefined);
    await assert.rejects(c.request(Echo, {}), /not running \(the sidecar refused initialize: protocol mismatch.*Restart Sidecar/);
    await c.dispose();
  });

  it('fails start with the exit status when the binary dies at once', async () => {
    const c = client('die-at-start', [], 0);
    await assert.rejects(c.start(), /exited during start \(code 3/);
    await c.dispose();
  });
});
