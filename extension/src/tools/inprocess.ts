// The reading tools answered in process from the live buffer (notebookmodel.wasm),
// for when the sidecar is not running (crashed, restarting, not started yet).
// Same arguments as the sidecar's tools; the answer says where it came from.
// No vscode import: unit-tested under plain Node with the real .wasm.

import type { NotebookHandle } from '../notebook/model';
import type { ToolArgs } from './confirm';

/** The tools this module answers. */
export const InProcessTools: ReadonlySet<string> = new Set(['get_notebook_outline', 'read_cell_smart', 'search_notebook']);

const note = 'answered by the VS Code extension from the open buffer while the MCP Jupyter sidecar is not running';

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The answer text of a reading tool from the live buffer, or undefined when
 * name is not one of InProcessTools. Bad arguments throw (the model's message).
 */
export function answerInProcess(name: string, args: ToolArgs, notebookPath: string, nb: { handle: NotebookHandle; version: number }): string | undefined {
  switch (name) {
    case 'get_notebook_outline': {
      const cells = nb.handle.outline();
      return JSON.stringify({ notebook_path: notebookPath, source: 'editor', version: nb.version, cell_count: cells.length, cells, note });
    }
    case 'read_cell_smart': {
      const cellId = str(args.cell_id);
      const index = num(args.index);
      if (cellId === undefined && index === undefined) throw new Error('read_cell_smart needs cell_id or index');
      return JSON.stringify({ notebook_path: notebookPath, version: nb.version, cell: nb.handle.readCell({ cellId, index }), note });
    }
    case 'search_notebook': {
      const query = str(args.query);
      if (query === undefined) throw new Error('search_notebook needs a query');
      const max = Math.max(1, Math.min(num(args.max_results) ?? 50, 1000));
      const cellType = str(args.cell_type);
      const outline = cellType ? new Map(nb.handle.outline().map((c) => [c.index, c.type])) : undefined;
      const hits = nb.handle
        .search({
          pattern: query,
          regex: args.regex === true,
          caseSensitive: args.case_sensitive === true,
          sources: true,
          outputs: args.in_outputs !== false,
          maxHits: outline ? 100_000 : max + 1,
        })
        .filter((h) => !outline || outline.get(h.index) === cellType);
      return JSON.stringify({
        notebook_path: notebookPath,
        version: nb.version,
        hits: hits.slice(0, max).map((h) => ({ index: h.index, cell_id: h.cellId, where: h.where, line: h.line, snippet: h.snippet })),
        truncated: hits.length > max,
        note,
      });
    }
    default:
      return undefined;
  }
}
