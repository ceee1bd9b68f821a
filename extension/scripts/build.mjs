// Bundles the extension into extension/dist/extension.js with esbuild (one
// file, vscode external) after a strict type check of the sources.

import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', root, '--noEmit'], { stdio: 'inherit', cwd: root });

const result = await esbuild.build({
  entryPoints: [path.join(root, 'extension', 'src', 'extension.ts')],
  outfile: path.join(root, 'extension', 'dist', 'extension.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  minify: true,
  sourcemap: false,
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`extension/dist/extension.js: ${(bytes / 1024).toFixed(1)} KiB`);
