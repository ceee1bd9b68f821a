// Pure mapping from nbformat outputs to the MIME items of a VS Code notebook
// cell output. No vscode import: the controller wraps these items in
// NotebookCellOutputItem, and unit tests run this module under plain Node.

import { isNbOutput, NbOutput } from '../nbformat';
import type { OutputOp } from '../protocol.gen';

/** VS Code's MIME type for stdout stream items. */
export const StdoutMime = 'application/vnd.code.notebook.stdout';
/** VS Code's MIME type for stderr stream items. */
export const StderrMime = 'application/vnd.code.notebook.stderr';
/** VS Code's MIME type for error items (the built-in error renderer). */
export const ErrorMime = 'application/vnd.code.notebook.error';
/** Plotly's MIME type, ranked first so its renderer wins over the fallbacks. */
export const PlotlyMime = 'application/vnd.plotly.v1+json';

/** One item of a VS Code cell output, before it is wrapped in NotebookCellOutputItem. */
export interface MimeItem {
  /** The item's MIME type. */
  mime: string;
  /** The item's bytes. */
  data: Uint8Array;
}

/**
 * Metadata carried on each cell output, in the shape VS Code's ipynb
 * serializer reads back when the notebook is saved, so our outputs round-trip
 * to the .ipynb as the nbformat outputs they came from.
 */
export interface OutputMetadata {
  /** The nbformat output_type (update_display_data is stored as display_data). */
  outputType: string;
  /** execute_result's execution_count. */
  executionCount?: number | null;
  /** The output's nbformat metadata. */
  metadata?: Record<string, unknown>;
  /** The output's transient data (display_id). */
  transient?: Record<string, unknown>;
}

/** One nbformat output as VS Code cell output parts. */
export interface MappedOutput {
  /** The MIME items, richest first. */
  items: MimeItem[];
  /** The metadata VS Code's ipynb serializer reads back. */
  metadata: OutputMetadata;
}

const encoder = new TextEncoder();

/** nbformat multiline strings are either a string or a list of lines. */
export function joinText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : String(x))).join('');
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
}

function isJsonMime(mime: string): boolean {
  return mime === 'application/json' || /\+json$/.test(mime);
}

function isBase64Mime(mime: string): boolean {
  // nbformat stores binary MIME types base64-encoded; svg is text.
  return (mime.startsWith('image/') && mime !== 'image/svg+xml') || mime === 'application/pdf';
}

// Richest first: VS Code renders the first item it has a renderer for unless
// the user picked another, so plotly comes before its html/png fallbacks.
const mimeOrder = [
  PlotlyMime,
  'application/vnd.jupyter.widget-view+json',
  'application/vnd.vega.v5+json',
  'application/vnd.vegalite.v5+json',
  'application/geo+json',
  'application/json',
  'text/html',
  'image/svg+xml',
  'image/png',
  'image/jpeg',
  'image/gif',
  'text/markdown',
  'text/latex',
  'application/javascript',
  'text/plain',
];

function mimeRank(mime: string): number {
  const i = mimeOrder.indexOf(mime);
  if (i >= 0) return i;
  // Unknown vendor types are probably rich: put them before text/plain.
  return mime.startsWith('application/vnd.') ? 1.5 : mimeOrder.length - 1.5;
}

/** The bytes of one MIME value of a bundle (base64 decoded for binary types, JSON encoded for JSON types). */
export function encodeMimeValue(mime: string, value: unknown): Uint8Array {
  if (isBase64Mime(mime) && (typeof value === 'string' || Array.isArray(value))) {
    return Uint8Array.from(Buffer.from(joinText(value).replace(/\s+/g, ''), 'base64'));
  }
  if (isJsonMime(mime)) {
    // A JSON MIME value is already a JSON value in nbformat (a string is legal too).
    return encoder.encode(typeof value === 'string' ? value : JSON.stringify(value));
  }
  return encoder.encode(joinText(value));
}

/** Map one nbformat output to the items of one VS Code cell output. */
export function mapOutput(out: NbOutput): MappedOutput {
  switch (out.output_type) {
    case 'stream': {
      const mime = out.name === 'stderr' ? StderrMime : StdoutMime;
      return { items: [{ mime, data: encoder.encode(joinText(out.text)) }], metadata: { outputType: 'stream' } };
    }
    case 'error': {
      // The same JSON as NotebookCellOutputItem.error(err), so the built-in
      // error renderer shows the traceback (ANSI colours kept).
      const payload = {
        name: out.ename ?? 'Error',
        message: out.evalue ?? '',
        stack: (out.traceback ?? []).join('\n'),
      };
      return {
        items: [{ mime: ErrorMime, data: encoder.encode(JSON.stringify(payload)) }],
        metadata: { outputType: 'error' },
      };
    }
    case 'display_data':
    case 'execute_result':
    case 'update_display_data': {
      const data = out.data ?? {};
      const mimes = Object.keys(data).sort((a, b) => mimeRank(a) - mimeRank(b));
      const items = mimes.map((mime) => ({ mime, data: encodeMimeValue(mime, data[mime]) }));
      const metadata: OutputMetadata = {
        outputType: out.output_type === 'update_display_data' ? 'display_data' : out.output_type,
        metadata: out.metadata ?? {},
      };
      if (out.output_type === 'execute_result') metadata.executionCount = out.execution_count ?? null;
      if (out.transient) metadata.transient = out.transient;
      return { items, metadata };
    }
    default: {
      const unknown = out as { output_type?: string };
      return {
        items: [{ mime: 'text/plain', data: encoder.encode(JSON.stringify(unknown)) }],
        metadata: { outputType: String(unknown.output_type ?? 'unknown') },
      };
    }
  }
}

/** What the controller must do to the cell after an op. */
export type OutputChange =
  | { type: 'append'; index: number }
  | { type: 'update'; index: number }
  | { type: 'clear' }
  | { type: 'none'; reason: string };

/**
 * An output op as OutputList applies it: the protocol's OutputOp, where only
 * kind is required (ops the extension makes itself carry no seq).
 */
export type OutputOpInput = Pick<OutputOp, 'kind'> & Partial<OutputOp>;

/**
 * The nbformat outputs of one execution, kept so that appendText and replace
 * ops (which name an output by index) can be re-rendered whole.
 */
export class OutputList {
  /** The outputs so far, in order. */
  readonly outputs: NbOutput[] = [];
  private lastSeq = -1;

  /** Applies one op and says what the cell must do to show it. */
  apply(op: OutputOpInput): OutputChange {
    // Notifications arrive in order on one stream; a repeated seq (e.g. a
    // replay after a reconnect) must not duplicate an output.
    if (typeof op.seq === 'number') {
      if (op.seq <= this.lastSeq) return { type: 'none', reason: `seq ${op.seq} already applied` };
      this.lastSeq = op.seq;
    }
    const kind: string = op.kind;
    switch (op.kind) {
      case 'append': {
        if (!isNbOutput(op.output)) return { type: 'none', reason: 'append without an nbformat output' };
        const index = typeof op.index === 'number' && op.index === this.outputs.length ? op.index : this.outputs.length;
        this.outputs.push(cloneOutput(op.output));
        return { type: 'append', index };
      }
      case 'appendText': {
        const index = op.index ?? this.outputs.length - 1;
        const target = this.outputs[index];
        if (!target || target.output_type !== 'stream') {
          // The sidecar merges into a stream it announced; if we missed it, start one.
          this.outputs.push({ output_type: 'stream', name: op.name ?? 'stdout', text: op.text ?? '' });
          return { type: 'append', index: this.outputs.length - 1 };
        }
        target.text = joinText(target.text) + (op.text ?? '');
        return { type: 'update', index };
      }
      case 'replace': {
        const index = op.index ?? -1;
        if (!isNbOutput(op.output) || index < 0 || index >= this.outputs.length) {
          return { type: 'none', reason: `replace of missing output ${index}` };
        }
        this.outputs[index] = cloneOutput(op.output);
        return { type: 'update', index };
      }
      case 'clear':
        this.outputs.length = 0;
        return { type: 'clear' };
      default:
        return { type: 'none', reason: `unknown op kind ${kind}` };
    }
  }
}

function cloneOutput(o: NbOutput): NbOutput {
  if (o.output_type === 'stream') return { ...o, text: joinText(o.text) };
  return { ...o };
}
