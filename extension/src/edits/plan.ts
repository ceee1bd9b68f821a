// Pure planning of the sidecar's editor/applyEdit ops. The ops are applied in
// order (each op's indices refer to the document as the previous op left it)
// to a model of the cell list; the result is diffed against the original and
// becomes ONE replaceCells over the changed span, so the whole batch is one
// undo step in VS Code. A batch that only sets metadata keeps the cells (and
// their identity) and becomes updateCellMetadata calls.

import type { EditCell, EditOp } from '../protocol.gen';

/** A cell of the planned result: an original cell (maybe changed) or a new one. */
export type CellSource =
  | {
      existing: number;
      source?: string;
      /** Complete new nbformat cell metadata. */
      metadata?: Record<string, unknown>;
      kind?: EditCell['kind'];
      language?: string;
      clearOutputs?: boolean;
    }
  | { fresh: EditCell };

/** What applying a batch of EditOps does to the document: nothing, one replaceCells of a range, or metadata updates. */
export type Plan =
  | { type: 'none' }
  | { type: 'replaceCells'; start: number; end: number; cells: CellSource[] }
  | { type: 'metadata'; updates: { index: number; metadata: Record<string, unknown> }[] };

/** An edit that cannot be applied as asked; its message says why, for the agent. */
export class EditRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EditRefusedError';
  }
}

const kinds = new Set(['code', 'markdown', 'raw']);

function int(v: unknown, what: string, n: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new EditRefusedError(`edit ${n}: ${what} must be an integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function isUnchanged(c: CellSource, original: number): boolean {
  return (
    'existing' in c &&
    c.existing === original &&
    c.source === undefined &&
    c.metadata === undefined &&
    c.kind === undefined &&
    c.language === undefined &&
    !c.clearOutputs
  );
}

/** Plans a batch of EditOps against a document of count cells; throws EditRefusedError when it is invalid. */
export function planEdits(ops: EditOp[] | null | undefined, count: number): Plan {
  if (!Array.isArray(ops) || ops.length === 0) throw new EditRefusedError('no edits given');
  let cells: CellSource[] = Array.from({ length: count }, (_, i) => ({ existing: i }));
  const range = (n: number, index: number, c: number) => {
    if (c < 1) throw new EditRefusedError(`edit ${n}: count must be at least 1`);
    if (index < 0 || index + c > cells.length) {
      throw new EditRefusedError(
        `edit ${n}: cells ${index}..${index + c - 1} out of range (the notebook has ${cells.length} cells at that point)`,
      );
    }
  };
  const change = (i: number, patch: Partial<Extract<CellSource, { existing: number }>>) => {
    const cur = cells[i];
    if ('fresh' in cur) {
      const f = { ...cur.fresh };
      if (patch.source !== undefined) f.source = patch.source;
      if (patch.metadata !== undefined) f.metadata = patch.metadata;
      if (patch.kind !== undefined) f.kind = patch.kind;
      if (patch.language !== undefined) f.language = patch.language;
      cells[i] = { fresh: f };
    } else {
      cells[i] = { ...cur, ...patch };
    }
  };
  let onlyMetadata = true;

  ops.forEach((op, n) => {
    if (op.op !== 'setMetadata') onlyMetadata = false;
    switch (op.op) {
      case 'insert': {
        const index = int(op.index, 'index', n);
        if (index < 0 || index > cells.length) {
          throw new EditRefusedError(`edit ${n}: insert index ${index} out of range 0..${cells.length}`);
        }
        const fresh = op.cells ?? [];
        if (fresh.length === 0) throw new EditRefusedError(`edit ${n}: insert without cells`);
        for (const c of fresh) {
          if (c.kind !== undefined && !kinds.has(c.kind)) {
            throw new EditRefusedError(`edit ${n}: unknown cell kind ${JSON.stringify(c.kind)} (code, markdown or raw)`);
          }
        }
        cells.splice(index, 0, ...fresh.map((c) => ({ fresh: { ...c } })));
        break;
      }
      case 'delete': {
        const index = int(op.index, 'index', n);
        const c = op.count ? int(op.count, 'count', n) : 1;
        range(n, index, c);
        cells.splice(index, c);
        break;
      }
      case 'replaceSource': {
        const index = int(op.index, 'index', n);
        range(n, index, 1);
        if (typeof op.source !== 'string') throw new EditRefusedError(`edit ${n}: replaceSource without source`);
        change(index, { source: op.source });
        break;
      }
      case 'move': {
        const from = int(op.index, 'index', n);
        const c = op.count ? int(op.count, 'count', n) : 1;
        const to = int(op.toIndex, 'toIndex', n);
        range(n, from, c);
        if (to < 0 || to + c > cells.length) {
          throw new EditRefusedError(`edit ${n}: move target ${to} out of range 0..${cells.length - c}`);
        }
        const moved = cells.splice(from, c);
        cells.splice(to, 0, ...moved);
        break;
      }
      case 'setMetadata': {
        const index = int(op.index, 'index', n);
        range(n, index, 1);
        if (!isRecord(op.metadata)) throw new EditRefusedError(`edit ${n}: setMetadata needs a metadata object`);
        change(index, { metadata: op.metadata });
        break;
      }
      case 'changeType': {
        const index = int(op.index, 'index', n);
        range(n, index, 1);
        const target = op.cells?.[0];
        if (!target?.kind || !kinds.has(target.kind)) {
          throw new EditRefusedError(`edit ${n}: changeType needs cells[0].kind (code, markdown or raw)`);
        }
        change(index, {
          kind: target.kind,
          language: target.language || undefined,
          clearOutputs: target.kind !== 'code' ? true : undefined,
        });
        break;
      }
      case 'clearOutputs': {
        const index = int(op.index, 'index', n);
        const c = op.count ? int(op.count, 'count', n) : 1;
        range(n, index, c);
        for (let i = index; i < index + c; i++) {
          const cur = cells[i];
          if ('existing' in cur) cells[i] = { ...cur, clearOutputs: true };
        }
        break;
      }
      default:
        throw new EditRefusedError(`edit ${n}: unknown op ${JSON.stringify((op as { op: unknown }).op)}`);
    }
  });

  if (onlyMetadata) {
    const updates: { index: number; metadata: Record<string, unknown> }[] = [];
    cells.forEach((c, i) => {
      if ('existing' in c && c.metadata) updates.push({ index: i, metadata: c.metadata });
    });
    return { type: 'metadata', updates };
  }

  let prefix = 0;
  while (prefix < cells.length && prefix < count && isUnchanged(cells[prefix], prefix)) prefix++;
  let suffix = 0;
  while (
    suffix < cells.length - prefix &&
    suffix < count - prefix &&
    isUnchanged(cells[cells.length - 1 - suffix], count - 1 - suffix)
  ) {
    suffix++;
  }
  const start = prefix;
  const end = count - suffix;
  const middle = cells.slice(prefix, cells.length - suffix);
  if (start === end && middle.length === 0) return { type: 'none' };
  cells = middle;
  return { type: 'replaceCells', start, end, cells };
}

/**
 * Runs async jobs one at a time per key (one queue per notebook document), so
 * two edits never interleave their version check and their apply.
 */
export class KeyedQueue {
  private tails = new Map<string, Promise<unknown>>();

  /** Runs job after every earlier job of key has settled. */
  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(job, job);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Number of keys with queued or running jobs. */
  get size(): number {
    return this.tails.size;
  }
}
