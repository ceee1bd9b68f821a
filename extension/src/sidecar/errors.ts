// The typed data of the sidecar's application errors (protocol.gen.ts
// ErrorCodes / ErrorData), read from a failed request with a run-time check
// of every field, so a malformed error degrades to "no data", never to a
// wrong field. No vscode import: unit tests run this under plain Node.

import { ResponseError } from 'vscode-jsonrpc';
import { ErrorCodes, KernelStartFailedData, NotFoundData, NotFoundKindValues } from '../protocol.gen';

function dataOf(err: unknown, code: number): object | undefined {
  if (!(err instanceof ResponseError) || err.code !== code) return undefined;
  const data: unknown = err.data;
  return typeof data === 'object' && data !== null ? data : undefined;
}

function str(d: object, key: string): string | undefined {
  const v: unknown = Reflect.get(d, key);
  return typeof v === 'string' ? v : undefined;
}

/** The data of a KernelStartFailed error (e.g. the exact ipykernel install command); undefined for other errors. */
export function kernelStartFailure(err: unknown): KernelStartFailedData | undefined {
  const d = dataOf(err, ErrorCodes.KernelStartFailed);
  if (!d) return undefined;
  return {
    notebookPath: str(d, 'notebookPath') ?? '',
    python: str(d, 'python'),
    installCommand: str(d, 'installCommand'),
    stderr: str(d, 'stderr'),
  };
}

/** The data of a NotFound error (what was missing, and its name); undefined for other errors. */
export function notFound(err: unknown): NotFoundData | undefined {
  const d = dataOf(err, ErrorCodes.NotFound);
  const kind = d && NotFoundKindValues.find((k) => k === str(d, 'kind'));
  if (!d || !kind) return undefined;
  return { kind, name: str(d, 'name') ?? '' };
}
