// Language-model tools for Copilot/agent chat: one vscode.lm tool per tool of
// the sidecar's tool core (declared in package.json). Each invocation carries
// the live buffer snapshot of the notebook it concerns.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { captureSnapshot, findNotebook, NotebookType } from '../notebooks';
import type { SidecarClient } from '../sidecar/client';
import { cellIdOf } from '../snapshot';
import type { ToolImage } from '../protocol.gen';
import { KernelInterruptRequest, ToolInvokeRequest } from '../protocol.gen';
import type { LiveNotebooks } from '../notebook/live';
import { confirmationFor, ToolArgs } from './confirm';
import { answerInProcess, InProcessTools } from './inprocess';
import { InterruptOnCancelTools, ToolPrefix } from './tools.gen';

interface DeclaredTool {
  name: string;
}

type DataPartClass = { image(data: Uint8Array, mimeType: string): unknown };

/**
 * The result's images as data parts for a vision model, where this VS Code has LanguageModelDataPart (newer than
 * the 1.100 API this extension is built against); none before, and the text still says what each image was.
 */
function imageParts(images: ToolImage[] | undefined): vscode.LanguageModelTextPart[] {
  const DataPart = (vscode as unknown as { LanguageModelDataPart?: DataPartClass }).LanguageModelDataPart;
  if (!DataPart || !images) return [];
  // Typed as text parts only because the 1.100 typings know no other kind; the runtime accepts data parts.
  return images.map((im) => DataPart.image(Buffer.from(im.data ?? '', 'base64'), im.mimeType) as vscode.LanguageModelTextPart);
}

/** Resolves notebook_path against the first workspace folder, or picks the active notebook. */
export function resolveNotebookPath(args: ToolArgs): string | undefined {
  const p = typeof args.notebook_path === 'string' ? args.notebook_path : '';
  if (p) {
    if (path.isAbsolute(p)) return path.normalize(p);
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return root ? path.join(root, p) : path.resolve(p);
  }
  const active = vscode.window.activeNotebookEditor?.notebook;
  if (active && active.notebookType === NotebookType && active.uri.scheme === 'file') return active.uri.fsPath;
  return undefined;
}

function cellFor(doc: vscode.NotebookDocument, args: ToolArgs): vscode.NotebookCell | undefined {
  if (typeof args.cell_id === 'string' && args.cell_id) {
    return doc.getCells().find((c) => cellIdOf(c.metadata as Record<string, unknown>) === args.cell_id);
  }
  if (typeof args.index === 'number' && args.index >= 0 && args.index < doc.cellCount) return doc.cellAt(args.index);
  return undefined;
}

/** Registers one vscode.lm tool per tool declared in package.json; each call goes to the sidecar's tool core. */
export class LanguageModelTools implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  /** Last tool/invoke params sent (for tests and the log). */
  lastInvocation: { name: string; snapshotVersion?: number; snapshotCells?: number; inProcess?: boolean } | undefined;

  constructor(
    private readonly sidecar: SidecarClient,
    private readonly log: vscode.LogOutputChannel,
    declared: DeclaredTool[],
    /** The in-process notebook model, once loaded (reading tools fall back to it while the sidecar is down). */
    private readonly live: () => LiveNotebooks | undefined = () => undefined,
  ) {
    if (!vscode.lm?.registerTool) {
      log.warn('this VS Code has no language-model tool API; agent tools are not registered');
      return;
    }
    for (const t of declared) {
      if (!t.name.startsWith(ToolPrefix)) continue;
      const toolName = t.name.slice(ToolPrefix.length);
      this.disposables.push(vscode.lm.registerTool<ToolArgs>(t.name, this.tool(toolName)));
    }
    log.info(`registered ${this.disposables.length} language-model tools`);
  }

  private tool(name: string): vscode.LanguageModelTool<ToolArgs> {
    return {
      prepareInvocation: (options) => {
        const args = options.input ?? {};
        const nbPath = resolveNotebookPath(args);
        const doc = nbPath ? findNotebook(nbPath) : undefined;
        const cell = doc ? cellFor(doc, args) : undefined;
        const c = confirmationFor(name, args, {
          notebookName: nbPath ? path.basename(nbPath) : undefined,
          cellSource: cell?.document.getText(),
          cellIndex: cell?.index,
        });
        return {
          invocationMessage: c.invocationMessage,
          confirmationMessages: c.confirm
            ? { title: c.confirm.title, message: new vscode.MarkdownString(c.confirm.markdown) }
            : undefined,
        };
      },
      invoke: async (options, token) => {
        const args: ToolArgs = { ...(options.input ?? {}) };
        const nbPath = resolveNotebookPath(args);
        if (nbPath && !args.notebook_path) args.notebook_path = nbPath;
        // The sidecar is down (crashed, restarting) or not up yet: the reading tools answer from the open
        // buffer in process. While it runs they go through it, so its tool core sees (and records) the read.
        const nb = nbPath && !this.sidecar.running && InProcessTools.has(name) ? this.live()?.handleFor(nbPath) : undefined;
        if (nb && nbPath) {
          this.lastInvocation = { name, snapshotVersion: nb.version, inProcess: true };
          try {
            const text = answerInProcess(name, args, nbPath, nb) ?? '';
            return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(text)]);
          } catch (err) {
            const msg = err instanceof Error ? err.message : String(err);
            return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(`Error: ${msg}`)]);
          }
        }
        const doc = nbPath ? findNotebook(nbPath) : undefined;
        const snapshot = doc ? captureSnapshot(doc) : undefined;
        this.lastInvocation = { name, snapshotVersion: snapshot?.version, snapshotCells: snapshot?.cells?.length };
        const cts = new vscode.CancellationTokenSource();
        const sub = token.onCancellationRequested(() => {
          cts.cancel();
          // Cancelling a tool that runs code stops the code, not just the wait.
          if (nbPath && InterruptOnCancelTools.has(name)) {
            void this.sidecar.request(KernelInterruptRequest, { notebookPath: nbPath }).catch(() => undefined);
          }
        });
        try {
          const res = await this.sidecar.request(ToolInvokeRequest, { name, arguments: args, snapshot }, cts.token);
          const text = res.isError ? `Error: ${res.content}` : res.content;
          return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(text), ...imageParts(res.images)]);
        } catch (err) {
          if (token.isCancellationRequested) throw new vscode.CancellationError();
          throw err;
        } finally {
          sub.dispose();
          cts.dispose();
        }
      },
    };
  }

  /** Unregisters the tools. */
  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
