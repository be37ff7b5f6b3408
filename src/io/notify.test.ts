import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ready, sdNotify, status, stopping } from './notify.js';

/**
 * A python3 child bound to a unix datagram socket (path, or abstract when it starts
 * with '@'); it prints one JSON line per datagram received.
 */
async function listener(t: import('node:test').TestContext, address: string): Promise<{ next: () => Promise<string> }> {
  const script = `
import json, socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + a[1:] if a.startswith('@') else a)
print('ready', flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;
  const py = spawn('python3', ['-c', script, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => py.kill('SIGKILL'));
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('listener timed out')), 5000).unref());
    const r = await Promise.race([lines.next(), timeout]);
    if (r.done) throw new Error('listener exited');
    return r.value;
  };
  assert.equal(await next(), 'ready');
  return { next: async () => JSON.parse(await next()) as string };
}

test('sdNotify delivers to a unix datagram socket given by path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-notify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'notify.sock');
  const l = await listener(t, path);
  assert.equal(sdNotify('READY=1\nSTATUS=serving wg0', path), true);
  assert.equal(await l.next(), 'READY=1\nSTATUS=serving wg0');
});

test('sdNotify reads $NOTIFY_SOCKET, abstract namespace (@) included; helpers send the right states', async (t) => {
  const name = `@ferry-notify-test-${process.pid}`;
  const l = await listener(t, name);
  const saved = process.env.NOTIFY_SOCKET;
  t.after(() => {
    if (saved === undefined) delete process.env.NOTIFY_SOCKET;
    else process.env.NOTIFY_SOCKET = saved;
  });
  process.env.NOTIFY_SOCKET = name;
  assert.equal(ready(), true);
  assert.equal(await l.next(), 'READY=1');
  assert.equal(status('peers: 3\nhandshakes ok'), true);
  assert.equal(await l.next(), 'STATUS=peers: 3 handshakes ok');
  assert.equal(stopping(), true);
  assert.equal(await l.next(), 'STOPPING=1');
  assert.equal(ready('up'), true);
  assert.equal(await l.next(), 'READY=1\nSTATUS=up');
});

test('sdNotify without NOTIFY_SOCKET is a no-op returning false; errors are SystemErrors', () => {
  const saved = process.env.NOTIFY_SOCKET;
  delete process.env.NOTIFY_SOCKET;
  try {
    assert.equal(sdNotify('READY=1'), false);
    assert.equal(ready(), false);
  } finally {
    if (saved !== undefined) process.env.NOTIFY_SOCKET = saved;
  }
  assert.equal(sdNotify('READY=1', ''), false);
  assert.throws(() => sdNotify('READY=1', '/nonexistent-dir/ferry.sock'), { code: 'ENOENT', syscall: 'sendto' });
  assert.throws(() => sdNotify('READY=1', 'vsock:2:1'), { name: 'RangeError', message: /unsupported socket address/ });
  assert.throws(() => sdNotify(''), { code: 'FERRY_INVALID_ARGUMENT' });
});
