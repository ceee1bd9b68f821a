// How each MCP client is pointed at `mcp-jupyter mcp` (no vscode import: unit-tested in Node).

/** How an MCP client is pointed at `mcp-jupyter mcp`. */
export interface ClientRecipe {
  /** The client's name, as the quick pick shows it. */
  label: string;
  /** The client's own command that adds the server, when it has one. */
  command?: string;
  /** A project-scope configuration file (relative to the workspace folder), when the client has one. */
  projectFile?: string;
}

/** The server entry every client's configuration gets: the command on PATH, no token, no absolute path. */
export const ServerEntry = { command: 'mcp-jupyter', args: ['mcp'] } as const;

/** The MCP clients "Connect an MCP Client…" knows, in menu order. */
export const Clients: ClientRecipe[] = [
  { label: 'Claude Code', command: 'claude mcp add jupyter -- mcp-jupyter mcp', projectFile: '.mcp.json' },
  { label: 'Cursor', projectFile: '.cursor/mcp.json' },
  { label: 'Gemini CLI', command: 'gemini mcp add jupyter mcp-jupyter mcp', projectFile: '.gemini/settings.json' },
  { label: 'Codex', command: 'codex mcp add jupyter -- mcp-jupyter mcp' },
  { label: 'Copilot CLI', command: 'copilot mcp add jupyter -- mcp-jupyter mcp' },
];

/**
 * The project configuration with the jupyter server added: the file's other
 * keys and servers are kept. Refuses (throws) a file that is not a JSON object.
 */
export function withServer(existing: string | undefined): string {
  let config: Record<string, unknown> = {};
  if (existing && existing.trim()) {
    const parsed: unknown = JSON.parse(existing);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('the file is not a JSON object');
    }
    config = parsed as Record<string, unknown>;
  }
  const servers = (config.mcpServers ?? {}) as Record<string, unknown>;
  if (typeof servers !== 'object' || Array.isArray(servers)) throw new Error('its mcpServers is not an object');
  config.mcpServers = { ...servers, jupyter: { ...ServerEntry, args: [...ServerEntry.args] } };
  return JSON.stringify(config, null, 2) + '\n';
}
