// Pure confirmation texts for the language-model tools: what the person sees
// before an agent runs code or edits the notebook.

import { ReadOnlyTools } from './tools.gen';

/** A tool call's JSON arguments. */
export type ToolArgs = Record<string, unknown>;

/** What VS Code shows for a tool call: a progress message, and a confirmation unless the tool is read-only. */
export interface Confirmation {
  /** Shown while the tool runs. */
  invocationMessage: string;
  /** Asked before the tool runs; absent for read-only tools. */
  confirm?: { title: string; markdown: string };
}

/** What the live buffer says about the call's target. */
export interface ConfirmContext {
  /** The notebook's file name. */
  notebookName?: string;
  /** Source of the cell the call addresses, from the live buffer. */
  cellSource?: string;
  /** Index of the cell the call addresses. */
  cellIndex?: number;
}

function fence(code: string, lang = 'python'): string {
  // A fence longer than any backtick run inside the code keeps it intact.
  const longest = Math.max(2, ...Array.from(code.matchAll(/`+/g), (m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${code}\n${f}`;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function cellName(args: ToolArgs, ctx: ConfirmContext): string {
  if (typeof ctx.cellIndex === 'number') return `cell ${ctx.cellIndex + 1}`;
  if (str(args.cell_id)) return `cell ${args.cell_id as string}`;
  if (typeof args.index === 'number') return `cell ${args.index + 1}`;
  return 'a cell';
}

/** The confirmation of one tool call (read-only tools, from the generated ReadOnlyTools, get none). */
export function confirmationFor(name: string, args: ToolArgs, ctx: ConfirmContext): Confirmation {
  const nb = ctx.notebookName ?? str(args.notebook_path) ?? 'the notebook';
  const where = `${cellName(args, ctx)} of ${nb}`;
  if (ReadOnlyTools.has(name)) return { invocationMessage: `${name.replace(/_/g, ' ')} (${nb})` };
  switch (name) {
    case 'run_cell':
    case 'run_cell_async': {
      const code = str(args.code_override) ?? ctx.cellSource;
      return {
        invocationMessage: `Running ${where}`,
        confirm: {
          title: `Run ${where}?`,
          markdown: code !== undefined ? `The kernel will run:\n\n${fence(code)}` : `The kernel will run ${where}.`,
        },
      };
    }
    case 'propose_edit': {
      const next = str(args.new_content) ?? '';
      const before = ctx.cellSource !== undefined ? `Now:\n\n${fence(ctx.cellSource)}\n\n` : '';
      return {
        invocationMessage: `Editing ${where}`,
        confirm: { title: `Edit ${where}?`, markdown: `${before}New source:\n\n${fence(next)}\n\nUndo with Ctrl+Z.` },
      };
    }
    case 'edit_cell_source': {
      const all = args.replace_all === true ? ' (every occurrence)' : '';
      return {
        invocationMessage: `Editing ${where}`,
        confirm: {
          title: `Edit ${where}?`,
          markdown: `Replace${all}:\n\n${fence(str(args.old_string) ?? '')}\n\nwith:\n\n${fence(str(args.new_string) ?? '')}\n\nUndo with Ctrl+Z.`,
        },
      };
    }
    case 'run_cells': {
      const ids = Array.isArray(args.cell_ids) ? (args.cell_ids as unknown[]).map(String) : undefined;
      const which = ids ? `cells ${ids.join(', ')}` : args.start !== undefined || args.end !== undefined ? `cells ${Number(args.start ?? 0) + 1}–${args.end !== undefined ? Number(args.end) + 1 : 'last'}` : 'every code cell';
      return {
        invocationMessage: `Running ${which} of ${nb}`,
        confirm: { title: `Run ${which} of ${nb}?`, markdown: `The kernel will run ${which} in order${args.stop_on_error === false ? '' : ', stopping at the first error'}.` },
      };
    }
    case 'create_notebook':
      return {
        invocationMessage: `Creating ${nb}`,
        confirm: { title: `Create ${nb}?`, markdown: `A new notebook with ${Array.isArray(args.cells) ? args.cells.length : 0} cell(s); an existing file is never overwritten.` },
      };
    case 'append_cell':
    case 'insert_cell': {
      const kind = str(args.type) ?? 'code';
      const lang = kind === 'markdown' ? 'markdown' : 'python';
      const at = name === 'append_cell' ? 'at the end' : typeof args.index === 'number' ? `at position ${args.index + 1}` : str(args.after_cell_id) ? `after cell ${args.after_cell_id as string}` : '';
      return {
        invocationMessage: `Adding a ${kind} cell to ${nb}`,
        confirm: {
          title: `Add a ${kind} cell ${at} of ${nb}?`.replace(/\s+/g, ' '),
          markdown: fence(str(args.content) ?? '', lang),
        },
      };
    }
    case 'delete_cell':
      return {
        invocationMessage: `Deleting ${where}`,
        confirm: {
          title: `Delete ${where}?`,
          markdown: ctx.cellSource !== undefined ? `${fence(ctx.cellSource)}\n\nUndo with Ctrl+Z.` : 'Undo with Ctrl+Z.',
        },
      };
    case 'move_cell':
      return {
        invocationMessage: `Moving ${where}`,
        confirm: { title: `Move ${where} to position ${Number(args.to_index) + 1}?`, markdown: 'Undo with Ctrl+Z.' },
      };
    default: {
      const shown = JSON.stringify(args, null, 2);
      return {
        invocationMessage: `${name.replace(/_/g, ' ')} (${nb})`,
        confirm: { title: `${name.replace(/_/g, ' ')} on ${nb}?`, markdown: fence(shown, 'json') },
      };
    }
  }
}
