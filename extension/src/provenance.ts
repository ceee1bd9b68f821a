// Sync stamps of a person's runs, written when the notebook is saved.
//
// The sidecar records what ran in a cell (source hash, kernel, count) so sync
// detection survives a sidecar restart. Writing that record into the cell's
// metadata at the end of a run would put an invisible step on VS Code's undo
// stack (Undo would first remove the stamp, not the person's last edit). So
// the stamp comes with the run's final execution/state and is kept here until
// the notebook is saved; the save then writes every held stamp in one edit
// (RunStamps in kernel/controller.ts). Pure helpers here, unit-tested.

import { nbCellMetadataOf } from './snapshot';

/** The cell metadata key the sidecar's stamps live under (nbsync.MetadataKey). */
export const StampKey = 'mcp-jupyter';

/**
 * VS Code cell metadata with the stamp set in its nbformat metadata (the ipynb
 * serializer keeps nbformat metadata at metadata.metadata).
 */
export function stampedMetadata(current: Record<string, unknown> | undefined, stamp: unknown): Record<string, unknown> {
  const nb = { ...nbCellMetadataOf(current), [StampKey]: stamp };
  return { ...(current ?? {}), metadata: nb };
}
