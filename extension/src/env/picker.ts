// The environment picker in the status bar: env/list → QuickPick, the choice
// saved in the notebook's metadata (mcp-jupyter.environment) and reused.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { RestrictedModeMessage } from '../kernel/controller';
import type { KernelController } from '../kernel/controller';
import { NotebookType } from '../notebooks';
import type { SidecarClient } from '../sidecar/client';
import { SavedEnvironment, savedEnvironmentOf, withSavedEnvironment } from '../snapshot';
import { EnvListRequest, KernelStopRequest } from '../protocol.gen';

/** The status-bar environment picker (see the file comment). */
export class EnvironmentPicker implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly sidecar: SidecarClient,
    private readonly kernels: KernelController,
    private readonly defaultEnv: () => { kind: string; path: string } | undefined,
  ) {
    this.item = vscode.window.createStatusBarItem('mcp-jupyter.environment', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'MCP Jupyter Environment';
    this.item.command = 'mcp-jupyter.selectEnvironment';
    this.disposables.push(
      this.item,
      vscode.window.onDidChangeActiveNotebookEditor(() => this.update()),
      vscode.workspace.onDidChangeNotebookDocument((e) => {
        if (e.notebook === vscode.window.activeNotebookEditor?.notebook && e.metadata) this.update();
      }),
    );
    this.update();
  }

  /** Shows the active notebook's environment in the status bar. */
  update(): void {
    const doc = vscode.window.activeNotebookEditor?.notebook;
    if (!doc || doc.notebookType !== NotebookType) {
      this.item.hide();
      return;
    }
    const saved = savedEnvironmentOf(doc.metadata as Record<string, unknown>);
    const fallback = this.defaultEnv();
    const label = saved ? saved.name : fallback ? path.basename(fallback.path) : 'Select Python';
    this.item.text = `$(symbol-namespace) ${label}`;
    this.item.tooltip = saved
      ? `MCP Agent Kernel environment: ${saved.path} (${saved.type}). Click to change.`
      : 'Choose the Python environment of the MCP Agent Kernel';
    this.item.show();
  }

  /** Lets the person choose the notebook's environment and saves it. */
  async pick(doc = vscode.window.activeNotebookEditor?.notebook): Promise<SavedEnvironment | undefined> {
    if (!vscode.workspace.isTrusted) {
      // Listing environments runs their Python to probe them: not for an untrusted folder's own venvs.
      void vscode.window.showWarningMessage(RestrictedModeMessage);
      return undefined;
    }
    if (!doc || doc.notebookType !== NotebookType) {
      void vscode.window.showInformationMessage('Open a Jupyter notebook to choose its environment.');
      return undefined;
    }
    type Item = vscode.QuickPickItem & { env?: SavedEnvironment; browse?: boolean };
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const items = this.sidecar
      .request(EnvListRequest, { workspaceFolders: folders })
      .then((res) => {
        const envs = res.environments ?? [];
        const picks: Item[] = envs.map((e) => ({
          label: e.name || path.basename(e.prefix ?? e.python ?? ''),
          description: [e.kind, e.version].filter(Boolean).join(' '),
          detail: `${e.prefix || e.python}${e.hasIpykernel === false ? ' — ipykernel missing' : ''}`,
          env: { type: e.kind, path: e.prefix || e.python || '', name: e.name || path.basename(e.prefix ?? '') },
        }));
        picks.push({ label: '$(folder-opened) Enter interpreter or environment path…', browse: true });
        return picks;
      });
    const choice = await vscode.window.showQuickPick(items, {
      title: 'Python environment for the MCP Agent Kernel',
      placeHolder: 'venvs of the workspace, conda environments and system Pythons',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (!choice) return undefined;
    let env = choice.env;
    if (choice.browse) {
      const p = await vscode.window.showInputBox({
        title: 'Environment path',
        prompt: 'A virtualenv or conda prefix, or a python executable',
        ignoreFocusOut: true,
      });
      if (!p) return undefined;
      env = { type: 'venv', path: p, name: path.basename(p) };
    }
    if (!env) return undefined;
    await this.save(doc, env);
    return env;
  }

  /** Saves the choice in the notebook metadata (an undoable edit; the notebook becomes dirty). */
  async save(doc: vscode.NotebookDocument, env: SavedEnvironment): Promise<void> {
    const previous = savedEnvironmentOf(doc.metadata as Record<string, unknown>);
    const edit = new vscode.WorkspaceEdit();
    edit.set(doc.uri, [
      vscode.NotebookEdit.updateNotebookMetadata(withSavedEnvironment(doc.metadata as Record<string, unknown>, env)),
    ]);
    await vscode.workspace.applyEdit(edit);
    if (previous?.path !== env.path) {
      // The running kernel belongs to the old environment: stop it, the next run starts one in the new.
      await this.sidecar.request(KernelStopRequest, { notebookPath: doc.uri.fsPath }).catch(() => undefined);
      this.kernels.forgetKernel(doc.uri.fsPath);
    }
    this.update();
  }

  /** Removes the status bar item and the listeners. */
  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
