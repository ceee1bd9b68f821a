// Entry point: wires the sidecar, the notebook controller, the environment
// picker, Sync Required, the language-model tools and the MCP provider.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerCellLock } from './cellLock';
import { ProvenanceBar } from './provenanceBar';
import { editorState } from './editorState';
import { EnvironmentPicker } from './env/picker';
import { EnvironmentChoice, KernelController } from './kernel/controller';
import { registerMcpProvider } from './mcpProvider';
import { registerReach } from './reach';
import { captureSnapshot, findNotebook, NotebookEditor, NotebookType } from './notebooks';
import { checkVersion, findBinary } from './sidecar/binary';
import { Logger, SidecarClient } from './sidecar/client';
import { SyncNotifier } from './sync';
import { LiveNotebooks } from './notebook/live';
import { LanguageModelTools } from './tools/lmTools';
import {
  EditorApplyEditRequest,
  EditorSnapshotRequest,
  EditorOpenRequest,
  EditorStateRequest,
  KernelInterruptRequest,
  KernelRestartRequest,
  EnvKind,
  PROTOCOL_HASH,
} from './protocol.gen';

/** What the extension exports (used by the integration tests). */
export interface Api {
  /** Time activate() took. */
  activationMs: number;
  /** The checked sidecar binary. */
  sidecarBinary: () => Promise<string>;
  /** Serves editor/applyEdit. */
  editor: NotebookEditor;
  /** The sidecar process and its connection. */
  sidecar: SidecarClient;
  /** The MCP Agent Kernel controller. */
  controller: KernelController;
  /** The language-model tools. */
  tools: LanguageModelTools;
  /** Sync Required. */
  sync: SyncNotifier;
  /** The environment picker. */
  picker: EnvironmentPicker;
  /** The in-process notebook model once loaded (undefined when notebookmodel.wasm is not bundled). */
  live: Promise<LiveNotebooks | undefined>;
  /** The directory put on the PATH of this window's terminals (the bundled binary's). */
  terminalPath: Promise<string>;
  /** The cells' provenance in their status bar. */
  provenance: ProvenanceBar;
}

let active: { sidecar: SidecarClient } | undefined;

/** `serve` with the agent policy from the settings (mcp-jupyter.policy.*): the sidecar enforces it for every door. */
function serveArgs(config: vscode.WorkspaceConfiguration): string[] {
  // Restricted Mode: only the notebook-reading tools, so no agent starts a kernel or probes (runs) an environment's
  // Python from an untrusted folder.
  if (!vscode.workspace.isTrusted) return ['serve', '--read-only', '--toolsets', 'notebook'];
  const args = ['serve'];
  if (config.get<boolean>('policy.readOnly', false)) args.push('--read-only');
  const toolsets = config.get<string[]>('policy.toolsets', []);
  if (toolsets.length > 0) args.push('--toolsets', toolsets.join(','));
  return args;
}

function environmentKind(p: string): EnvKind {
  if (fs.existsSync(path.join(p, 'conda-meta'))) return 'conda';
  if (fs.existsSync(path.join(p, 'pyvenv.cfg'))) return 'venv';
  return 'system';
}

/** The default environment: setting mcp-jupyter.defaultEnvironment, else $MCP_JUPYTER_PYTHON_ENV. */
function defaultEnvironment(): EnvironmentChoice | undefined {
  const fromSetting = vscode.workspace.getConfiguration('mcp-jupyter').get<string>('defaultEnvironment');
  const p = fromSetting || process.env.MCP_JUPYTER_PYTHON_ENV;
  if (!p) return undefined;
  return { kind: environmentKind(p), path: p };
}

/** Activates the extension: everything starts lazily but the sidecar, which starts in the background. */
export function activate(context: vscode.ExtensionContext): Api {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('MCP Jupyter', { log: true });
  context.subscriptions.push(log);
  const logger: Logger = {
    info: (m) => log.info(m),
    warn: (m) => log.warn(m),
    error: (m) => log.error(m),
    sidecar: (line) => log.appendLine(`[sidecar] ${line}`),
  };
  const config = () => vscode.workspace.getConfiguration('mcp-jupyter');
  const version = String(context.extension.packageJSON.version ?? '0.0.0');

  let checkedBinary: Promise<string> | undefined;
  const resolveBinary = () => {
    checkedBinary ??= (async () => {
      const choice = findBinary(context.extensionPath, config().get<string>('sidecarPath') || undefined);
      const v = await checkVersion(choice.path);
      log.info(`sidecar ${choice.path} (${choice.source}), version ${v}`);
      return choice.path;
    })();
    checkedBinary.catch(() => (checkedBinary = undefined));
    return checkedBinary;
  };

  const terminalPath = registerReach(context, resolveBinary, log);

  const sidecar = new SidecarClient({
    resolveBinary,
    args: () => serveArgs(config()),
    cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    logger,
    initializeParams: () => ({
      clientName: vscode.env.appName,
      clientVersion: version,
      workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
      protocolHash: PROTOCOL_HASH,
    }),
    maxRestarts: config().get<number>('sidecar.maxRestarts', 3),
  });
  active = { sidecar };
  // Trust lifts Restricted Mode's read-only policy: the sidecar restarts without it.
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(() => void sidecar.restart().catch((err: unknown) => log.error(`sidecar restart after trust: ${String(err)}`))),
  );
  let restarts = 0;
  context.subscriptions.push(
    sidecar.onDidStart(({ initialize }) => {
      // After a crash the new sidecar may have lost track of what ran: check open notebooks of this kernel.
      if (restarts++ > 0) {
        for (const d of vscode.workspace.notebookDocuments) {
          if (d.notebookType === NotebookType && d.uri.scheme === 'file' && controller.usedIn(d)) void sync.check(d.uri.fsPath);
        }
      }
      if (initialize.protocolHash && initialize.protocolHash !== PROTOCOL_HASH) {
        log.warn(`protocol hash mismatch: sidecar ${initialize.protocolHash}, extension ${PROTOCOL_HASH}`);
      }
      log.info(`sidecar ${initialize.sidecarVersion || '?'} initialized`);
    }),
    sidecar.onDidFail((why) => {
      void vscode.window
        .showErrorMessage(`MCP Jupyter: the sidecar is not running (${why}).`, 'Restart', 'Show Log')
        .then((pick) => {
          if (pick === 'Restart') void vscode.commands.executeCommand('mcp-jupyter.restartSidecar');
          if (pick === 'Show Log') log.show();
        });
    }),
  );

  const editor = new NotebookEditor();
  sidecar.onRequest(EditorSnapshotRequest, ({ notebookPath }) => {
    const doc = findNotebook(notebookPath);
    return doc ? captureSnapshot(doc) : null;
  });
  sidecar.onRequest(EditorApplyEditRequest, (p) => editor.apply(p));
  sidecar.onRequest(EditorStateRequest, (p) => editorState(p));

  const controller = new KernelController(sidecar, log, defaultEnvironment);
  // A notebook an agent created (create_notebook): shown beside the person's editor, focus kept, our kernel preferred.
  sidecar.onRequest(EditorOpenRequest, async ({ notebookPath }) => {
    const doc = await vscode.workspace.openNotebookDocument(vscode.Uri.file(notebookPath));
    controller.controller.updateNotebookAffinity(doc, vscode.NotebookControllerAffinity.Preferred);
    await vscode.window.showNotebookDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: false });
    return { opened: true };
  });
  const picker = new EnvironmentPicker(sidecar, controller, defaultEnvironment);
  const sync = new SyncNotifier(sidecar, log);
  const declared = (context.extension.packageJSON.contributes?.languageModelTools ?? []) as { name: string }[];
  // The notebook model in process (notebookmodel.wasm), loaded off the activation path.
  let live: LiveNotebooks | undefined;
  const liveReady = LiveNotebooks.start(context.extensionPath, log).then((l) => {
    live = l;
    if (l) context.subscriptions.push(l);
    return l;
  });
  const tools = new LanguageModelTools(sidecar, log, declared, () => live);
  context.subscriptions.push(controller, picker, tools);
  registerCellLock(context);
  const provenance = new ProvenanceBar(sidecar);
  context.subscriptions.push(provenance);

  if (config().get<boolean>('mcpServer.enabled', true)) {
    try {
      const reg = registerMcpProvider(sidecar, resolveBinary, version, log);
      if (reg) context.subscriptions.push(reg);
    } catch (err) {
      // An older or newer host with a different MCP API must not cost the kernel.
      log.warn(`MCP server definition provider not registered: ${String(err)}`);
    }
  }

  const activeNotebook = (): vscode.NotebookDocument | undefined => {
    const doc = vscode.window.activeNotebookEditor?.notebook;
    if (doc?.notebookType === NotebookType) return doc;
    void vscode.window.showInformationMessage('Open a Jupyter notebook first.');
    return undefined;
  };
  const reportError = (what: string) => (err: unknown) =>
    void vscode.window.showErrorMessage(`${what}: ${err instanceof Error ? err.message : String(err)}`);

  context.subscriptions.push(
    vscode.commands.registerCommand('mcp-jupyter.selectEnvironment', () => picker.pick()),
    vscode.commands.registerCommand('mcp-jupyter.restartKernel', async () => {
      const doc = activeNotebook();
      if (!doc) return;
      const ok = await sidecar.request(KernelRestartRequest, { notebookPath: doc.uri.fsPath }).then(
        () => true,
        (err: unknown) => (reportError('Restart failed')(err), false),
      );
      // The variables are gone: tell the person which cells the notebook shows results of (no re-run).
      if (ok) void sync.check(doc.uri.fsPath);
    }),
    vscode.commands.registerCommand('mcp-jupyter.interruptKernel', async () => {
      const doc = activeNotebook();
      if (!doc) return;
      await sidecar.request(KernelInterruptRequest, { notebookPath: doc.uri.fsPath }).catch(reportError('Interrupt failed'));
    }),
    vscode.commands.registerCommand('mcp-jupyter.syncState', async () => {
      const doc = activeNotebook();
      if (doc) await sync.sync(doc.uri.fsPath);
    }),
    vscode.commands.registerCommand('mcp-jupyter.restartSidecar', () =>
      sidecar.restart().catch(reportError('The sidecar did not start')),
    ),
    vscode.commands.registerCommand('mcp-jupyter.showLog', () => log.show()),
  );

  // Start in the background: activation stays fast, the first run waits for it.
  sidecar.start().catch((err: unknown) => log.error(`sidecar did not start: ${String(err)}`));

  const activationMs = performance.now() - t0;
  log.info(`activated in ${activationMs.toFixed(1)} ms`);
  return { activationMs, sidecarBinary: resolveBinary, editor, sidecar, controller, tools, sync, picker, terminalPath, live: liveReady, provenance };
}

/** Stops the sidecar (and with it the kernels it started). */
export async function deactivate(): Promise<void> {
  const a = active;
  active = undefined;
  await a?.sidecar.dispose();
}
