// Registers `mcp-jupyter mcp` (attach mode) with VS Code's MCP support, so
// VS Code's own MCP clients share this window's kernels and buffers. The API
// arrived in VS Code 1.101; older hosts skip it.

import * as vscode from 'vscode';
import type { SidecarClient } from './sidecar/client';

/** The id of our MCP server definition provider (package.json contributes.mcpServerDefinitionProviders). */
export const McpProviderId = 'mcp-jupyter.mcpServer';

interface McpApi {
  registerMcpServerDefinitionProvider?: (
    id: string,
    provider: {
      provideMcpServerDefinitions: () => unknown[] | Promise<unknown[]>;
      resolveMcpServerDefinition?: (def: unknown) => unknown;
      onDidChangeMcpServerDefinitions?: vscode.Event<void>;
    },
  ) => vscode.Disposable;
}

type StdioCtor = new (label: string, command: string, args?: string[], env?: Record<string, string>, version?: string) => unknown;

/**
 * `mcp-jupyter mcp --workspace <first folder>` finds this window's sidecar
 * through the attach registry (keyed by workspace) and bridges to it, so its
 * tools see the live buffers and share the kernels.
 */
export function mcpArgs(): string[] {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return folder ? ['mcp', '--workspace', folder] : ['mcp'];
}

/** Registers the MCP server definition provider; undefined when this VS Code has no MCP API. */
export function registerMcpProvider(
  sidecar: SidecarClient,
  binary: () => Promise<string>,
  version: string,
  log: vscode.LogOutputChannel,
): vscode.Disposable | undefined {
  const api = vscode.lm as unknown as McpApi;
  const Stdio = (vscode as unknown as { McpStdioServerDefinition?: StdioCtor }).McpStdioServerDefinition;
  if (!api.registerMcpServerDefinitionProvider || !Stdio) {
    log.info(`VS Code ${vscode.version} has no MCP server definition API; not registering the MCP server`);
    return undefined;
  }
  const changed = new vscode.EventEmitter<void>();
  const sub = sidecar.onDidStart(() => changed.fire());
  const reg = api.registerMcpServerDefinitionProvider(McpProviderId, {
    onDidChangeMcpServerDefinitions: changed.event,
    provideMcpServerDefinitions: async () => {
      const bin = await binary();
      return [new Stdio('MCP Jupyter', bin, mcpArgs(), {}, version)];
    },
    resolveMcpServerDefinition: async (def: unknown) => {
      // Attach needs the window's sidecar: make sure it runs before VS Code launches the server.
      await sidecar.start().catch((err: unknown) => log.warn(`sidecar not running for MCP attach: ${String(err)}`));
      return def;
    },
  });
  log.info('registered the MCP server definition provider');
  return vscode.Disposable.from(reg, sub, changed);
}
