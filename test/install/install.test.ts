/**
 * Installing ferry as a user would: the built bins run by path; from a clean copy of the
 * clone, `npm ci` then the README's install command puts `ferry` and `ferryd` on PATH
 * (into a temporary prefix, never the machine's) with the systemd units, the installed
 * ferryd really runs, and the README's uninstall command removes both; and the `npm pack`
 * tarball installs with a plain `npm install --global` and runs the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, netns, requireTools, uniqueName } from '../support/netns.js';
import { REPO } from '../support/wg.js';
import { copyWorkingTree, readmeInstallCommands } from '../support/install.js';

function sh(command: string, options: SpawnSyncOptions & { env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8', timeout: 180_000, ...options });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

test('the built bins are executable and run by path, not through node', () => {
  for (const bin of ['ferry', 'ferryd']) {
    const path = join(REPO, `dist/cli/${bin}.js`);
    assert.ok(existsSync(path), `${path} exists (npm install or npm run build made it)`);
    assert.equal(statSync(path).mode & 0o111, 0o111, `${bin} is executable by everyone`);
    const r = spawnSync(path, ['--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Usage: ${bin} `));
  }
  const v = spawnSync(join(REPO, 'dist/cli/ferryd.js'), ['--version'], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /^ferryd v\d+\.\d+\.\d+ \(Node v\d+\.\d+\.\d+, native addon loaded\)\n$/);
});

test('from a clean clone: npm ci, the README install command, ferry and ferryd on PATH, units installed; uninstall removes them; npm pack installs the same way', async (t) => {
  if (!requireTools(t, ['git', 'npm'])) return;
  const work = mkdtempSync(join(tmpdir(), 'ferry-install-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const clone = join(work, 'clone');
  copyWorkingTree(REPO, clone);
  assert.equal(existsSync(join(clone, 'node_modules')), false);

  const ci = sh('npm ci --prefer-offline --no-audit --no-fund', { cwd: clone });
  assert.equal(ci.status, 0, ci.stderr);

  const { install, uninstall } = readmeInstallCommands(readFileSync(join(REPO, 'README.md'), 'utf8'));
  assert.match(install, /^sudo npm run /, 'the first command of the Install section');
  assert.match(uninstall, /uninstall/);
  const prefix = join(work, 'prefix');
  const units = join(work, 'units');
  mkdirSync(units);
  const env = { ...process.env, FERRY_PREFIX: prefix, FERRY_UNIT_DIR: units };
  const asRoot = (cmd: string) => cmd.replace(/^sudo /, ''); // the test runs as root or as the clone's owner
  const inst = sh(asRoot(install), { cwd: clone, env });
  assert.equal(inst.status, 0, `${inst.stdout}\n${inst.stderr}`);

  const onPath = { ...process.env, PATH: `${prefix}/bin:/usr/sbin:/usr/bin:/sbin:/bin` };
  for (const bin of ['ferry', 'ferryd']) {
    assert.equal(sh(`command -v ${bin}`, { env: onPath }).stdout.trim(), join(prefix, 'bin', bin), `${bin} is found on PATH`);
    const help = sh(`${bin} --help`, { env: onPath, cwd: '/' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^Usage: ${bin} `));
  }
  const version = sh('ferryd --version', { env: onPath, cwd: '/' });
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /native addon loaded/);
  const unit = readFileSync(join(units, 'ferry@.service'), 'utf8');
  assert.match(unit, new RegExp(`^ExecStart=${prefix}/bin/ferryd --up %i$`, 'm'));
  assert.match(unit, new RegExp(`^ExecStop=${prefix}/bin/ferry down %i$`, 'm'));
  assert.equal(statSync(join(units, 'ferry@.service')).mode & 0o777, 0o644);

  if (isRoot() && existsSync('/dev/net/tun')) {
    // The installed ferryd, as README's `sudo ferryd wg0` runs it: daemonizes, the interface and its socket appear.
    const ns = netns(t, 'fyin');
    const ifname = uniqueName('fyin');
    t.after(() => {
      ns.tryRun('ip', ['link', 'del', ifname]);
      rmSync(`/var/run/wireguard/${ifname}.sock`, { force: true });
      rmSync(`/run/ferry/${ifname}.sock`, { force: true });
    });
    const up = sh(`ip netns exec ${ns.name} ferryd ${ifname}`, { env: onPath, cwd: '/' });
    assert.equal(up.status, 0, up.stderr);
    const show = sh(`ip netns exec ${ns.name} ferry show ${ifname} listen-port`, { env: onPath, cwd: '/' });
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, /^\d+\n$/);
    ns.run('ip', ['link', 'del', ifname]);
  }

  const un = sh(asRoot(uninstall), { cwd: clone, env });
  assert.equal(un.status, 0, `${un.stdout}\n${un.stderr}`);
  for (const bin of ['ferry', 'ferryd']) assert.equal(sh(`command -v ${bin}`, { env: onPath }).stdout.trim().startsWith(prefix), false, `${bin} is gone`);
  assert.equal(existsSync(join(units, 'ferry@.service')), false, 'the unit is gone');
  assert.equal(existsSync(join(prefix, 'lib/node_modules/ferry')), false, 'the package is gone');

  // npm pack, then a plain global install of the tarball (install scripts as npm decides):
  // the addon comes along and is kept, so no compiler is needed and it runs the same.
  // The clone is built (its prepare ran in npm ci), so packing needs no second build.
  const pack = sh('npm pack --ignore-scripts --json --pack-destination ..', { cwd: clone });
  assert.equal(pack.status, 0, pack.stderr);
  const packed = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  const files = packed[0].files.map((f) => f.path);
  for (const f of ['build/Release/ferry.node', 'dist/cli/ferryd.js', 'dist/cli/ferry.js', 'systemd/ferry@.service', 'scripts/native-install.mjs']) assert.ok(files.includes(f), `the tarball has ${f}`);
  assert.equal(files.some((f) => f.endsWith('.test.js') || f.startsWith('src/') || f.startsWith('test/')), false, 'no sources or tests in the tarball');
  const prefix2 = join(work, 'prefix2');
  const gi = sh(`npm install --global --prefix '${prefix2}' --prefer-offline --no-audit --no-fund '${join(work, packed[0].filename)}'`, { cwd: work });
  assert.equal(gi.status, 0, gi.stderr);
  const v2 = sh(`'${prefix2}/bin/ferryd' --version && '${prefix2}/bin/ferry' --version`, { cwd: '/' });
  assert.equal(v2.status, 0, v2.stderr);
  assert.match(v2.stdout, /^ferryd v.*native addon loaded\)\nferry v/);
  assert.equal(sha256(join(prefix2, 'lib/node_modules/ferry/build/Release/ferry.node')), sha256(join(clone, 'build/Release/ferry.node')), 'the carried addon was kept');
});
