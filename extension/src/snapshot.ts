// Pure part of the live-buffer snapshot: from cell-like values (what VS Code's
// NotebookCell exposes) to the protocol Snapshot. The vscode-facing capture is
// in notebooks.ts; keeping this pure lets unit tests cover the id/metadata
// rules of VS Code's ipynb serializer without an editor.

import { CellKind, EnvKind, EnvKindValues, Snapshot, SnapshotCell } from './protocol.gen';

/** The parts of a vscode.NotebookCell the snapshot needs. */
export interface CellLike {
  /** 1 = markup, 2 = code (vscode.NotebookCellKind values). */
  kind: number;
  languageId: string;
  text: string;
  metadata: Record<string, unknown> | undefined;
  executionOrder?: number;
}

export interface NotebookLike {
  uri: string;
  path: string;
  version: number;
  metadata: Record<string, unknown> | undefined;
  cells: CellLike[];
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * VS Code's ipynb serializer keeps the nbformat cell id at metadata.id and the
 * nbformat cell metadata at metadata.metadata; releases before 1.85 nested
 * both under metadata.custom. Read either.
 */
export function cellIdOf(metadata: Record<string, unknown> | undefined): string {
  const id = metadata?.id ?? asRecord(metadata?.custom)?.id;
  return typeof id === 'string' ? id : '';
}

export function nbCellMetadataOf(metadata: Record<string, unknown> | undefined): Record<string, unknown> {
  return asRecord(metadata?.metadata) ?? asRecord(asRecord(metadata?.custom)?.metadata) ?? {};
}

/** Notebook-level nbformat metadata (kernelspec, language_info, ours). */
export function nbNotebookMetadataOf(metadata: Record<string, unknown> | undefined): Record<string, unknown> {
  return asRecord(metadata?.metadata) ?? asRecord(asRecord(metadata?.custom)?.metadata) ?? {};
}

/** The nbformat kind of a VS Code cell. */
export function cellKindOf(cell: Pick<CellLike, 'kind' | 'languageId'>): CellKind {
  if (cell.kind === 1) return 'markdown';
  // The ipynb serializer opens raw cells as code cells in the 'raw' language.
  return cell.languageId === 'raw' ? 'raw' : 'code';
}

export function snapshotCell(cell: CellLike): SnapshotCell {
  const kind = cellKindOf(cell);
  const metadata = nbCellMetadataOf(cell.metadata);
  let executionCount: number | null = null;
  if (kind === 'code') {
    if (typeof cell.executionOrder === 'number') executionCount = cell.executionOrder;
    else {
      const ec = cell.metadata?.execution_count;
      executionCount = typeof ec === 'number' ? ec : null;
    }
  }
  return {
    id: cellIdOf(cell.metadata),
    kind,
    language: kind === 'markdown' ? 'markdown' : cell.languageId,
    source: cell.text,
    metadata,
    executionCount,
  };
}

export function buildSnapshot(nb: NotebookLike): Snapshot {
  return {
    uri: nb.uri,
    path: nb.path,
    version: nb.version,
    metadata: nbNotebookMetadataOf(nb.metadata),
    cells: nb.cells.map(snapshotCell),
  };
}

/** Metadata key (nbformat notebook metadata) holding the chosen environment. */
export const EnvironmentMetadataKey = 'mcp-jupyter';

/** The environment saved in a notebook's metadata. */
export interface SavedEnvironment {
  /** venv, conda or system. */
  type: EnvKind;
  path: string;
  name: string;
}

export function savedEnvironmentOf(notebookMetadata: Record<string, unknown> | undefined): SavedEnvironment | undefined {
  const ours = asRecord(nbNotebookMetadataOf(notebookMetadata)[EnvironmentMetadataKey]);
  const env = asRecord(ours?.environment);
  if (!env || typeof env.path !== 'string' || env.path === '') return undefined;
  return {
    type: EnvKindValues.find((k) => k === env.type) ?? 'venv',
    path: env.path,
    name: typeof env.name === 'string' ? env.name : env.path,
  };
}

/**
 * The document metadata with our environment set, preserving everything else.
 * Writes where the document keeps its nbformat metadata (metadata.metadata, or
 * metadata.custom.metadata for the old layout).
 */
export function withSavedEnvironment(
  docMetadata: Record<string, unknown> | undefined,
  env: SavedEnvironment,
): Record<string, unknown> {
  const doc = { ...(docMetadata ?? {}) };
  const custom = asRecord(doc.custom);
  const useCustom = !asRecord(doc.metadata) && custom !== undefined;
  const nbMeta = { ...nbNotebookMetadataOf(docMetadata) };
  const ours = { ...(asRecord(nbMeta[EnvironmentMetadataKey]) ?? {}), environment: { ...env } };
  nbMeta[EnvironmentMetadataKey] = ours;
  if (useCustom) doc.custom = { ...custom, metadata: nbMeta };
  else doc.metadata = nbMeta;
  return doc;
}
