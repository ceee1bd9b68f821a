// code-server (a real VS Code: server, workbench, Node extension host) for the
// tests: installed on demand into .cache from the npm registry, started on a
// loopback port with fresh user-data and extension dirs, stopped by process group.

import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const CodeServerVersion = '4.100.3';

export function repoRoot(): string {
  // out/test/vscode/*.js → repo root
  return path.resolve(__dirname, '..', '..', '..');
}

export function codeServerEntry(): string {
  return path.join(repoRoot(), '.cache', `code-server-${CodeServerVersion}`, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

/** Installs code-server into .cache unless it is there (about 1.5 min on 2 cores). */
export function ensureCodeServer(log: (s: string) => void): string {
  const entry = codeServerEntry();
  if (fs.existsSync(entry)) return entry;
  const dir = path.join(repoRoot(), '.cache', `code-server-${CodeServerVersion}`);
  fs.mkdirSync(dir, { recursive: true });
  // @vscode/ripgrep's postinstall downloads rg from GitHub; seed its cache with the system rg.
  const rg = findOnPath('rg');
  if (!rg) throw new Error('ripgrep (rg) is needed to install code-server offline: apt-get install ripgrep');
  const cache = path.join(process.env.TMPDIR || os.tmpdir(), 'vscode-ripgrep-cache-1.15.11');
  fs.mkdirSync(cache, { recursive: true });
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'rg-'));
  fs.copyFileSync(rg, path.join(stage, 'rg'));
  fs.chmodSync(path.join(stage, 'rg'), 0o755);
  for (const triple of ['x86_64-unknown-linux-musl', 'aarch64-unknown-linux-musl']) {
    execFileSync('tar', ['-C', stage, '-czf', path.join(cache, `ripgrep-v13.0.0-10-${triple}.tar.gz`), 'rg']);
  }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'code-server-cache', private: true }) + '\n');
  log(`installing code-server ${CodeServerVersion} into ${dir} …`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--no-save', `code-server@${CodeServerVersion}`], {
    cwd: dir,
    stdio: 'inherit',
    env: {
      ...process.env,
      npm_config_unsafe_perm: 'true',
      npm_config_yes: 'true',
      // node-pty and friends build from source: use the installed Node headers, never a download.
      ...(!process.env.npm_config_nodedir && fs.existsSync(path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node', 'node.h'))
        ? { npm_config_nodedir: path.dirname(path.dirname(process.execPath)) }
        : {}),
    },
  });
  if (!fs.existsSync(entry)) throw new Error(`code-server installed but ${entry} is missing`);
  return entry;
}

export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface CodeServer {
  url: string;
  proc: ChildProcess;
  userDataDir: string;
  extensionsDir: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Keep Workspace Trust on (for the Restricted Mode tests); off by default. */
  workspaceTrust?: boolean;
  entry: string;
  workDir: string;
  settings: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  /** VSIX files to install into the fresh extensions dir before starting. */
  install?: string[];
}

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve(0);
    });
  });
}

export async function startCodeServer(opts: StartOptions): Promise<CodeServer> {
  const userDataDir = path.join(opts.workDir, 'user-data');
  const extensionsDir = path.join(opts.workDir, 'extensions');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(opts.settings, null, 2));
  const config = path.join(opts.workDir, 'config.yaml');
  fs.writeFileSync(config, 'auth: none\ncert: false\n');
  const common = ['--config', config, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
  for (const vsix of opts.install ?? []) {
    execFileSync(process.execPath, [opts.entry, ...common, '--install-extension', vsix], { stdio: 'pipe' });
  }
  const port = await freePort();
  const log = fs.openSync(opts.logFile, 'a');
  const proc = spawn(
    process.execPath,
    [
      opts.entry,
      ...common,
      '--bind-addr', `127.0.0.1:${port}`,
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
    ],
    // Its own process group: stop() ends the server and every child it spawned.
    { detached: true, stdio: ['ignore', log, log], env: { ...process.env, ...opts.env } },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  let exited = false;
  proc.once('exit', () => (exited = true));
  while ((await get(`${url}/healthz`)) !== 200) {
    if (exited) throw new Error(`code-server exited at start; see ${opts.logFile}`);
    if (Date.now() > deadline) throw new Error(`code-server did not answer on ${url} within 120 s; see ${opts.logFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    proc,
    userDataDir,
    extensionsDir,
    stop: async () => {
      if (exited || proc.pid === undefined) return;
      const gone = new Promise<void>((r) => proc.once('exit', () => r()));
      try {
        process.kill(-proc.pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-proc.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}
