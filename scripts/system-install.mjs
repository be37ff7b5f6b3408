#!/usr/bin/env node
// `npm run system-install` (and `npm run system-uninstall`): puts `ferry` and `ferryd` on
// PATH from a clone and installs the systemd units, or removes both.
//
// Install: builds what is missing or stale (npm ci in a fresh clone), packs the clone with
// npm pack (the tarball carries the built addon, so nothing is compiled at install and
// npm's install-script policy plays no part), installs it with npm install --global, checks
// that the installed ferryd loads its addon, and writes systemd/*.service into the unit
// directory with the Exec paths pointing at the installed commands.
//
// Options (or environment): --prefix DIR (FERRY_PREFIX; default: npm's global prefix),
// --unit-dir DIR (FERRY_UNIT_DIR; default /etc/systemd/system), --no-units (FERRY_NO_UNITS=1).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderUnit } from './render-unit.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_UNIT_DIR = '/etc/systemd/system';

function parseOptions(argv, env) {
  const o = {
    uninstall: false,
    prefix: env.FERRY_PREFIX || null,
    unitDir: env.FERRY_UNIT_DIR || DEFAULT_UNIT_DIR,
    units: env.FERRY_NO_UNITS !== '1',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--uninstall') o.uninstall = true;
    else if (a === '--no-units') o.units = false;
    else if (a === '--prefix' && argv[i + 1]) o.prefix = resolve(argv[++i]);
    else if (a === '--unit-dir' && argv[i + 1]) o.unitDir = resolve(argv[++i]);
    else fail(`unknown argument ${a}\nusage: system-install.mjs [--uninstall] [--prefix DIR] [--unit-dir DIR] [--no-units]`);
  }
  return o;
}

function fail(message) {
  console.error(`ferry: ${message}`);
  process.exit(1);
}

function step(text) {
  console.log(`[#] ${text}`);
}

/** Runs a command in the clone; output passes through; a failure ends the script. */
function run(cmd, args, capture = false) {
  step([cmd, ...args].join(' '));
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8' });
  if (r.error) fail(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed with status ${r.status}`);
  return r.stdout ?? '';
}

function npmGlobalArgs(prefix) {
  return prefix === null ? ['--global'] : ['--global', '--prefix', prefix];
}

function globalPrefix(prefix) {
  return prefix ?? spawnSync('npm', ['prefix', '--global'], { encoding: 'utf8' }).stdout.trim();
}

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return newest;
}

/** Builds what a fresh or changed clone lacks: dependencies, the addon, the TypeScript. */
function build() {
  if (!existsSync(join(ROOT, 'node_modules'))) {
    run('npm', ['ci', '--no-audit', '--no-fund']);
    return;
  }
  run('node', ['scripts/native-install.mjs']);
  const built = join(ROOT, 'dist/cli/ferryd.js');
  if (!existsSync(built) || statSync(built).mtimeMs < newestMtime(join(ROOT, 'src'))) run('npm', ['run', 'build:ts']);
}

function unitFiles() {
  const dir = join(ROOT, 'systemd');
  return readdirSync(dir).filter((f) => /\.(service|target|socket|timer)$/.test(f));
}

function systemdRunning() {
  return existsSync('/run/systemd/system');
}

function daemonReload(o) {
  if (o.unitDir === DEFAULT_UNIT_DIR && systemdRunning()) run('systemctl', ['daemon-reload']);
}

function install(o) {
  build();
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-install-'));
  try {
    const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], true));
    const tarball = join(tmp, packed[0].filename);
    run('npm', ['install', ...npmGlobalArgs(o.prefix), '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tarball]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const bindir = join(globalPrefix(o.prefix), 'bin');
  run(join(bindir, 'ferryd'), ['--version']);
  if (o.units) {
    for (const name of unitFiles()) {
      const target = join(o.unitDir, name);
      step(`install -m 0644 systemd/${name} ${target}`);
      writeFileSync(target, renderUnit(readFileSync(join(ROOT, 'systemd', name), 'utf8'), bindir), { mode: 0o644 });
      chmodSync(target, 0o644);
    }
    daemonReload(o);
  }
  console.log(`ferry: installed ferry and ferryd in ${bindir}${o.units ? `, units in ${o.unitDir}` : ''}`);
}

function uninstall(o) {
  run('npm', ['uninstall', ...npmGlobalArgs(o.prefix), '--no-audit', '--no-fund', 'ferry']);
  if (o.units) {
    for (const name of unitFiles()) {
      const target = join(o.unitDir, name);
      if (!existsSync(target)) continue;
      step(`rm ${target}`);
      rmSync(target);
    }
    daemonReload(o);
  }
  console.log('ferry: uninstalled (running ferry@ services keep running until stopped)');
}

const options = parseOptions(process.argv.slice(2), process.env);
if (options.uninstall) uninstall(options);
else install(options);
