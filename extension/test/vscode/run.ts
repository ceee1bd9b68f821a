// Runs the extension in a real VS Code (code-server) driven by Debian's
// Chromium through playwright-core:
//  1. extension-host integration tests (suite/index.ts) via the test payload;
//  2. a UI smoke test: the built VSIX installed, the notebook opened, the
//     kernel picked in the picker, Run All, the output found in the webview,
//     a screenshot saved under .test-output/.
// Usage: node out/test/vscode/run.js [integration|restricted|ui]...   (default: all)
//  (restricted: the integration suite's Restricted Mode tests in an untrusted folder)

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Browser, chromium, Frame, Page } from 'playwright-core';
import { ensureCodeServer, findOnPath, repoRoot, startCodeServer } from './codeserver';

const root = repoRoot();
const outDir = path.join(root, '.test-output', 'vscode');
const fixtures = path.join(root, 'extension', 'test', 'vscode', 'fixtures');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

let passed = 0;
let failed = 0;
const metrics: Record<string, number> = {};

function log(s: string): void {
  process.stdout.write(`${s}\n`);
}

function report(name: string, ok: boolean, ms: number, error?: string): void {
  if (ok) passed++;
  else failed++;
  log(`${ok ? 'ok' : 'not ok'} - ${name} (${ms} ms)`);
  if (error) log(error.split('\n').map((l) => `    ${l}`).join('\n'));
}

function need(p: string | undefined, what: string): string {
  if (!p || !fs.existsSync(p)) {
    throw new Error(`${what} is missing${p ? ` (${p})` : ''}`);
  }
  return p;
}

function chromiumPath(): string {
  const p = process.env.CHROMIUM_PATH || findOnPath('chromium') || findOnPath('chromium-browser');
  return need(p, 'Chromium (apt-get install chromium, or set CHROMIUM_PATH)');
}

/**
 * Ends processes left running in a test workspace (kernels whose working
 * directory is the workspace): the test started them, and a sidecar killed on
 * purpose may leave its kernels behind. Linux only (/proc).
 */
async function reapWorkspace(ws: string): Promise<void> {
  if (!fs.existsSync('/proc')) return;
  const inWorkspace = (): { pid: number; cmd: string }[] => {
    const found: { pid: number; cmd: string }[] = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cwd = fs.readlinkSync(path.join('/proc', entry, 'cwd'));
        if (cwd === ws || cwd.startsWith(ws + path.sep)) {
          const cmd = fs.readFileSync(path.join('/proc', entry, 'cmdline'), 'utf8').split('\0').join(' ').trim();
          found.push({ pid: Number(entry), cmd });
        }
      } catch {
        // gone, or not ours to read
      }
    }
    return found;
  };
  // A sidecar that lost its editor shuts its kernels down by itself: give it time.
  const deadline = Date.now() + 10_000;
  let left = inWorkspace();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    left = inWorkspace();
  }
  if (left.length === 0) return;
  log(`# still running 10 s after VS Code stopped, ended now: ${left.map((p) => `${p.pid} ${p.cmd.slice(0, 120)}`).join('; ')}`);
  for (const { pid } of left) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await new Promise((r) => setTimeout(r, 2000));
  for (const { pid } of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ended by SIGTERM
    }
  }
}

function freshWorkspace(name: string): string {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), `mcpj-${name}-`));
  for (const f of fs.readdirSync(fixtures)) fs.copyFileSync(path.join(fixtures, f), path.join(ws, f));
  return ws;
}

async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

function venvPath(): string {
  const venv = process.env.MCP_JUPYTER_TEST_VENV || path.join(root, '.venv');
  need(path.join(venv, 'bin', 'python'), 'the test venv (make venv)');
  return venv;
}

/**
 * restricted: the folder opens untrusted (Workspace Trust on, no prompt), and the suite runs its Restricted Mode
 * tests instead of the main ones.
 */
async function integration(entry: string, restricted = false): Promise<void> {
  const sidecar = need(process.env.MCP_JUPYTER_BIN || path.join(root, 'bin', 'mcp-jupyter'), 'the sidecar binary (make sidecar)');
  need(path.join(root, 'extension', 'dist', 'extension.js'), 'the extension bundle (npm run build)');
  const ws = freshWorkspace(restricted ? 'rm' : 'it');
  if (restricted) fs.symlinkSync(venvPath(), path.join(ws, '.venv'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpj-cs-'));
  const resultsFile = path.join(work, 'results.jsonl');
  fs.writeFileSync(resultsFile, '');
  const server = await startCodeServer({
    entry,
    workDir: work,
    logFile: path.join(outDir, restricted ? 'restricted-code-server.log' : 'integration-code-server.log'),
    workspaceTrust: restricted,
    settings: {
      'mcp-jupyter.sidecarPath': sidecar,
      'mcp-jupyter.defaultEnvironment': venvPath(),
      'workbench.startupEditor': 'none',
      // Kernels open ZeroMQ ports; code-server would offer to forward each of them.
      'remote.autoForwardPorts': false,
      'security.workspace.trust.enabled': restricted,
      'security.workspace.trust.startupPrompt': 'never',
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      // Saves only when a test saves (the stamp-on-save test counts on it).
      'files.autoSave': 'off',
    },
    env: {
      MCP_JUPYTER_TEST_RESULTS: resultsFile,
      MCP_JUPYTER_TEST_WORKSPACE: ws,
      ...(restricted ? { MCP_JUPYTER_TEST_RESTRICTED: '1' } : {}),
    },
  });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    let fatal = '';
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      fs.appendFileSync(path.join(outDir, 'integration-console.log'), `${m.text()}\n`);
      if (m.text().includes('can launch the test runner')) fatal = m.text();
    });
    // The web workbench parses payload paths as URIs: name the server's files by remote URI.
    const remote = (p: string) => `vscode-remote://${new URL(server.url).host}${p}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remote(root)],
      ['extensionTestsPath', remote(path.join(root, 'out', 'test', 'vscode', 'suite'))],
    ]);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(payload)}`);
    // The suite appends one line per test and a final {"done": true}.
    let seen = 0;
    const deadline = Date.now() + 15 * 60_000;
    for (;;) {
      const lines = fs.readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean);
      for (; seen < lines.length; seen++) {
        const r = JSON.parse(lines[seen]) as { test?: string; ok?: boolean; ms?: number; error?: string; metric?: string; value?: number; done?: boolean };
        if (r.metric) {
          metrics[r.metric] = r.value ?? NaN;
          log(`# ${r.metric}: ${r.value?.toFixed(1)}`);
        } else if (r.test) report(`vscode: ${r.test}`, !!r.ok, r.ms ?? 0, r.error);
      }
      if (lines.some((l) => l.includes('"done":true'))) break;
      if (fatal) {
        report('vscode: test runner loaded', false, 0, fatal);
        break;
      }
      if (Date.now() > deadline) {
        report('vscode: integration suite finished', false, 0, `no result within 15 min; see ${outDir}`);
        break;
      }
      await page.waitForTimeout(250);
    }
    await page.screenshot({ path: path.join(outDir, 'integration.png') });
  } finally {
    await browser.close();
    await server.stop();
    await reapWorkspace(ws);
  }
}

/** Finds text in any frame (outputs render inside the notebook webview's nested iframes). */
async function findInFrames(page: Page, text: string): Promise<Frame | undefined> {
  for (const f of page.frames()) {
    try {
      if ((await f.locator(`text=${text}`).count()) > 0) return f;
    } catch {
      // A frame that navigated away meanwhile.
    }
  }
  return undefined;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function ui(entry: string): Promise<void> {
  const target = `${process.platform}-${{ x64: 'x64', arm64: 'arm64' }[process.arch as 'x64' | 'arm64'] ?? process.arch}`;
  const vsix = need(path.join(root, 'dist', `mcp-jupyter-${target}-${pkg.version}.vsix`), 'the VSIX (make vsix)');
  const ws = freshWorkspace('ui');
  // A workspace venv for the environment picker to find (the test venv, linked in).
  fs.symlinkSync(venvPath(), path.join(ws, '.venv'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpj-ui-'));
  const server = await startCodeServer({
    entry,
    workDir: work,
    install: [vsix],
    logFile: path.join(outDir, 'ui-code-server.log'),
    // No sidecarPath: the binary bundled in the VSIX must work on its own. No
    // default environment either: the person picks one in the status bar.
    settings: {
      'workbench.startupEditor': 'none',
      // Kernels open ZeroMQ ports; code-server would offer to forward each of them.
      'remote.autoForwardPorts': false,
      'security.workspace.trust.enabled': false,
      'telemetry.telemetryLevel': 'off',
    },
  });
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const shot = path.join(root, '.test-output', 'vscode-ui-smoke.png');
  try {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(ws)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
    // Open the notebook; early on the ipynb editor may not be registered yet
    // and the file opens as JSON text: close it and try again.
    await waitFor(
      'demo.ipynb in the notebook editor',
      async () => {
        await page.keyboard.press('Control+P');
        const input = page.locator('.quick-input-widget input');
        await input.waitFor({ state: 'visible', timeout: 20_000 });
        await input.fill('demo.ipynb');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'demo.ipynb' }).first().waitFor({ timeout: 20_000 });
        await page.keyboard.press('Enter');
        try {
          await page.locator('.notebook-editor .cell-list-container').first().waitFor({ timeout: 10_000 });
          return true;
        } catch {
          await page.keyboard.press('Control+W');
          return false;
        }
      },
      120_000,
    );
    // Choose the Python environment in the status bar picker: the workspace's .venv.
    await page.locator('.statusbar-item', { hasText: 'Select Python' }).first().click({ timeout: 60_000 });
    const envRow = page.locator('.quick-input-list .monaco-list-row', { hasText: '.venv' }).first();
    await envRow.waitFor({ state: 'visible', timeout: 60_000 });
    await page.screenshot({ path: path.join(outDir, 'ui-environment-picker.png') });
    await envRow.click();
    await page.locator('.statusbar-item', { hasText: '.venv' }).first().waitFor({ timeout: 30_000 });
    // Pick the kernel the way a person does: the kernel picker of the notebook toolbar.
    const toolbar = page.locator('.notebook-toolbar-container');
    await toolbar.locator('.action-item', { hasText: /Select Kernel|MCP Agent Kernel/ }).first().click({ timeout: 60_000 });
    const kernelRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'MCP Agent Kernel' }).first();
    await kernelRow.waitFor({ state: 'visible', timeout: 60_000 });
    await page.screenshot({ path: path.join(outDir, 'ui-kernel-picker.png') });
    await kernelRow.click();
    await toolbar.locator('.action-item', { hasText: 'MCP Agent Kernel' }).first().waitFor({ timeout: 30_000 });
    const clicked = Date.now();
    await toolbar.locator('.action-item', { hasText: 'Run All' }).first().click();
    const frame = await waitFor('the cell output in the webview', () => findInFrames(page, 'hello from MCP Agent Kernel'), 180_000);
    metrics.ui_run_all_to_output_ms = Date.now() - clicked;
    // The execute_result of the second cell renders too.
    await waitFor('the second output', () => findInFrames(page, '45'), 60_000);
    const count = await frame.locator('text=hello from MCP Agent Kernel').count();
    if (count < 1) throw new Error('output text vanished');
    // Both code cells end with the success mark and their execution order.
    await waitFor('two succeeded cells', async () => (await page.locator('.codicon-notebook-state-success').count()) >= 2, 60_000);
    await waitFor('execution order [2]', async () => (await page.locator('.cell-execution-order', { hasText: '[2]' }).count()) >= 1 || (await page.getByText('[2]').count()) >= 1, 30_000);
  } finally {
    await page.screenshot({ path: shot }).catch(() => undefined);
    await browser.close();
    await server.stop();
    await reapWorkspace(ws);
  }
  log(`# screenshot: ${path.relative(root, shot)}`);
}

async function main(): Promise<void> {
  fs.mkdirSync(outDir, { recursive: true });
  const which = process.argv.slice(2);
  const want = (k: string) => which.length === 0 || which.includes(k);
  let entry: string;
  try {
    entry = ensureCodeServer(log);
  } catch (err) {
    report('vscode: code-server available', false, 0, (err as Error).message);
    return finish();
  }
  if (want('integration')) {
    const t0 = Date.now();
    try {
      await integration(entry);
    } catch (err) {
      report('vscode: integration harness', false, Date.now() - t0, (err as Error).stack);
    }
  }
  if (want('restricted')) {
    const t0 = Date.now();
    try {
      await integration(entry, true);
    } catch (err) {
      report('vscode: Restricted Mode harness', false, Date.now() - t0, (err as Error).stack);
    }
  }
  if (want('ui')) {
    const t0 = Date.now();
    try {
      await ui(entry);
      report('vscode-ui: VSIX installed, kernel picked, Run All, output shown', true, Date.now() - t0);
    } catch (err) {
      report('vscode-ui: VSIX installed, kernel picked, Run All, output shown', false, Date.now() - t0, (err as Error).stack);
    }
  }
  finish();
}

function finish(): void {
  if (Object.keys(metrics).length) {
    // Merge: integration and ui may run separately.
    const file = path.join(outDir, 'metrics.json');
    const before = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, number>) : {};
    fs.writeFileSync(file, JSON.stringify({ ...before, ...metrics }, null, 2) + '\n');
  }
  log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
}

void main();
