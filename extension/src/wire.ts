// Wire shapes of the sidecar protocol as this extension handles them. The
// generated protocol.gen.ts is the source of truth (method names, hash, error
// codes come from it); the shapes here narrow its `unknown` fields (nbformat
// outputs, metadata) for the code that reads them. Type-only, so pure modules
// tested under plain Node import nothing at run time.

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

/** output.Op: one change to a cell's output list. */
export interface OutputOp {
  seq?: number;
  kind: 'append' | 'appendText' | 'replace' | 'clear';
  index?: number;
  output?: NbOutput;
  name?: string;
  text?: string;
}

export interface ExecutionOutputParams {
  notebookPath: string;
  executionId: string;
  cellId?: string;
  seq?: number;
  op: OutputOp;
}

export type ExecStatus = 'queued' | 'running' | 'ok' | 'error' | 'aborted' | 'cancelled' | 'timeout' | 'dead';

export interface ExecutionStateParams {
  notebookPath: string;
  executionId: string;
  cellId?: string;
  origin?: 'human' | 'agent' | string;
  status: ExecStatus | string;
  executionCount?: number | null;
  startedAt?: string | number | null;
  endedAt?: string | number | null;
  seq?: number;
}

export interface SyncStatusParams {
  notebookPath: string;
  syncNeeded: boolean;
  reason?: string;
  dirtyCells?: unknown[];
}

export interface KernelStatusChangedParams {
  notebookPath: string;
  status: string;
}

export interface SnapshotCell {
  id: string;
  kind: 'code' | 'markdown' | 'raw';
  language: string;
  source: string;
  metadata?: Record<string, unknown>;
  executionCount: number | null;
  outputs?: unknown[];
}

export interface Snapshot {
  uri: string;
  path: string;
  version: number;
  metadata?: Record<string, unknown>;
  cells: SnapshotCell[];
}

export interface EditCell {
  id?: string;
  kind?: 'code' | 'markdown' | 'raw';
  language?: string;
  source?: string;
  metadata?: Record<string, unknown>;
}

export interface EditOp {
  op: 'insert' | 'delete' | 'replaceSource' | 'move' | 'setMetadata' | 'changeType' | 'clearOutputs';
  index?: number;
  count?: number;
  toIndex?: number;
  cells?: EditCell[];
  source?: string;
  metadata?: Record<string, unknown>;
}

export interface ApplyEditParams {
  notebookPath: string;
  expectedVersion?: number | null;
  edits: EditOp[];
}

export interface ApplyEditResult {
  applied: boolean;
  version: number;
  reason?: string;
}

export interface StdinRequestParams {
  executionId: string;
  prompt?: string;
  password?: boolean;
}

export interface EnvironmentInfo {
  kind: string;
  name?: string;
  prefix?: string;
  python?: string;
  version?: string;
  hasIpykernel?: boolean;
}

export interface ToolInvokeResult {
  content: string;
  structured?: unknown;
  isError?: boolean;
}

export interface InitializeResult {
  sidecarVersion?: string;
  protocolHash?: string;
  attachSocket?: string;
}

export { MethodNames, ErrorCodes, PROTOCOL_HASH } from './protocol.gen';
import { MethodNames } from './protocol.gen';

export const Methods = {
  initialize: MethodNames.Initialize,
  shutdown: MethodNames.Shutdown,
  kernelStart: MethodNames.KernelStart,
  kernelStop: MethodNames.KernelStop,
  kernelRestart: MethodNames.KernelRestart,
  kernelInterrupt: MethodNames.KernelInterrupt,
  kernelStatus: MethodNames.KernelStatus,
  envList: MethodNames.EnvList,
  executionRun: MethodNames.ExecutionRun,
  executionCancel: MethodNames.ExecutionCancel,
  stdinReply: MethodNames.StdinReply,
  toolInvoke: MethodNames.ToolInvoke,
  executionOutput: MethodNames.ExecutionOutput,
  executionState: MethodNames.ExecutionState,
  kernelStatusChanged: MethodNames.KernelStatusChanged,
  syncStatus: MethodNames.SyncStatus,
  stdinRequest: MethodNames.StdinRequest,
  editorSnapshot: MethodNames.EditorSnapshot,
  editorApplyEdit: MethodNames.EditorApplyEdit,
} as const;
