/**
 * The whole path of show/showconf/set/setconf through a real unix socket, in a private
 * directory (no root needed): a small fake daemon answers `get` with a scripted text and
 * records each `set`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCrypto } from '../../wireguard/crypto.js';
import { formatKeyBase64 } from '../../wireguard/keys.js';
import { run } from '../ferry.js';
import { MemoryIo } from './cli-io.js';
import { listDevices } from '../../uapi/client.js';
import { fakeUapiDaemon, type FakeUapiState } from '../../../test/support/fake-uapi.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-ipc-'));
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});
before(() => initCrypto());

async function fake(name: string, get = 'errno=0\n\n', setAnswer = 'errno=0\n\n'): Promise<FakeUapiState> {
  const state: FakeUapiState = { get, setAnswer, sets: [] };
  servers.push(await fakeUapiDaemon(join(dir, `${name}.sock`), state));
  return state;
}

async function ferry(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = new MemoryIo({ WG_ENDPOINT_RESOLUTION_RETRIES: '0' }, dir);
  const code = await run(io, argv);
  return { code, out: io.stdout, err: io.stderr };
}

const h = (n: number) => Buffer.from(new Uint8Array(32).fill(n)).toString('hex');
const b64 = (n: number) => formatKeyBase64(new Uint8Array(32).fill(n));

test('show, showconf and dump read a daemon through its socket', async () => {
  await fake('fk0', `private_key=${h(1)}\nlisten_port=1234\npublic_key=${h(2)}\nprotocol_version=1\nallowed_ip=10.0.0.0/8\nerrno=0\n\n`);
  const show = await ferry('show', 'fk0');
  assert.equal(show.code, 0);
  assert.match(show.out, /^interface: fk0\n {2}public key: .{44}\n {2}private key: \(hidden\)\n {2}listening port: 1234\n\npeer: .{44}\n {2}allowed ips: 10\.0\.0\.0\/8\n$/);
  assert.equal((await ferry('show', 'fk0', 'peers')).out, `${b64(2)}\n`);
  assert.equal((await ferry('showconf', 'fk0')).out, `[Interface]\nListenPort = 1234\nPrivateKey = ${b64(1)}\n\n[Peer]\nPublicKey = ${b64(2)}\nAllowedIPs = 10.0.0.0/8\n`);
});

test('set and setconf send wg’s request; a daemon errno is reported as wg does', async () => {
  const d = await fake('fk1');
  assert.deepEqual(await ferry('set', 'fk1', 'listen-port', '7', 'peer', b64(2), 'allowed-ips', ''), { code: 0, out: '', err: '' });
  assert.equal(d.sets.pop(), `set=1\nlisten_port=7\npublic_key=${h(2)}\nreplace_allowed_ips=true\n\n`);
  const conf = join(dir, 'fk1.conf');
  writeFileSync(conf, `[Interface]\nListenPort = 9\n[Peer]\nPublicKey = ${b64(3)}\n`);
  assert.equal((await ferry('addconf', 'fk1', conf)).code, 0);
  assert.equal(d.sets.pop(), `set=1\nlisten_port=9\npublic_key=${h(3)}\nreplace_allowed_ips=true\n\n`);
  d.setAnswer = 'errno=-22\n\n';
  assert.deepEqual(await ferry('set', 'fk1', 'fwmark', '1'), { code: 1, out: '', err: 'Unable to modify interface: Invalid argument\n' });
  d.setAnswer = ''; // closes without answering
  assert.deepEqual(await ferry('set', 'fk1', 'fwmark', '1'), { code: 1, out: '', err: 'Unable to modify interface: Protocol error\n' });
  assert.deepEqual(await ferry('setconf', 'fk1', join(dir, 'missing.conf')), { code: 1, out: '', err: 'fopen: No such file or directory\n' });
});

test('syncconf reads the running peers and removes only the missing ones', async () => {
  const d = await fake('fk2', `public_key=${h(5)}\npublic_key=${h(6)}\nerrno=0\n\n`);
  const conf = join(dir, 'fk2.conf');
  writeFileSync(conf, `[Peer]\nPublicKey = ${b64(6)}\n[Peer]\nPublicKey = ${b64(7)}\n`);
  assert.equal((await ferry('syncconf', 'fk2', conf)).code, 0);
  assert.equal(
    d.sets.pop(),
    `set=1\nprivate_key=${'0'.repeat(64)}\nlisten_port=0\nfwmark=0\npublic_key=${h(5)}\nremove=true\npublic_key=${h(6)}\nreplace_allowed_ips=true\npublic_key=${h(7)}\nreplace_allowed_ips=true\n\n`,
  );
});

test('missing, stale and broken interfaces', async () => {
  assert.deepEqual(await ferry('show', 'nosuch'), { code: 1, out: '', err: 'Unable to access interface: No such device\n' });
  assert.deepEqual(await ferry('showconf', 'nosuch'), { code: 1, out: '', err: 'Unable to access interface: No such device\n' });
  assert.deepEqual(await ferry('set', 'nosuch', 'fwmark', '1'), { code: 1, out: '', err: 'Unable to modify interface: No such device\n' });
  // A socket file nobody listens on is a dead daemon's: wg removes it, and so does ferry.
  const stalePath = join(dir, 'stale0.sock');
  execFileSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stalePath)}, () => process.exit(0))`]);
  writeFileSync(join(dir, 'plain.sock'), '');
  assert.ok(existsSync(stalePath));
  assert.ok(!(await listDevices(dir)).includes('stale0'));
  assert.ok(!existsSync(stalePath), 'the stale socket was removed');
  assert.ok(!(await listDevices(dir)).includes('plain'), 'a plain file is not an interface');
  await fake('fk3', 'errno=-5\n\n');
  assert.deepEqual(await ferry('show', 'fk3'), { code: 1, out: '', err: 'Unable to access interface: Protocol error\n' });
  await fake('fk4', `listen_port=1\nerrno=22\n\n`);
  assert.deepEqual(await ferry('showconf', 'fk4'), { code: 1, out: '', err: 'Unable to access interface: Invalid argument\n' });
});

test('show all and show interfaces walk the socket directory', async () => {
  const names = await listDevices(dir);
  for (const n of ['fk0', 'fk1', 'fk2', 'fk3', 'fk4']) assert.ok(names.includes(n), n);
  const list = await ferry('show', 'interfaces');
  assert.equal(list.out, `${names.join(' ')}\n`);
  const all = await ferry('show', 'all', 'listen-port');
  // fk3 and fk4 fail; the others print "name\tport".
  assert.equal(all.code, 0);
  assert.match(all.err, /Unable to access interface fk3: Protocol error\n/);
  assert.ok(all.out.includes('fk0\t1234\n'));
  const bad = await ferry('show', 'all', 'bogus');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /Invalid parameter: `bogus'\nUsage: ferry show/);
  const empty = mkdtempSync(join(tmpdir(), 'ferry-ipc-empty-'));
  try {
    const io = new MemoryIo({}, empty);
    assert.equal(await run(io, ['show', 'all', 'bogus']), 0, 'wg checks the field only when there is an interface');
    assert.equal(io.stdout + io.stderr, '');
    const none = new MemoryIo({}, join(empty, 'missing'));
    assert.equal(await run(none, ['show', 'interfaces']), 0);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
