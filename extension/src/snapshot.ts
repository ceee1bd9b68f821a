// Pure part of the live-buffer snapshot: from cell-like values (what VS Code's
// NotebookCell exposes) to the protocol Snapshot. The vscode-facing capture is
// in notebooks.ts; keeping this pure lets unit tests cover the id/metadata
// rules of VS Code's ipynb serializer without an editor.

import { CellKind, EnvKind, EnvKindValues, Snapshot, SnapshotCell } from './protocol.gen';

/** The parts of a vscode.NotebookCell the snapshot needs. */
export interface CellLike {
  /** 1 = markup, 2 = code (vscode.NotebookCellKind values). */
  kind: number;
  /** The cell document's language id. */
  languageId: string;
  /** The cell's text. */
  text: string;
  /** The cell metadata (the ipynb serializer's layout). */
  metadata: Record<string, unknown> | undefined;
  /** The execution order VS Code shows. */
  executionOrder?: number;
}

/** The parts of a vscode.NotebookDocument the snapshot needs. */
export interface NotebookLike {
  /** The document URI. */
  uri: string;
  /** The file system path. */
  path: string;
  /** The document version. */
  version: number;
  /** The document metadata. */
  metadata: Record<string, unknown> | undefined;
  /** The cells in order. */
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

/** The nbformat cell metadata inside VS Code's cell metadata (either layout). */
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

/** One cell as the protocol's SnapshotCell. */
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

/** A notebook as the protocol's Snapshot. */
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
  /** The environment prefix or interpreter. */
  path: string;
  /** A short name for the status bar. */
  name: string;
}

/** The environment saved in a notebook's metadata, if any. */
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
