// The live notebook buffers: snapshot capture, lookup by path, and the
// editor/applyEdit steps applied as undoable WorkspaceEdits.

import * as crypto from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CellSource, EditRefusedError, KeyedQueue, Plan, planEdits } from './edits/plan';
import { buildSnapshot, CellLike, snapshotCell } from './snapshot';
import type { EditCell, EditorApplyEditParams, EditorApplyEditResult, Snapshot, SnapshotCell } from './protocol.gen';

/** The notebook type of .ipynb documents (VS Code's ipynb serializer). */
export const NotebookType = 'jupyter-notebook';

/** A path as a map key: normalized, case-folded on Windows. */
export function normalizePath(p: string): string {
  const n = path.normalize(p);
  return process.platform === 'win32' ? n.toLowerCase() : n;
}

/** The open .ipynb document at notebookPath, if any. */
export function findNotebook(notebookPath: string): vscode.NotebookDocument | undefined {
  const want = normalizePath(notebookPath);
  return vscode.workspace.notebookDocuments.find(
    (d) => d.notebookType === NotebookType && d.uri.scheme === 'file' && normalizePath(d.uri.fsPath) === want,
  );
}

/** The parts of a VS Code cell the snapshot reads. */
export function cellLike(c: vscode.NotebookCell): CellLike {
  return {
    kind: c.kind,
    languageId: c.document.languageId,
    text: c.document.getText(),
    metadata: c.metadata as Record<string, unknown>,
    executionOrder: c.executionSummary?.executionOrder,
  };
}

/** One VS Code cell as the protocol's SnapshotCell. */
export function captureCell(c: vscode.NotebookCell): SnapshotCell {
  return snapshotCell(cellLike(c));
}

/** The live buffer of a notebook as the protocol's Snapshot. */
export function captureSnapshot(doc: vscode.NotebookDocument): Snapshot {
  return buildSnapshot({
    uri: doc.uri.toString(),
    path: doc.uri.fsPath,
    version: doc.version,
    metadata: doc.metadata as Record<string, unknown>,
    cells: doc.getCells().map(cellLike),
  });
}

/** The notebook's code language (from language_info), python by default. */
export function notebookLanguage(doc: vscode.NotebookDocument): string {
  const code = doc.getCells().find((c) => c.kind === vscode.NotebookCellKind.Code && c.document.languageId !== 'raw');
  return code?.document.languageId ?? 'python';
}

function newCellId(): string {
  return crypto.randomBytes(4).toString('hex');
}

function freshCellData(doc: vscode.NotebookDocument, c: EditCell): vscode.NotebookCellData {
  const kind = c.kind ?? 'code';
  const data =
    kind === 'markdown'
      ? new vscode.NotebookCellData(vscode.NotebookCellKind.Markup, c.source ?? '', 'markdown')
      : new vscode.NotebookCellData(
          vscode.NotebookCellKind.Code,
          c.source ?? '',
          kind === 'raw' ? 'raw' : c.language || notebookLanguage(doc),
        );
  // The ipynb serializer's layout: nbformat id and metadata side by side.
  data.metadata = { id: c.id || newCellId(), metadata: c.metadata ?? {} };
  return data;
}

function existingCellData(doc: vscode.NotebookDocument, src: Extract<CellSource, { existing: number }>) {
  const cell = doc.cellAt(src.existing);
  const wasKind = cell.kind === vscode.NotebookCellKind.Markup ? 'markdown' : cell.document.languageId === 'raw' ? 'raw' : 'code';
  const kind = src.kind ?? wasKind;
  let language: string;
  if (kind === 'markdown') language = 'markdown';
  else if (kind === 'raw') language = 'raw';
  else language = src.language ?? (wasKind === 'code' ? cell.document.languageId : notebookLanguage(doc));
  const data = new vscode.NotebookCellData(
    kind === 'markdown' ? vscode.NotebookCellKind.Markup : vscode.NotebookCellKind.Code,
    src.source ?? cell.document.getText(),
    language,
  );
  const metadata: Record<string, unknown> = { ...(cell.metadata as Record<string, unknown>) };
  if (src.metadata) metadata.metadata = src.metadata;
  if (kind === 'code' && !src.clearOutputs) {
    data.outputs = [...cell.outputs];
    data.executionSummary = cell.executionSummary;
  } else {
    if ('execution_count' in metadata) metadata.execution_count = null;
  }
  if (kind === 'markdown') delete metadata.execution_count;
  data.metadata = metadata;
  return data;
}

async function applyPlan(doc: vscode.NotebookDocument, plan: Plan): Promise<void> {
  const edit = new vscode.WorkspaceEdit();
  switch (plan.type) {
    case 'none':
      return;
    case 'replaceCells': {
      const cells = plan.cells.map((c) => ('fresh' in c ? freshCellData(doc, c.fresh) : existingCellData(doc, c)));
      edit.set(doc.uri, [vscode.NotebookEdit.replaceCells(new vscode.NotebookRange(plan.start, plan.end), cells)]);
      break;
    }
    case 'metadata': {
      const edits = plan.updates.map((u) => {
        const current = doc.cellAt(u.index).metadata as Record<string, unknown>;
        return vscode.NotebookEdit.updateCellMetadata(u.index, { ...current, metadata: u.metadata });
      });
      edit.set(doc.uri, edits);
      break;
    }
  }
  const ok = await vscode.workspace.applyEdit(edit);
  if (!ok) throw new EditRefusedError('VS Code refused the edit');
}

/** Serves editor/applyEdit: one queue per document; a version mismatch is refused, never forced. */
export class NotebookEditor {
  private readonly queue = new KeyedQueue();

  /** Applies the edits when the buffer still has the expected version; refuses them otherwise. */
  apply(params: EditorApplyEditParams): Promise<EditorApplyEditResult> {
    const key = normalizePath(params.notebookPath);
    return this.queue.run(key, async () => {
      const doc = findNotebook(params.notebookPath);
      if (!doc) {
        return { applied: false, version: -1, reason: `${params.notebookPath} is not open in VS Code` };
      }
      const expected = params.expectedVersion;
      if (typeof expected === 'number' && expected >= 0 && expected !== doc.version) {
        return {
          applied: false,
          version: doc.version,
          reason: `the notebook changed (version ${doc.version}, the edit expected ${expected}): read it again and retry`,
        };
      }
      try {
        await applyPlan(doc, planEdits(params.edits, doc.cellCount));
      } catch (err) {
        return { applied: false, version: doc.version, reason: (err as Error).message };
      }
      return { applied: true, version: doc.version };
    });
  }
}
