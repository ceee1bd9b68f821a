// nbformat v4 outputs as the extension reads them. nbformat is a published
// format, not part of our wire contract: the protocol carries outputs as raw
// JSON (`unknown` in protocol.gen.ts, MIME bundles untouched), and this module
// narrows them with a run-time check. Type-only apart from the guard, so pure
// modules tested under plain Node import nothing heavy.

/** An nbformat v4 output, MIME bundles untouched. */
export type NbOutput =
  | { output_type: 'stream'; name: 'stdout' | 'stderr' | string; text: string | string[] }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] }
  | {
      output_type: 'display_data' | 'execute_result' | 'update_display_data';
      data: Record<string, unknown>;
      metadata?: Record<string, unknown>;
      execution_count?: number | null;
      transient?: Record<string, unknown>;
    };

/**
 * Whether v looks like an nbformat output (an object with a string
 * output_type). Fields are checked where they are read (mapOutput tolerates
 * missing ones), so an odd output is shown, not dropped.
 */
export function isNbOutput(v: unknown): v is NbOutput {
  return typeof v === 'object' && v !== null && 'output_type' in v && typeof v.output_type === 'string';
}
