// Who created, last edited and last ran each cell (agent or human), shown in
// the cell's status bar. The sidecar keeps the record (notebook/provenance);
// nothing is written into the notebook, so nothing lands on the undo stack.

import * as vscode from 'vscode';
import { NotebookType } from './notebooks';
import { NotebookProvenanceRequest } from './protocol.gen';
import type { SidecarClient } from './sidecar/client';
import { cellIdOf } from './snapshot';

/** The cells' provenance lines of each notebook, fetched once per change of the notebook. */
export class ProvenanceBar implements vscode.Disposable {
  private readonly cache = new Map<string, Promise<Record<string, string>>>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(private readonly sidecar: SidecarClient) {
    this.disposables.push(
      vscode.workspace.onDidChangeNotebookDocument((e) => this.invalidate(e.notebook)),
      vscode.workspace.onDidCloseNotebookDocument((nb) => this.cache.delete(nb.uri.toString())),
      vscode.notebooks.registerNotebookCellStatusBarItemProvider(NotebookType, {
        onDidChangeCellStatusBarItems: this.changed.event,
        provideCellStatusBarItems: async (cell) => {
          const line = await this.lineOf(cell);
          if (!line) return [];
          const item = new vscode.NotebookCellStatusBarItem(`$(history) ${compact(line)}`, vscode.NotebookCellStatusBarAlignment.Left);
          item.tooltip = `MCP Jupyter: ${line}`;
          return [item];
        },
      }),
    );
  }

  /** The provenance line the status bar shows for cell ("" when the sidecar has no record). */
  async lineOf(cell: vscode.NotebookCell): Promise<string> {
    if (cell.notebook.uri.scheme !== 'file') return '';
    const key = cell.notebook.uri.toString();
    let lines = this.cache.get(key);
    if (!lines) {
      const nb = cell.notebook;
      lines = this.sidecar
        .request(NotebookProvenanceRequest, { notebookPath: nb.uri.fsPath, cellIds: nb.getCells().map((c) => cellIdOf(c.metadata)) })
        .then((r) => r.cells ?? {})
        .catch(() => ({}));
      this.cache.set(key, lines);
    }
    return (await lines)[cellIdOf(cell.metadata)] ?? '';
  }

  private invalidate(nb: vscode.NotebookDocument): void {
    const key = nb.uri.toString();
    if (!this.cache.delete(key)) return;
    this.changed.fire();
    // An agent's edit reaches the buffer before the sidecar records it: look again shortly after.
    setTimeout(() => {
      this.cache.delete(key);
      this.changed.fire();
    }, 750);
  }

  /** Drops every cached record and redraws (after an agent's tool call). */
  refresh(): void {
    this.cache.clear();
    this.changed.fire();
  }

  /** Unregisters the status bar provider and the listeners. */
  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** "created by agent 10:02:03Z (insert_cell); ran by human …" → "created: agent · ran: human". */
export function compact(line: string): string {
  return line
    .split('; ')
    .map((part) => {
      const m = /^(\w+) by (\w+)/.exec(part);
      return m ? `${m[1]}: ${m[2]}` : part;
    })
    .join(' · ');
}
