import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mainUsage, run, version } from '../ferry.js';
import { MemoryIo } from './cli-io.js';
import { WG_VERBS } from './usage.js';

const REPO = resolve(import.meta.dirname, '../../..');

async function ferry(...argv: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-main-'));
  try {
    const io = new MemoryIo({}, dir);
    const code = await run(io, argv);
    return { code, out: io.stdout, err: io.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('--version, --help and unknown verbs behave like wg', async () => {
  assert.deepEqual(await ferry('--version'), { code: 0, out: `${version()}\n`, err: '' });
  assert.match(version(), /^ferry v\d+\.\d+\.\d+/);
  for (const h of ['-h', '--help', 'help']) assert.deepEqual(await ferry(h), { code: 0, out: mainUsage('ferry'), err: '' });
  assert.deepEqual(await ferry('bogus'), { code: 1, out: '', err: `Invalid subcommand: \`bogus'\n${mainUsage('ferry')}` });
  assert.ok(mainUsage('ferry').startsWith('Usage: ferry <cmd> [<args>]\n\nAvailable subcommands:\n  show: Shows the current configuration and device information\n'));
});

test('every verb has --help on stdout with exit 0', async () => {
  for (const { verb } of WG_VERBS) {
    for (const flag of ['--help', '-h']) {
      const r = await ferry(verb, flag);
      assert.equal(r.code, 0, verb);
      assert.equal(r.err, '');
      assert.ok(r.out.startsWith(`Usage: ferry ${verb}`), verb);
    }
  }
});

test('usage errors print the usage line and exit 1, as wg does', async () => {
  const usage = (verb: string, args: string) => `Usage: ferry ${verb}${args ? ` ${args}` : ''}\n`;
  assert.deepEqual(await ferry('show', 'a', 'b', 'c'), { code: 1, out: '', err: (await ferry('show', 'help')).err });
  assert.equal((await ferry('show', 'help')).code, 0, 'wg show help prints usage and succeeds');
  assert.deepEqual(await ferry('show', 'interfaces', 'x'), { code: 1, out: '', err: (await ferry('show', 'help')).err });
  assert.deepEqual(await ferry('showconf'), { code: 1, out: '', err: usage('showconf', '<interface>') });
  assert.deepEqual(await ferry('showconf', 'a', 'b'), { code: 1, out: '', err: usage('showconf', '<interface>') });
  assert.deepEqual(await ferry('setconf', 'a'), { code: 1, out: '', err: usage('setconf', '<interface> <configuration filename>') });
  assert.deepEqual(await ferry('syncconf', 'a', 'b', 'c'), { code: 1, out: '', err: usage('syncconf', '<interface> <configuration filename>') });
  const set = await ferry('set', 'wg0');
  assert.equal(set.code, 1);
  assert.match(set.err, /^Usage: ferry set <interface> \[listen-port <port>\]/);
  assert.deepEqual(await ferry('set', 'wg0', 'bogus'), { code: 1, out: '', err: 'Invalid argument: bogus\n' });
  assert.deepEqual(await ferry('show', 'wg0', 'bogus'), { code: 1, out: '', err: 'Unable to access interface: No such device\n' });
});

test('as a process: exit codes, stdout, and a genkey | pubkey pipeline', () => {
  const cli = (args: string[], input?: string) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/ferry.ts', ...args], { cwd: REPO, input, encoding: 'utf8' });
  const v = cli(['--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^ferry v/);
  const bad = cli(['bogus']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^Invalid subcommand: `bogus'/);
  const key = cli(['genkey']);
  assert.equal(key.status, 0);
  const pub = cli(['pubkey'], key.stdout);
  assert.equal(pub.status, 0);
  assert.match(pub.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
  const nope = cli(['pubkey'], 'nope');
  assert.equal(nope.status, 1);
  assert.equal(nope.stderr, 'ferry: Key is not the correct length or format\n');
});
