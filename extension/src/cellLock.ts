// A person locks a cell against agent edits: the lock lives in the cell's
// nbformat metadata ("mcp-jupyter-lock": {by, at}), so it travels with the
// notebook and the sidecar refuses every agent edit of the cell, saying who
// locked it. Locking is the person's own edit (undoable like any other).

import * as os from 'node:os';
import * as vscode from 'vscode';
import { NotebookType } from './notebooks';
import { nbCellMetadataOf } from './snapshot';

/** The nbformat cell metadata key of the lock (tools.LockMetadataKey in the sidecar). */
export const LockMetadataKey = 'mcp-jupyter-lock';

/** Who locked the cell and when, if it is locked. */
export function lockOf(cell: vscode.NotebookCell): { by?: string; at?: string } | undefined {
  const lock = nbCellMetadataOf(cell.metadata as Record<string, unknown>)[LockMetadataKey];
  if (lock === undefined || lock === null || lock === false) return undefined;
  return typeof lock === 'object' ? (lock as { by?: string; at?: string }) : {};
}

/** Locks an unlocked cell (by this OS user, now) or unlocks a locked one. */
export async function toggleLock(cell: vscode.NotebookCell): Promise<boolean> {
  const current = cell.metadata as Record<string, unknown>;
  const nb = { ...nbCellMetadataOf(current) };
  const locking = lockOf(cell) === undefined;
  if (locking) nb[LockMetadataKey] = { by: os.userInfo().username, at: new Date().toISOString() };
  else delete nb[LockMetadataKey];
  const edit = new vscode.WorkspaceEdit();
  edit.set(cell.notebook.uri, [vscode.NotebookEdit.updateCellMetadata(cell.index, { ...current, metadata: nb })]);
  if (!(await vscode.workspace.applyEdit(edit))) throw new Error('VS Code refused the metadata edit');
  return locking;
}

/** The command, the cell status bar item of locked cells, and what refreshes it. */
export function registerCellLock(context: vscode.ExtensionContext): void {
  const changed = new vscode.EventEmitter<void>();
  context.subscriptions.push(
    changed,
    vscode.workspace.onDidChangeNotebookDocument((e) => {
      if (e.cellChanges.some((c) => c.metadata)) changed.fire();
    }),
    vscode.notebooks.registerNotebookCellStatusBarItemProvider(NotebookType, {
      onDidChangeCellStatusBarItems: changed.event,
      provideCellStatusBarItems(cell) {
        const lock = lockOf(cell);
        if (!lock) return [];
        const item = new vscode.NotebookCellStatusBarItem('$(lock) Locked for agents', vscode.NotebookCellStatusBarAlignment.Right);
        item.tooltip = `Agents cannot edit, delete or move this cell (locked${lock.by ? ` by ${lock.by}` : ''}${lock.at ? ` on ${lock.at}` : ''}). Click to unlock.`;
        item.command = { title: 'Unlock', command: 'mcp-jupyter.toggleCellLock', arguments: [cell] };
        return [item];
      },
    }),
    vscode.commands.registerCommand('mcp-jupyter.toggleCellLock', async (arg?: vscode.NotebookCell) => {
      const editor = vscode.window.activeNotebookEditor;
      const cell = arg && 'notebook' in arg ? arg : editor && editor.notebook.cellCount > 0 ? editor.notebook.cellAt(editor.selection.start) : undefined;
      if (!cell) return undefined;
      return toggleLock(cell);
    }),
  );
}
