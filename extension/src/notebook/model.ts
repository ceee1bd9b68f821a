// notebookmodel (the Go notebook model, compiled to WebAssembly) in the
// extension host: the same outline, search and cell reading as the sidecar,
// answered in process from the live buffer. Notebooks are opened once as a
// handle and then only their changed cells are sent (see
// notebookmodel/jsapi/handles.go). No vscode import: unit tests load the
// real .wasm under plain Node.

import * as fs from 'node:fs';
import type { OutlineEntry, Snapshot, SnapshotCell } from '../protocol.gen';

/** The Go runtime of wasm_exec.js. */
interface GoRuntime {
  importObject: object;
  run(instance: object): Promise<void>;
}

/** The part of the WebAssembly global this module uses (lib ES2022 has no WebAssembly types). */
interface WasmGlobal {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: object }>;
}

declare global {
  // Set by wasm_exec.js and by notebookmodel.wasm (notebookmodel/wasm/main.go).
  var Go: (new () => GoRuntime) | undefined;
  var mcpJupyterNotebookModel: Record<string, (...args: string[]) => string> | undefined;
}

/** What Search looks for (notebookmodel.SearchQuery). */
export interface SearchQuery {
  /** A literal string, or an RE2 regular expression when regex. */
  pattern: string;
  /** Treat pattern as a regular expression. */
  regex?: boolean;
  /** Match case exactly (default: ignore case). */
  caseSensitive?: boolean;
  /** Search cell sources (default when outputs is false too). */
  sources?: boolean;
  /** Search the text of outputs. */
  outputs?: boolean;
  /** At most this many hits (default 200). */
  maxHits?: number;
}

/** One matching line (notebookmodel.SearchHit). */
export interface SearchHit {
  /** The cell's index. */
  index: number;
  /** The cell's id. */
  cellId: string;
  /** source or output. */
  where: string;
  /** The output's index when where is output. */
  outputIndex?: number;
  /** 1-based line of the match. */
  line: number;
  /** The matching line, shortened around the match. */
  snippet: string;
}

/** A cell by index, id, or both (notebookmodel.CellRef). */
export interface CellRef {
  /** 0-based index. */
  index?: number;
  /** nbformat cell id. */
  cellId?: string;
}

/** An error answer of the model (jsapi.Error). */
export class NotebookModelError extends Error {
  constructor(
    /** syntax | notNotebook | unsupportedVersion | staleView | badEdit | badArgument | internal. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The loaded notebookmodel.wasm. */
export class NotebookModel {
  private constructor(private readonly api: Record<string, (...args: string[]) => string>) {}

  /**
   * Instantiates notebookmodel.wasm with Go's wasm_exec.js (both in extension/dist).
   * One instance per extension host; a second load returns the first.
   */
  static async load(wasmPath: string, wasmExecPath: string): Promise<NotebookModel> {
    if (!globalThis.mcpJupyterNotebookModel) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(wasmExecPath); // defines globalThis.Go
      const GoCtor = globalThis.Go;
      if (!GoCtor) throw new Error(`${wasmExecPath} did not define the Go runtime`);
      const go = new GoCtor();
      const wasm: WasmGlobal = Reflect.get(globalThis, 'WebAssembly');
      const { instance } = await wasm.instantiate(await fs.promises.readFile(wasmPath), go.importObject);
      void go.run(instance); // settles only if the Go program exits; the API is set synchronously
    }
    const api = globalThis.mcpJupyterNotebookModel;
    if (!api || typeof api.open !== 'function') throw new Error(`${wasmPath} does not provide the handle API`);
    return new NotebookModel(api);
  }

  /** Calls a model method; throws NotebookModelError for an error answer. */
  call(method: string, ...args: unknown[]): unknown {
    const fn = this.api[method];
    if (typeof fn !== 'function') throw new NotebookModelError('badArgument', `notebookmodel has no method ${method}`);
    const env = JSON.parse(fn(...args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a)))));
    if (env.error) throw new NotebookModelError(String(env.error.code), String(env.error.message));
    return env.ok;
  }

  /** Opens a buffer; later changes go through the handle. */
  open(snapshot: Snapshot): NotebookHandle {
    const res = this.call('open', snapshot);
    const handle = typeof res === 'object' && res !== null ? Reflect.get(res, 'handle') : undefined;
    if (typeof handle !== 'number') throw new NotebookModelError('internal', 'open returned no handle');
    return new NotebookHandle(this, handle);
  }
}

/** One open buffer in the model. */
export class NotebookHandle {
  private closed = false;

  constructor(
    private readonly model: NotebookModel,
    /** The model's handle number. */
    readonly id: number,
  ) {}

  private call(method: string, ...args: unknown[]): unknown {
    if (this.closed) throw new NotebookModelError('badArgument', 'the notebook handle is closed');
    return this.model.call(method, this.id, ...args);
  }

  /** Replaces deleteCount cells at start with cells; version is the buffer's version after the change. */
  splice(start: number, deleteCount: number, cells: SnapshotCell[], version: number): void {
    this.call('splice', { start, deleteCount, cells, version });
  }

  /** The outline of the buffer. */
  outline(): OutlineEntry[] {
    const res = this.call('outlineOf');
    return Array.isArray(res) ? res : [];
  }

  /** Lines matching q. */
  search(q: SearchQuery): SearchHit[] {
    const res = this.call('searchOf', q);
    return Array.isArray(res) ? res : [];
  }

  /** One cell with a bounded view of its outputs (notebookmodel.CellView). */
  readCell(ref: CellRef, maxOutputChars?: number): unknown {
    return this.call('readCellOf', ref, maxOutputChars ? { maxOutputChars } : {});
  }

  /** Frees the buffer in the model. */
  close(): void {
    if (this.closed) return;
    this.call('close');
    this.closed = true;
  }
}
