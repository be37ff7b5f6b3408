import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UapiDevice } from './device.js';

/** A socket file nothing listens on: a process that bound it was killed (kill -9), as a crashed daemon leaves it. */
function staleSocket(path: string): void {
  const r = spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(existsSync(path));
}

function listen(path: string): Promise<Server> {
  return new Promise((resolve) => {
    const s = createServer((c) => c.destroy()).listen(path, () => resolve(s));
  });
}

test('daemonState: absent without sockets, stale when nothing listens on them, live when one answers; only stale sockets are removed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-device-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const device = new UapiDevice(join(dir, 'uapi'), join(dir, 'control'));
  for (const d of ['uapi', 'control']) mkdirSync(join(dir, d));
  assert.equal(await device.daemonState('wg0'), 'absent');

  staleSocket(join(dir, 'uapi/wg0.sock'));
  staleSocket(join(dir, 'control/wg0.sock'));
  assert.equal(await device.daemonState('wg0'), 'stale');
  assert.equal(device.isWireGuard('wg0'), true, 'a stale socket still looks like an interface to wg show');

  const server = await listen(join(dir, 'uapi/wg1.sock'));
  t.after(() => server.close());
  staleSocket(join(dir, 'control/wg1.sock'));
  assert.equal(await device.daemonState('wg1'), 'live');
  assert.deepEqual(await device.removeStaleSockets('wg1'), [join(dir, 'control/wg1.sock')], 'the live socket is kept');
  assert.ok(existsSync(join(dir, 'uapi/wg1.sock')));

  assert.deepEqual(await device.removeStaleSockets('wg0'), [join(dir, 'uapi/wg0.sock'), join(dir, 'control/wg0.sock')]);
  assert.equal(await device.daemonState('wg0'), 'absent');
});
