// The sidecar process and its JSON-RPC connection. This module (with
// binary.ts) is the only place that spawns processes or imports
// vscode-jsonrpc; it has no vscode import so unit tests can drive it with a
// fake sidecar.

import { ChildProcess, spawn } from 'node:child_process';
import {
  CancellationToken,
  createMessageConnection,
  Disposable,
  MessageConnection,
  NotificationType,
  ParameterStructures,
  RequestType,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import { InitializeParams, InitializeRequest, InitializeResult, ShutdownRequest } from '../protocol.gen';

/** Where the client logs its own events and the sidecar's stderr. */
export interface Logger {
  /** Logs progress. */
  info(msg: string): void;
  /** Logs a problem that was handled. */
  warn(msg: string): void;
  /** Logs a failure. */
  error(msg: string): void;
  /** Raw sidecar stderr lines. */
  sidecar(line: string): void;
}

/** How to start the sidecar and how often to restart it after a crash. */
export interface SidecarOptions {
  /** Resolves the binary (and checks it) on every (re)start. */
  resolveBinary: () => Promise<string>;
  /** The sidecar's arguments, read at every (re)start (default `serve`). */
  args?: string[] | (() => string[]);
  /** Working directory of the process. */
  cwd?: string;
  /** Environment of the process (default: the extension host's). */
  env?: NodeJS.ProcessEnv;
  /** Where to log. */
  logger: Logger;
  /** The params of the initialize request, computed at each start. */
  initializeParams: () => InitializeParams;
  /** Crashes tolerated within restartWindowMs before giving up. */
  maxRestarts?: number;
  /** The window of maxRestarts (default 60 s). */
  restartWindowMs?: number;
  /** Delay before a restart after a crash (default 300 ms). */
  restartDelayMs?: number;
}

/** How the sidecar process ended. */
export interface ExitInfo {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, if any. */
  signal: NodeJS.Signals | null;
  /** True when we stopped it (shutdown, dispose). */
  expected: boolean;
  /** True when the client restarts it (an unexpected exit within the budget). */
  willRestart: boolean;
}

type Listener<T> = (v: T) => void;

/** A minimal event emitter (no vscode import, so unit tests run under plain Node). */
export class Emitter<T> {
  private listeners = new Set<Listener<T>>();
  /** Subscribes a listener; dispose the result to unsubscribe. */
  event = (l: Listener<T>): Disposable => {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  };
  /** Calls every listener with v; a throwing listener does not stop the others. */
  fire(v: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(v);
      } catch {
        // A listener's failure must not stop the others.
      }
    }
  }
}

/** Allows at most max events within windowMs. */
export class RestartBudget {
  private times: number[] = [];
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}
  /** Takes one event from the budget; false when it is spent. */
  take(now = Date.now()): boolean {
    this.times = this.times.filter((t) => now - t < this.windowMs);
    if (this.times.length >= this.max) return false;
    this.times.push(now);
    return true;
  }
  /** Forgets past events (a manual restart). */
  reset(): void {
    this.times = [];
  }
}

/** Thrown by requests while the sidecar is not running and cannot be started. */
export class SidecarNotRunningError extends Error {}

type State = 'stopped' | 'starting' | 'running' | 'failed' | 'disposed';

/** A request handler registration, replayed on each new connection. */
type Registration = (conn: MessageConnection) => void;

/**
 * The sidecar process and its connection: starts it on demand, restarts it
 * within a budget after a crash, and speaks the generated protocol (requests
 * and handlers take the method objects of protocol.gen.ts, so params and
 * results are typed).
 */
export class SidecarClient {
  private proc: ChildProcess | undefined;
  private conn: MessageConnection | undefined;
  private starting: Promise<void> | undefined;
  private state: State = 'stopped';
  private stopping = false;
  private readonly budget: RestartBudget;
  private readonly handlers = new Map<string, Registration>();
  private readonly startedEmitter = new Emitter<{ pid: number; initialize: InitializeResult }>();
  private readonly exitEmitter = new Emitter<ExitInfo>();
  private readonly failedEmitter = new Emitter<string>();
  /** Fired after each successful start and initialize. */
  readonly onDidStart = this.startedEmitter.event;
  /** Fired when the process exits; in-flight work of that process is lost. */
  readonly onDidExit = this.exitEmitter.event;
  /** Fired when the restart budget is spent; a person must restart it. */
  readonly onDidFail = this.failedEmitter.event;
  /** The sidecar's answer to initialize, once running. */
  initializeResult: InitializeResult | undefined;
  /** Why the sidecar is in the failed state, for error messages. */
  private lastFailure = '';

  constructor(private readonly opts: SidecarOptions) {
    this.budget = new RestartBudget(opts.maxRestarts ?? 3, opts.restartWindowMs ?? 60_000);
  }

  /** The running sidecar's process id. */
  get pid(): number | undefined {
    return this.state === 'running' ? this.proc?.pid : undefined;
  }

  /** Whether the sidecar is running and initialized. */
  get running(): boolean {
    return this.state === 'running';
  }

  /** Handles a sidecar → extension notification (one handler per method, kept across restarts). */
  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): void {
    const reg: Registration = (conn) => conn.onNotification(type, handler);
    this.handlers.set(type.method, reg);
    if (this.conn) reg(this.conn);
  }

  /** Serves a sidecar → extension request (one handler per method, kept across restarts). */
  onRequest<P, R>(type: RequestType<P, R, void>, handler: (params: P, token: CancellationToken) => R | Promise<R>): void {
    const reg: Registration = (conn) => conn.onRequest(type, handler);
    this.handlers.set(type.method, reg);
    if (this.conn) reg(this.conn);
  }

  /** Starts the sidecar if it is not running (also after a failure: a manual restart). */
  start(): Promise<void> {
    if (this.state === 'disposed') return Promise.reject(new SidecarNotRunningError('the extension is shutting down'));
    if (this.state === 'running') return Promise.resolve();
    if (!this.starting) {
      this.state = 'starting';
      this.starting = this.spawnAndInitialize().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  /** Manual restart (the Restart button): a fresh budget and a fresh process. */
  async restart(): Promise<void> {
    this.budget.reset();
    await this.stop();
    if (this.state !== 'disposed') this.state = 'stopped';
    await this.start();
  }

  /** Sends a request, starting the sidecar first if needed. */
  async request<P, R>(type: RequestType<P, R, void>, params: P, token?: CancellationToken): Promise<R> {
    if (this.state === 'failed') {
      throw new SidecarNotRunningError(
        `the MCP Jupyter sidecar is not running (${this.lastFailure}); fix that, then run "MCP Jupyter: Restart Sidecar"`,
      );
    }
    await this.start();
    const conn = this.conn;
    if (!conn) throw new SidecarNotRunningError('the MCP Jupyter sidecar is not running');
    // A method object made by another copy of vscode-jsonrpc (a test bundle's) carries a foreign
    // ParameterStructures instance this copy does not recognise: rebuild it with this copy's.
    const own =
      type.parameterStructures === ParameterStructures.byName ||
      type.parameterStructures === ParameterStructures.byPosition ||
      type.parameterStructures === ParameterStructures.auto
        ? type
        : new RequestType<P, R, void>(type.method, String(type.parameterStructures) === 'byName' ? ParameterStructures.byName : ParameterStructures.auto);
    return token ? conn.sendRequest(own, params, token) : conn.sendRequest(own, params);
  }

  private async spawnAndInitialize(): Promise<void> {
    const log = this.opts.logger;
    let bin: string;
    try {
      bin = await this.opts.resolveBinary();
    } catch (err) {
      this.state = 'failed';
      const msg = err instanceof Error ? err.message : String(err);
      this.lastFailure = msg;
      this.failedEmitter.fire(msg);
      throw err;
    }
    const args = (typeof this.opts.args === 'function' ? this.opts.args() : this.opts.args) ?? ['serve'];
    log.info(`starting ${bin} ${args.join(' ')}`);
    const proc = spawn(bin, args, {
      cwd: this.opts.cwd,
      env: this.opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    this.proc = proc;
    let stderrBuf = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      stderrBuf += chunk;
      let nl: number;
      while ((nl = stderrBuf.indexOf('\n')) >= 0) {
        log.sidecar(stderrBuf.slice(0, nl));
        stderrBuf = stderrBuf.slice(nl + 1);
      }
    });
    const spawned = new Promise<void>((resolve, reject) => {
      proc.once('spawn', resolve);
      proc.once('error', reject);
    });
    const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    for (const reg of this.handlers.values()) reg(conn);
    conn.onError(([err]) => log.warn(`sidecar connection error: ${err.message}`));
    this.conn = conn;
    conn.listen();

    const exited = new Promise<never>((_, reject) => {
      proc.once('exit', (code, signal) => {
        if (stderrBuf) log.sidecar(stderrBuf);
        reject(new Error(`the sidecar exited during start (code ${code}, signal ${signal})`));
      });
    });
    exited.catch(() => undefined);
    proc.once('exit', (code, signal) => this.handleExit(proc, conn, code, signal));

    let init: InitializeResult;
    try {
      await Promise.race([spawned, exited]);
      init = await Promise.race([conn.sendRequest(InitializeRequest, this.opts.initializeParams()), exited]);
    } catch (err) {
      if (this.proc === proc && proc.exitCode === null && proc.signalCode === null) {
        // Alive but unusable (e.g. a protocol mismatch): end it; restarting would fail the same way.
        const msg = `the sidecar refused initialize: ${err instanceof Error ? err.message : String(err)}`;
        log.error(msg);
        this.stopping = true;
        const gone = new Promise<void>((r) => proc.once('exit', () => r()));
        proc.kill('SIGTERM');
        await gone;
        this.stopping = false;
        this.state = 'failed';
        this.lastFailure = msg;
        this.failedEmitter.fire(msg);
        throw new SidecarNotRunningError(msg);
      }
      throw err;
    }
    this.initializeResult = init;
    if (this.proc !== proc) throw new SidecarNotRunningError('the sidecar was stopped during start');
    this.state = 'running';
    log.info(`sidecar running (pid ${proc.pid})`);
    this.startedEmitter.fire({ pid: proc.pid ?? -1, initialize: init });
  }

  private handleExit(proc: ChildProcess, conn: MessageConnection, code: number | null, signal: NodeJS.Signals | null) {
    conn.dispose();
    if (this.proc !== proc) return;
    this.proc = undefined;
    this.conn = undefined;
    const expected = this.stopping || this.state === 'disposed';
    const log = this.opts.logger;
    let willRestart = false;
    if (!expected) {
      log.error(`sidecar exited unexpectedly (code ${code}, signal ${signal})`);
      willRestart = this.budget.take();
      this.state = willRestart ? 'stopped' : 'failed';
    } else if (this.state !== 'disposed') {
      this.state = 'stopped';
    }
    this.exitEmitter.fire({ code, signal, expected, willRestart });
    if (willRestart) {
      setTimeout(() => {
        if (this.state === 'stopped') {
          this.start().catch((err: unknown) => log.error(`sidecar restart failed: ${String(err)}`));
        }
      }, this.opts.restartDelayMs ?? 300);
    } else if (!expected) {
      this.lastFailure = `it exited (code ${code}, signal ${signal}) and its restart budget is spent`;
      this.failedEmitter.fire(`the sidecar exited (code ${code}, signal ${signal}) and its restart budget is spent`);
    }
  }

  /** Asks the sidecar to shut down, then ends it; resolves when it is gone. */
  async stop(timeoutMs = 5000): Promise<void> {
    const proc = this.proc;
    const conn = this.conn;
    if (!proc) return;
    this.stopping = true;
    try {
      const gone = new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) resolve();
        else proc.once('exit', () => resolve());
      });
      if (conn && this.state === 'running') {
        await Promise.race([
          conn.sendRequest(ShutdownRequest, {}).catch(() => undefined),
          new Promise((r) => setTimeout(r, timeoutMs / 2)),
        ]);
      }
      proc.stdin?.end();
      const timer = setTimeout(() => proc.kill('SIGTERM'), timeoutMs / 2);
      const hard = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await gone;
      clearTimeout(timer);
      clearTimeout(hard);
    } finally {
      this.stopping = false;
    }
  }

  /** Stops the sidecar for good (extension deactivation). */
  async dispose(): Promise<void> {
    await this.stop();
    this.state = 'disposed';
  }
}
