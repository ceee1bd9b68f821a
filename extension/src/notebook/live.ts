// Keeps open .ipynb buffers open in the in-process notebook model: a buffer
// is opened on its first query (so merely opening notebooks costs nothing),
// then VS Code's change events are applied as splices of the changed cells
// (no re-capture of the whole buffer per change or per query).

import * as path from 'node:path';
import * as vscode from 'vscode';
import { captureCell, captureSnapshot, findNotebook, normalizePath, NotebookType } from '../notebooks';
import { NotebookHandle, NotebookModel } from './model';

/** The open notebooks of this window in notebookmodel.wasm. */
export class LiveNotebooks implements vscode.Disposable {
  private readonly open = new Map<string, { doc: vscode.NotebookDocument; handle: NotebookHandle }>();
  /** How many buffers were opened in the model (for tests and the log). */
  opened = 0;
  private readonly disposables: vscode.Disposable[] = [];
  /** Changes applied as splices (for tests and the log). */
  splices = 0;

  private constructor(
    private readonly model: NotebookModel,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.workspace.onDidCloseNotebookDocument((d) => this.untrack(d)),
      vscode.workspace.onDidChangeNotebookDocument((e) => this.change(e)),
    );
  }

  /** Loads the model from the extension's dist folder; undefined (and a log line) when it is not there. */
  static async start(extensionPath: string, log: vscode.LogOutputChannel): Promise<LiveNotebooks | undefined> {
    const dist = path.join(extensionPath, 'extension', 'dist');
    try {
      const t0 = performance.now();
      const model = await NotebookModel.load(path.join(dist, 'notebookmodel.wasm'), path.join(dist, 'wasm_exec.js'));
      log.info(`notebook model loaded in ${(performance.now() - t0).toFixed(0)} ms`);
      return new LiveNotebooks(model, log);
    } catch (err) {
      log.info(`notebook model not loaded (reading tools need the sidecar): ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  /** The model handle and buffer version of a notebook open in this window. */
  handleFor(notebookPath: string): { handle: NotebookHandle; version: number } | undefined {
    const key = normalizePath(notebookPath);
    let entry = this.open.get(key);
    if (!entry) {
      const doc = findNotebook(notebookPath);
      if (doc) this.track(doc);
      entry = this.open.get(key);
    }
    return entry && { handle: entry.handle, version: entry.doc.version };
  }

  private track(doc: vscode.NotebookDocument): void {
    if (doc.notebookType !== NotebookType || doc.uri.scheme !== 'file') return;
    const key = normalizePath(doc.uri.fsPath);
    this.open.get(key)?.handle.close();
    this.open.delete(key);
    try {
      this.open.set(key, { doc, handle: this.model.open(captureSnapshot(doc)) });
      this.opened++;
    } catch (err) {
      this.log.warn(`notebook model: cannot open ${doc.uri.fsPath}: ${String(err)}`);
    }
  }

  private untrack(doc: vscode.NotebookDocument): void {
    const key = normalizePath(doc.uri.fsPath);
    const entry = this.open.get(key);
    if (entry?.doc !== doc) return;
    this.open.delete(key);
    entry.handle.close();
  }

  private change(e: vscode.NotebookDocumentChangeEvent): void {
    const entry = this.open.get(normalizePath(e.notebook.uri.fsPath));
    if (!entry || entry.doc !== e.notebook) return;
    const version = e.notebook.version;
    try {
      // Structural changes in order, then the cells whose content changed (indices of the final document).
      for (const c of e.contentChanges) {
        entry.handle.splice(c.range.start, c.range.end - c.range.start, c.addedCells.map(captureCell), version);
        this.splices++;
      }
      for (const c of e.cellChanges) {
        entry.handle.splice(c.cell.index, 1, [captureCell(c.cell)], version);
        this.splices++;
      }
      if (e.metadata) this.track(e.notebook); // notebook metadata (language) changes the whole model
    } catch (err) {
      // Out of step (should not happen): start over from the whole buffer.
      this.log.warn(`notebook model: re-reading ${e.notebook.uri.fsPath} after ${String(err)}`);
      this.track(e.notebook);
    }
  }

  /** Closes every handle and stops listening. */
  dispose(): void {
    for (const d of this.disposables) d.dispose();
    for (const { handle } of this.open.values()) handle.close();
    this.open.clear();
  }
}
