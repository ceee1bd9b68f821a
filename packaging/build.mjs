// Builds the npm packages and Python wheels that carry the sidecar.
//   node packaging/build.mjs [--targets all|host|linux-x64,...] [--out dist/release]
// Writes, for each target: <out>/mcp-jupyter-pair-<target>-<version>.tgz (npm platform package) and
// <out>/mcp_jupyter_pair-<version>-py3-none-<tag>.whl; once: <out>/mcp-jupyter-pair-<version>.tgz (the npm package
// users run with npx, whose optional dependencies are the platform packages).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exeName, goBuild, hostTarget, releaseVersion, root, targets } from './targets.mjs';

const NAME = 'mcp-jupyter-pair';
const SCOPE = '@mcp-jupyter-pair';
const MCP_NAME = JSON.parse(fs.readFileSync(path.join(root, 'server.json'), 'utf8')).name;

function parseArgs(argv) {
  const opts = { targets: 'host', out: path.join(root, 'dist', 'release') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--targets') opts.targets = argv[++i];
    else if (argv[i] === '--out') opts.out = path.resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  const list = opts.targets === 'all' ? Object.keys(targets) : opts.targets === 'host' ? [hostTarget()] : opts.targets.split(',');
  return { ...opts, list };
}

const rootPkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const common = {
  version: releaseVersion(),
  license: rootPkg.license,
  repository: rootPkg.repository,
  homepage: rootPkg.homepage,
  bugs: rootPkg.bugs,
};

function writeJSON(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

function npmPack(dir, out) {
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: dir, encoding: 'utf8' }).trim();
  return path.join(out, name.split('\n').pop());
}

function platformPackage(target, binary, stage, out) {
  const dir = path.join(stage, 'npm', target);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.copyFileSync(binary, path.join(dir, 'bin', exeName(target)));
  fs.chmodSync(path.join(dir, 'bin', exeName(target)), 0o755);
  fs.copyFileSync(path.join(root, 'LICENSE'), path.join(dir, 'LICENSE'));
  const [os, cpu] = target.split('-');
  fs.writeFileSync(path.join(dir, 'README.md'), `# ${SCOPE}/${target}\n\nThe ${target} binary of [${NAME}](https://www.npmjs.com/package/${NAME}). Install ${NAME}, not this.\n`);
  writeJSON(path.join(dir, 'package.json'), {
    name: `${SCOPE}/${target}`,
    ...common,
    description: `The mcp-jupyter binary for ${target}.`,
    os: [os],
    cpu: [cpu],
    files: ['bin/'],
    preferUnplugged: true,
  });
  return npmPack(dir, out);
}

function mainPackage(stage, out) {
  const dir = path.join(stage, 'npm', 'main');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.copyFileSync(path.join(root, 'packaging', 'npm', 'cli.js'), path.join(dir, 'bin', 'cli.js'));
  fs.chmodSync(path.join(dir, 'bin', 'cli.js'), 0o755);
  fs.copyFileSync(path.join(root, 'packaging', 'npm', 'README.md'), path.join(dir, 'README.md'));
  fs.copyFileSync(path.join(root, 'LICENSE'), path.join(dir, 'LICENSE'));
  writeJSON(path.join(dir, 'package.json'), {
    name: NAME,
    ...common,
    description: rootPkg.description,
    mcpName: MCP_NAME,
    keywords: ['mcp', 'jupyter', 'notebook', 'kernel', 'agent'],
    bin: { [NAME]: 'bin/cli.js', 'mcp-jupyter': 'bin/cli.js' },
    files: ['bin/'],
    engines: { node: '>=18' },
    optionalDependencies: Object.fromEntries(Object.keys(targets).map((t) => [`${SCOPE}/${t}`, common.version])),
  });
  return npmPack(dir, out);
}

function wheel(target, binary, stage, out) {
  const dir = path.join(stage, 'pypi', target);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(path.join(root, 'packaging', 'pypi'), dir, { recursive: true });
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.copyFileSync(binary, path.join(dir, 'bin', exeName(target)));
  fs.chmodSync(path.join(dir, 'bin', exeName(target)), 0o755);
  fs.copyFileSync(path.join(root, 'LICENSE'), path.join(dir, 'LICENSE'));
  const python = process.env.PYTHON || 'python3';
  execFileSync(python, ['-m', 'pip', 'wheel', '--disable-pip-version-check', '--no-deps', '-q', '-w', out, dir], {
    stdio: 'inherit',
    env: { ...process.env, MCP_JUPYTER_WHEEL_PLATFORM: targets[target].wheel, SOURCE_DATE_EPOCH: process.env.SOURCE_DATE_EPOCH || '315532800' },
  });
  const whl = path.join(out, `mcp_jupyter_pair-${common.version}-py3-none-${targets[target].wheel}.whl`);
  if (!fs.existsSync(whl)) throw new Error(`pip wheel did not write ${whl}`);
  return whl;
}

const { list, out } = parseArgs(process.argv.slice(2));
const stage = path.join(out, '.stage');
fs.mkdirSync(out, { recursive: true });
const made = [];
for (const target of list) {
  const binary = goBuild(target, path.join(stage, 'bin', target, exeName(target)));
  made.push(platformPackage(target, binary, stage, out), wheel(target, binary, stage, out));
}
made.push(mainPackage(stage, out));
fs.rmSync(stage, { recursive: true, force: true });
for (const f of made) console.log(path.relative(root, f));
