// "Sync Required": when the sidecar reports that the kernel state and the
// notebook diverged, offer a sync; never re-run anything on our own.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { captureSnapshot, findNotebook, normalizePath } from './notebooks';
import type { SidecarClient } from './sidecar/client';
import { SyncStatusNotification, SyncStatusParams, ToolInvokeRequest } from './protocol.gen';

/** Shows "Sync Required" when the sidecar reports drift, and runs the sync the person asks for. */
export class SyncNotifier {
  /** Notebooks whose divergence was already shown; cleared when they are in sync again. */
  private readonly shown = new Set<string>();
  /** The last status shown or checked (for tests). */
  lastStatus: SyncStatusParams | undefined;

  constructor(
    private readonly sidecar: SidecarClient,
    private readonly log: vscode.LogOutputChannel,
  ) {
    sidecar.onNotification(SyncStatusNotification, (p) => this.onStatus(p));
  }

  private onStatus(p: SyncStatusParams): void {
    this.lastStatus = p;
    const key = normalizePath(p.notebookPath);
    if (!p.syncNeeded) {
      this.shown.delete(key);
      return;
    }
    if (this.shown.has(key)) return;
    this.shown.add(key);
    const dirty = p.dirtyCells?.length ? ` (${p.dirtyCells.length} cell(s) changed since they ran)` : '';
    void vscode.window
      .showWarningMessage(
        `Sync Required — ${path.basename(p.notebookPath)}: ${p.reason || 'the kernel state differs from the notebook'}${dirty}`,
        'Sync State Now',
      )
      .then((choice) => {
        if (choice === 'Sync State Now') void this.sync(p.notebookPath);
      });
  }

  /**
   * Asks the sidecar whether the kernel and the live buffer diverged
   * (detect_sync_needed) and reports it like a sync/status notification.
   * Only detection: nothing runs until the person chooses "Sync State Now".
   */
  async check(notebookPath: string): Promise<SyncStatusParams | undefined> {
    const doc = findNotebook(notebookPath);
    try {
      const res = await this.sidecar.request(ToolInvokeRequest, {
        name: 'detect_sync_needed',
        arguments: { notebook_path: notebookPath },
        snapshot: doc ? captureSnapshot(doc) : undefined,
      });
      if (res.isError) {
        this.log.warn(`detect_sync_needed for ${notebookPath}: ${res.content}`);
        return undefined;
      }
      const rep = (res.structured ?? {}) as { sync_needed?: boolean; reason?: string; dirty_cells?: { id?: string; cell_id?: string }[] };
      const status: SyncStatusParams = {
        notebookPath,
        syncNeeded: !!rep.sync_needed,
        reason: rep.reason ?? '',
        dirtyCells: (rep.dirty_cells ?? []).map((c) => c.cell_id ?? c.id ?? '').filter(Boolean),
      };
      this.onStatus(status);
      return status;
    } catch (err) {
      this.log.warn(`detect_sync_needed for ${notebookPath}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  /** Re-runs the notebook's cells into the kernel (sync_state_from_disk), with progress. */
  async sync(notebookPath: string): Promise<void> {
    const doc = findNotebook(notebookPath);
    try {
      const res = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Syncing kernel state of ${path.basename(notebookPath)}…` },
        () =>
          this.sidecar.request(ToolInvokeRequest, {
            name: 'sync_state_from_disk',
            arguments: { notebook_path: notebookPath },
            snapshot: doc ? captureSnapshot(doc) : undefined,
          }),
      );
      this.shown.delete(normalizePath(notebookPath));
      if (res.isError) void vscode.window.showErrorMessage(`Sync failed: ${res.content}`);
      else this.log.info(`sync of ${notebookPath}: ${res.content}`);
    } catch (err) {
      void vscode.window.showErrorMessage(`Sync failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
