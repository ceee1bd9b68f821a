// Puts the bundled `mcp-jupyter` within reach of agent CLIs: on PATH in this
// window's terminals, a stable launcher outside the window that survives
// extension updates, and ready-made client configurations (never a token).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Clients, ServerEntry, withServer } from './clients';

/** Where the launcher that survives extension updates lives: refreshed to point at the current binary on every activation. */
function launcherPath(context: vscode.ExtensionContext): string {
  const name = process.platform === 'win32' ? 'mcp-jupyter.cmd' : 'mcp-jupyter';
  return path.join(context.globalStorageUri.fsPath, 'bin', name);
}

function writeLauncher(context: vscode.ExtensionContext, binary: string): string {
  const launcher = launcherPath(context);
  fs.mkdirSync(path.dirname(launcher), { recursive: true });
  fs.rmSync(launcher, { force: true });
  if (process.platform === 'win32') fs.writeFileSync(launcher, `@"${binary}" %*\r\n`);
  else fs.symlinkSync(binary, launcher);
  return launcher;
}

/**
 * Registers the terminal PATH entry, the stable launcher and the two commands.
 * Resolves to the directory put on terminals' PATH.
 */
export function registerReach(
  context: vscode.ExtensionContext,
  binary: () => Promise<string>,
  log: vscode.LogOutputChannel,
): Promise<string> {
  const env = context.environmentVariableCollection;
  env.description = 'Adds `mcp-jupyter` (the MCP Jupyter sidecar) to PATH, for agent CLIs in this window';
  const ready = binary().then((bin) => {
    const dir = path.dirname(bin);
    env.prepend('PATH', dir + path.delimiter);
    try {
      writeLauncher(context, bin);
    } catch (err) {
      log.warn(`could not refresh the mcp-jupyter launcher: ${String(err)}`);
    }
    return dir;
  });
  ready.catch(() => undefined);

  context.subscriptions.push(
    vscode.commands.registerCommand('mcp-jupyter.installCommand', async () => {
      const launcher = writeLauncher(context, await binary());
      if (process.platform === 'win32') {
        const dir = path.dirname(launcher);
        const pick = await vscode.window.showInformationMessage(
          `Add ${dir} to your PATH to run mcp-jupyter outside VS Code; it keeps working across extension updates.`,
          'Copy Folder',
        );
        if (pick) await vscode.env.clipboard.writeText(dir);
        return;
      }
      const target = path.join(os.homedir(), '.local', 'bin', 'mcp-jupyter');
      let current: string | undefined;
      try {
        current = fs.readlinkSync(target);
      } catch {
        current = fs.existsSync(target) ? '(a file)' : undefined;
      }
      if (current && current !== launcher) {
        const ok = await vscode.window.showWarningMessage(`${target} exists (${current}). Replace it?`, { modal: true }, 'Replace');
        if (ok !== 'Replace') return;
      }
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.rmSync(target, { force: true });
      fs.symlinkSync(launcher, target);
      const onPath = (process.env.PATH ?? '').split(path.delimiter).includes(path.dirname(target));
      void vscode.window.showInformationMessage(
        `mcp-jupyter is installed as ${target}` + (onPath ? '.' : `; add ${path.dirname(target)} to your PATH.`),
      );
    }),
    vscode.commands.registerCommand('mcp-jupyter.connectClient', async () => {
      const client = await vscode.window.showQuickPick(
        Clients.map((c) => ({ label: c.label, description: c.command ?? c.projectFile, client: c })),
        { title: 'Connect an MCP Client to this window', placeHolder: 'Which agent?' },
      );
      if (!client) return;
      const c = client.client;
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      const actions: vscode.QuickPickItem[] = [];
      if (c.command) actions.push({ label: 'Copy Command', detail: c.command });
      actions.push({ label: 'Copy Configuration', detail: JSON.stringify({ mcpServers: { jupyter: ServerEntry } }) });
      if (c.projectFile && folder) actions.push({ label: `Write ${c.projectFile}…`, detail: 'shows the file first, then asks' });
      const action = await vscode.window.showQuickPick(actions, { title: c.label });
      if (!action) return;
      if (action.label === 'Copy Command' || action.label === 'Copy Configuration') {
        await vscode.env.clipboard.writeText(action.detail ?? '');
        void vscode.window.showInformationMessage(
          'Copied. In this window\'s terminals mcp-jupyter is on PATH; elsewhere run "Install \'mcp-jupyter\' Command in PATH" first.',
        );
        return;
      }
      const file = path.join(folder!, c.projectFile!);
      let next: string;
      try {
        next = withServer(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined);
      } catch (err) {
        void vscode.window.showErrorMessage(`${c.projectFile} was not changed: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      const preview = await vscode.workspace.openTextDocument({ language: 'json', content: next });
      await vscode.window.showTextDocument(preview, { preview: true, viewColumn: vscode.ViewColumn.Beside });
      const ok = await vscode.window.showInformationMessage(`Write this to ${c.projectFile}?`, { modal: true }, 'Write');
      if (ok !== 'Write') return;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, next);
      void vscode.window.showInformationMessage(`${c.label} will start mcp-jupyter from ${c.projectFile}.`);
    }),
  );
  return ready;
}
