// The "MCP Agent Kernel" NotebookController: runs the buffer's code through
// the sidecar and renders the outputs it pushes (never polls). Runs an agent
// started show in their cell too.

import * as vscode from 'vscode';
import { captureSnapshot, findNotebook, normalizePath, NotebookType } from '../notebooks';
import type { SidecarClient } from '../sidecar/client';
import { kernelStartFailure, notFound } from '../sidecar/errors';
import { savedEnvironmentOf } from '../snapshot';
import { cellIdOf } from '../snapshot';
import type { NbOutput } from '../nbformat';
import { stampedMetadata } from '../provenance';
import {
  ExecStatus,
  ExecutionCancelRequest,
  ExecutionOutputNotification,
  ExecutionOutputParams,
  ExecutionRunRequest,
  ExecutionStateNotification,
  ExecutionStateParams,
  KernelInfo,
  KernelInterruptRequest,
  KernelStartParams,
  KernelStartRequest,
  KernelStatusChangedNotification,
  Origin,
  StdinRequestParams,
  StdinRequestRequest,
  StdinRequestResult,
} from '../protocol.gen';
import { mapOutput, OutputList } from './outputs';

/** The NotebookController id. */
export const ControllerId = 'mcp-jupyter-kernel';
/** The NotebookController label in the kernel picker. */
export const ControllerLabel = 'MCP Agent Kernel';

interface Run {
  id: string;
  notebookPath: string;
  cell: vscode.NotebookCell;
  origin: Origin;
  exec: vscode.NotebookCellExecution | undefined;
  outputs: OutputList;
  rendered: vscode.NotebookCellOutput[];
  started: boolean;
  ended: boolean;
}

/** Notifications for an execution id we do not know yet (the run reply may come after them). */
interface Pending {
  outputs: ExecutionOutputParams[];
  states: ExecutionStateParams[];
  at: number;
}

const terminal = new Set<ExecStatus>(['ok', 'error', 'aborted', 'cancelled', 'timeout', 'dead']);

/** An RFC 3339 time as epoch milliseconds; undefined when empty or unparsable. */
function toMs(v: string | undefined): number | undefined {
  if (v) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/** Output calls fail once the notebook is closed; nothing is left to show then. */
function quiet(p: Thenable<void>): void {
  p.then(undefined, () => undefined);
}

/** Runs a command line in a new terminal, shown, so the person sees exactly what runs and its output. */
function runInTerminal(name: string, command: string): void {
  const term = vscode.window.createTerminal({ name });
  term.show();
  term.sendText(command);
}

/** One nbformat output as a VS Code cell output. */
export function toCellOutput(out: NbOutput): vscode.NotebookCellOutput {
  const mapped = mapOutput(out);
  return new vscode.NotebookCellOutput(
    mapped.items.map((i) => new vscode.NotebookCellOutputItem(i.data, i.mime)),
    mapped.metadata as unknown as Record<string, unknown>,
  );
}

/** A Python environment to start a kernel in (the protocol's EnvironmentRef). */
export type EnvironmentChoice = NonNullable<KernelStartParams['environment']>;

/** Why a cell does not run in Restricted Mode. */
export const RestrictedModeMessage =
  'This folder is in Restricted Mode: MCP Jupyter runs no kernel until you trust it (reading tools still work).';

/** The "MCP Agent Kernel" notebook controller (see the file comment). */
export class KernelController implements vscode.Disposable {
  /** The VS Code notebook controller. */
  readonly controller: vscode.NotebookController;
  private readonly runs = new Map<string, Run>();
  private readonly pending = new Map<string, Pending>();
  private readonly kernels = new Map<string, Promise<KernelInfo>>();
  /** Runs waiting for their cell's current execution to end (one execution per cell at a time). */
  private readonly waitingForCell = new Map<vscode.NotebookCell, Run[]>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly statusByCell = new WeakMap<vscode.NotebookCell, ExecStatus>();
  private readonly used = new Set<string>();
  /** Stamps of finished human runs, written when the notebook is saved (no undo step at run end). */
  private readonly stamps = new RunStamps();
  /** Time of the last Run Cell click and of the first output after it (for the benchmark). */
  lastRunTiming: { clickedAt: number; firstOutputAt?: number } | undefined;

  constructor(
    private readonly sidecar: SidecarClient,
    private readonly log: vscode.LogOutputChannel,
    private readonly defaultEnvironment: () => EnvironmentChoice | undefined,
  ) {
    this.controller = vscode.notebooks.createNotebookController(ControllerId, NotebookType, ControllerLabel);
    this.controller.description = 'kernel shared with AI agents (MCP)';
    this.controller.supportedLanguages = ['python'];
    this.controller.supportsExecutionOrder = true;
    this.controller.executeHandler = (cells, notebook) => this.execute(cells, notebook);
    this.controller.interruptHandler = (notebook) => this.interrupt(notebook);
    this.disposables.push(this.controller, this.stamps);

    sidecar.onNotification(ExecutionOutputNotification, (p) => this.onOutput(p));
    sidecar.onNotification(ExecutionStateNotification, (p) => this.onState(p));
    sidecar.onNotification(KernelStatusChangedNotification, ({ notebookPath, status }) => {
      this.log.info(`kernel ${status}: ${notebookPath}`);
      if (status === 'dead') this.kernels.delete(normalizePath(notebookPath));
    });
    sidecar.onRequest(StdinRequestRequest, (p) => this.onStdin(p));
    this.disposables.push(
      sidecar.onDidExit((info) => {
        // The kernels were children of that sidecar: their runs are lost and
        // must show as failed; nothing is re-run behind the user's back.
        this.kernels.clear();
        const why = `The MCP Jupyter sidecar stopped (exit code ${info.code}, signal ${info.signal}); this cell did not finish and was not re-run.`;
        for (const run of [...this.runs.values()]) this.failRun(run, why);
        this.pending.clear();
      }),
    );
  }

  /** Starts (or reuses) the notebook's kernel with its saved environment. */
  ensureKernel(doc: vscode.NotebookDocument, force = false): Promise<KernelInfo> {
    const key = normalizePath(doc.uri.fsPath);
    let p = force ? undefined : this.kernels.get(key);
    if (!p) {
      const saved = savedEnvironmentOf(doc.metadata as Record<string, unknown>);
      const env = saved ? { kind: saved.type, path: saved.path } : this.defaultEnvironment();
      const params: KernelStartParams = { notebookPath: doc.uri.fsPath };
      if (env) params.environment = env;
      this.log.info(`starting kernel for ${doc.uri.fsPath}${env ? ` in ${env.path}` : ''}`);
      p = this.sidecar.request(KernelStartRequest, params);
      this.kernels.set(key, p);
      p.catch(() => {
        if (this.kernels.get(key) === p) this.kernels.delete(key);
      });
    }
    return p;
  }

  /** Whether this kernel ran code for the notebook in this window. */
  usedIn(doc: vscode.NotebookDocument): boolean {
    return this.used.has(normalizePath(doc.uri.fsPath));
  }

  /** Forget the kernel (after a stop or an environment change) so the next run starts one. */
  forgetKernel(notebookPath: string): void {
    this.kernels.delete(normalizePath(notebookPath));
  }

  private async execute(cells: vscode.NotebookCell[], notebook: vscode.NotebookDocument): Promise<void> {
    this.lastRunTiming = { clickedAt: Date.now() };
    const runs: Run[] = [];
    for (const cell of cells) {
      if (cell.kind !== vscode.NotebookCellKind.Code) continue;
      let exec: vscode.NotebookCellExecution;
      try {
        exec = this.controller.createNotebookCellExecution(cell);
      } catch (err) {
        // E.g. an agent's run of this cell is still showing: skip it, run the others.
        this.log.warn(`cell ${cell.index} not run: ${(err as Error).message}`);
        continue;
      }
      runs.push({
        id: '',
        notebookPath: notebook.uri.fsPath,
        cell,
        origin: 'human',
        exec,
        outputs: new OutputList(),
        rendered: [],
        started: false,
        ended: false,
      });
    }
    if (runs.length === 0) return;
    if (!vscode.workspace.isTrusted) {
      // Restricted Mode: no code from an untrusted folder runs, nor any of its Python environments.
      for (const run of runs) this.failRun(run, RestrictedModeMessage);
      void vscode.window.showWarningMessage(RestrictedModeMessage, 'Manage Workspace Trust').then(
        (pick) => pick && vscode.commands.executeCommand('workbench.trust.manage'),
      );
      return;
    }
    try {
      await this.ensureKernel(notebook);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      // A missing ipykernel: offer the exact command the sidecar names, in a terminal the person sees.
      const install = kernelStartFailure(err)?.installCommand;
      const actions = install ? ['Install ipykernel', 'Select Environment'] : ['Select Environment'];
      void vscode.window.showErrorMessage(`MCP Agent Kernel could not start a kernel: ${msg}`, ...actions).then((pick) => {
        if (pick === 'Select Environment') void vscode.commands.executeCommand('mcp-jupyter.selectEnvironment');
        if (pick === 'Install ipykernel' && install) runInTerminal('Install ipykernel', install);
      });
      for (const run of runs) this.failRun(run, `Could not start the kernel: ${msg}`);
      return;
    }
    this.used.add(normalizePath(notebook.uri.fsPath));
    // The snapshot is taken once: every cell of this click runs the code the
    // buffer held at the click, saved or not.
    const snapshot = captureSnapshot(notebook);
    for (const run of runs) {
      const cellId = cellIdOf(run.cell.metadata as Record<string, unknown>);
      try {
        const res = await this.sidecar.request(ExecutionRunRequest, {
          notebookPath: run.notebookPath,
          cellId,
          code: run.cell.document.getText(),
          origin: 'human',
          snapshot,
        });
        run.id = res.executionId;
        this.runs.set(run.id, run);
        run.exec!.token.onCancellationRequested(() => {
          if (!run.ended) void this.sidecar.request(ExecutionCancelRequest, { executionId: run.id }).catch(() => undefined);
        });
        this.flushPending(run);
      } catch (err) {
        this.failRun(run, `Could not run the cell: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  private async interrupt(notebook: vscode.NotebookDocument): Promise<void> {
    this.log.info(`interrupt requested: ${notebook.uri.fsPath}`);
    try {
      await this.sidecar.request(KernelInterruptRequest, { notebookPath: notebook.uri.fsPath });
    } catch (err) {
      if (notFound(err)?.kind === 'kernel') {
        void vscode.window.showInformationMessage(`No kernel is running for ${notebook.uri.fsPath}: nothing to interrupt.`);
        return;
      }
      void vscode.window.showErrorMessage(`Interrupt failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private flushPending(run: Run): void {
    const p = this.pending.get(run.id);
    if (!p) return;
    this.pending.delete(run.id);
    // States and outputs were recorded separately; replay states that come
    // before the outputs (queued/running) first, terminal states last.
    for (const s of p.states.filter((s) => !terminal.has(s.status))) this.applyState(run, s);
    for (const o of p.outputs) this.applyOutput(run, o);
    for (const s of p.states.filter((s) => terminal.has(s.status))) this.applyState(run, s);
  }

  private pendingFor(id: string): Pending {
    let p = this.pending.get(id);
    if (!p) {
      // Drop stale entries: ids nobody claimed within a minute (e.g. runs of a closed notebook).
      const now = Date.now();
      for (const [k, v] of this.pending) if (now - v.at > 60_000) this.pending.delete(k);
      p = { outputs: [], states: [], at: now };
      this.pending.set(id, p);
    }
    return p;
  }

  private onOutput(p: ExecutionOutputParams): void {
    const run = this.runs.get(p.executionId);
    if (!run) {
      this.pendingFor(p.executionId).outputs.push(p);
      return;
    }
    this.applyOutput(run, p);
  }

  private onState(p: ExecutionStateParams): void {
    let run = this.runs.get(p.executionId);
    if (!run && p.origin !== 'human') {
      run = this.adoptAgentRun(p);
      if (run) {
        this.runs.set(run.id, run);
        const pend = this.pending.get(run.id);
        this.pending.delete(run.id);
        if (pend) for (const s of pend.states) this.applyState(run, s);
        this.applyState(run, p);
        if (pend) for (const o of pend.outputs) this.applyOutput(run, o);
        return;
      }
    }
    if (!run) {
      this.pendingFor(p.executionId).states.push(p);
      return;
    }
    this.applyState(run, p);
  }

  /** A run an agent started: show it in its cell when the notebook is open with this kernel. */
  private adoptAgentRun(p: ExecutionStateParams): Run | undefined {
    const doc = findNotebook(p.notebookPath);
    if (!doc || !p.cellId) return undefined;
    const cell = doc.getCells().find((c) => cellIdOf(c.metadata as Record<string, unknown>) === p.cellId);
    if (!cell) return undefined;
    const run: Run = {
      id: p.executionId,
      notebookPath: p.notebookPath,
      cell,
      origin: p.origin,
      exec: undefined,
      outputs: new OutputList(),
      rendered: [],
      started: false,
      ended: false,
    };
    this.attachExecution(run);
    return run;
  }

  private attachExecution(run: Run): void {
    const busy = [...this.runs.values()].some((r) => r !== run && r.cell === run.cell && r.exec && !r.ended);
    if (busy) {
      const list = this.waitingForCell.get(run.cell) ?? [];
      list.push(run);
      this.waitingForCell.set(run.cell, list);
      return;
    }
    try {
      run.exec = this.controller.createNotebookCellExecution(run.cell);
    } catch (err) {
      // Not our kernel in that notebook: the agent's run is still visible through its tools.
      this.log.info(`agent run ${run.id} not shown in its cell: ${(err as Error).message}`);
    }
  }

  private ensureStarted(run: Run, at?: number): void {
    if (run.started || !run.exec) return;
    run.started = true;
    run.exec.start(at ?? Date.now());
    quiet(run.exec.clearOutput());
  }

  private applyState(run: Run, s: ExecutionStateParams): void {
    if (run.ended) return;
    this.statusByCell.set(run.cell, s.status);
    if (run.exec && typeof s.executionCount === 'number' && s.executionCount > 0) {
      run.exec.executionOrder = s.executionCount;
    }
    if (s.status === 'running') {
      this.ensureStarted(run, toMs(s.startedAt));
      return;
    }
    if (!terminal.has(s.status)) return;
    // protocol.gen.ts ExecutionStateParams.stamp: a human run's sync stamp, written on save.
    const stamp = (s as { stamp?: unknown }).stamp;
    // A person's run, or an agent's run of the cell's own source (the sidecar sends a stamp only then).
    if (stamp !== undefined && stamp !== null) this.stamps.hold(run.cell, stamp);
    this.ensureStarted(run, toMs(s.startedAt));
    let success: boolean | undefined = s.status === 'ok';
    if (s.status === 'aborted') success = undefined;
    if (s.status === 'timeout' || s.status === 'dead' || s.status === 'cancelled') {
      const text = {
        timeout: 'The cell hit its execution timeout and was stopped.\n',
        dead: 'The kernel died while this cell ran.\n',
        cancelled: 'The cell was cancelled before it ran.\n',
      }[s.status];
      this.appendNb(run, { output_type: 'stream', name: 'stderr', text });
    }
    this.endRun(run, success, toMs(s.endedAt));
  }

  private applyOutput(run: Run, p: ExecutionOutputParams): void {
    if (run.ended) return;
    if (this.lastRunTiming && !this.lastRunTiming.firstOutputAt && run.origin === 'human') {
      this.lastRunTiming.firstOutputAt = Date.now();
    }
    const exec = run.exec;
    const change = run.outputs.apply({ ...p.op, seq: p.seq });
    if (!exec) return;
    this.ensureStarted(run);
    switch (change.type) {
      case 'append': {
        const out = toCellOutput(run.outputs.outputs[change.index]);
        run.rendered[change.index] = out;
        quiet(exec.appendOutput(out));
        break;
      }
      case 'update': {
        const target = run.rendered[change.index];
        const out = toCellOutput(run.outputs.outputs[change.index]);
        if (target) quiet(exec.replaceOutputItems(out.items, target));
        break;
      }
      case 'clear':
        run.rendered = [];
        quiet(exec.clearOutput());
        break;
      case 'none':
        this.log.debug(`output op ignored for ${run.id}: ${change.reason}`);
        break;
    }
  }

  private appendNb(run: Run, out: NbOutput): void {
    if (!run.exec) return;
    const change = run.outputs.apply({ kind: 'append', output: out });
    if (change.type === 'append') {
      const o = toCellOutput(out);
      run.rendered[change.index] = o;
      quiet(run.exec.appendOutput(o));
    }
  }

  private failRun(run: Run, message: string): void {
    if (run.ended) return;
    this.ensureStarted(run);
    this.appendNb(run, { output_type: 'error', ename: 'MCPJupyterError', evalue: message, traceback: [message] });
    this.endRun(run, false);
  }

  private endRun(run: Run, success: boolean | undefined, at?: number): void {
    if (run.ended) return;
    run.ended = true;
    if (run.exec) {
      this.ensureStarted(run);
      try {
        run.exec.end(success, at ?? Date.now());
      } catch (err) {
        this.log.warn(`ending execution ${run.id}: ${(err as Error).message}`);
      }
    }
    if (run.id) this.runs.delete(run.id);
    const waiting = this.waitingForCell.get(run.cell);
    if (waiting?.length) {
      const next = waiting.shift()!;
      if (waiting.length === 0) this.waitingForCell.delete(run.cell);
      this.attachExecution(next);
    }
  }

  private async onStdin(p: StdinRequestParams): Promise<StdinRequestResult> {
    const run = this.runs.get(p.executionId);
    if (!run || run.origin !== 'human') {
      // The agent answers its own runs' input() with submit_input.
      throw new Error(`execution ${p.executionId} was not started by the person at this editor`);
    }
    this.inputRequests++;
    const value = await vscode.window.showInputBox({
      title: 'Input requested by the kernel',
      prompt: p.prompt || 'input()',
      password: !!p.password,
      ignoreFocusOut: true,
    });
    return { value: value ?? '' };
  }

  /** The last execution status the sidecar reported for a cell's run (queued, running, ok, …). */
  runStatus(cell: vscode.NotebookCell): ExecStatus | undefined {
    return this.statusByCell.get(cell);
  }

  /** How many input() prompts were shown to the person (for tests). */
  inputRequests = 0;

  /** Active runs (for tests and the status bar). */
  get activeRunCount(): number {
    return this.runs.size;
  }

  /** Disposes the controller and the listeners. */
  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * Holds the stamps of finished human runs until their notebook is saved: a run's
 * stamp in the buffer at run end would be an undo step (see provenance.ts).
 */
export class RunStamps implements vscode.Disposable {
  private readonly held = new Map<vscode.NotebookDocument, Map<vscode.NotebookCell, unknown>>();
  private readonly subscription: vscode.Disposable;

  constructor() {
    this.subscription = vscode.workspace.onWillSaveNotebookDocument((e) => {
      const edit = this.takeEdit(e.notebook);
      if (edit) e.waitUntil(Promise.resolve(edit));
    });
  }

  /** Keeps the stamp of a finished run of cell for the next save (the newest run wins). */
  hold(cell: vscode.NotebookCell, stamp: unknown): void {
    if (stamp === undefined || stamp === null) return;
    let cells = this.held.get(cell.notebook);
    if (!cells) {
      cells = new Map();
      this.held.set(cell.notebook, cells);
    }
    cells.set(cell, stamp);
  }

  /** The edit writing every held stamp of the notebook's cells still in it, or undefined. */
  takeEdit(notebook: vscode.NotebookDocument): vscode.WorkspaceEdit | undefined {
    const cells = this.held.get(notebook);
    this.held.delete(notebook);
    if (!cells || cells.size === 0) return undefined;
    const edits: vscode.NotebookEdit[] = [];
    for (const [cell, stamp] of cells) {
      if (cell.index < 0 || cell.notebook !== notebook) continue; // deleted since it ran
      const metadata = stampedMetadata(cell.metadata as Record<string, unknown>, stamp);
      edits.push(vscode.NotebookEdit.updateCellMetadata(cell.index, metadata));
    }
    if (edits.length === 0) return undefined;
    const edit = new vscode.WorkspaceEdit();
    edit.set(notebook.uri, edits);
    return edit;
  }

  /** Stops listening for saves and forgets the held stamps. */
  dispose(): void {
    this.subscription.dispose();
    this.held.clear();
  }
}
