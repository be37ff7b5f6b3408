import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { ENDPOINT_STRIDE } from './endpoint.js';
import { loadNative } from './native.js';
import { PollEvent, Poller } from './poll.js';

const n = loadNative();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A bound UDP socket fd, a Node sender aimed at it, and a drain that empties it. */
function fixture(t: import('node:test').TestContext) {
  const fd = n.udpOpen(4, '127.0.0.1', 0);
  const port = n.udpLocalPort(fd);
  const tx = createSocket('udp4');
  const slab = Buffer.alloc(64 * 1024);
  const offs = Int32Array.from({ length: 32 }, (_, i) => i * 2048);
  const lens = new Int32Array(32);
  const eps = new Uint8Array(32 * ENDPOINT_STRIDE);
  t.after(() => {
    tx.close();
    n.closeFd(fd);
  });
  return {
    fd,
    send: (text: string) => tx.send(text, port, '127.0.0.1'),
    drain: () => n.udpRecvBatch(fd, slab, offs, lens, eps, 2048, 32),
  };
}

test('Poller calls back (status 0, readable) when data arrives, and never after stop()', async (t) => {
  const f = fixture(t);
  const seen: Array<[number, number]> = [];
  let drained = 0;
  const poller = new Poller(f.fd, (status, events) => {
    seen.push([status, events]);
    drained += f.drain();
  });
  t.after(() => poller.stop());
  await sleep(30);
  assert.equal(seen.length, 0, 'no callback before data arrives');
  f.send('one');
  for (let i = 0; i < 100 && drained < 1; i++) await sleep(10);
  assert.equal(drained, 1);
  assert.deepEqual(seen[0], [0, PollEvent.Readable]);
  const callsBefore = seen.length;
  poller.stop();
  poller.stop(); // idempotent
  assert.ok(poller.stopped);
  f.send('two');
  await sleep(100);
  assert.equal(seen.length, callsBefore, 'no callback after stop()');
  assert.equal(f.drain(), 1, 'the datagram is still there: only the callback was stopped');
});

test('Poller.update(0) pauses and update(Readable) resumes with data that came meanwhile', async (t) => {
  const f = fixture(t);
  let calls = 0;
  let drained = 0;
  const poller = new Poller(f.fd, () => {
    calls++;
    drained += f.drain();
  });
  t.after(() => poller.stop());
  poller.update(PollEvent.None);
  assert.equal(poller.events, 0);
  f.send('a');
  f.send('b');
  await sleep(80);
  assert.equal(calls, 0, 'paused: no callback');
  poller.update(PollEvent.Readable);
  for (let i = 0; i < 100 && drained < 2; i++) await sleep(10);
  assert.equal(drained, 2);
  assert.throws(() => poller.update(7), { code: 'FERRY_INVALID_ARGUMENT' });
});

test('Poller refuses a second poller on the same fd and bad arguments', (t) => {
  const f = fixture(t);
  const p1 = new Poller(f.fd, () => {});
  assert.throws(() => new Poller(f.fd, () => {}), { code: 'FERRY_INVALID_ARGUMENT', message: /already polled/ });
  p1.stop();
  const p2 = new Poller(f.fd, () => {}, { events: PollEvent.None });
  p2.stop();
  assert.throws(() => p2.update(1), { message: /stopped/ });
  assert.throws(() => new Poller(-1, () => {}), { code: 'FERRY_INVALID_ARGUMENT' });
  assert.throws(() => new Poller(f.fd, null as never), { code: 'FERRY_INVALID_ARGUMENT' });
});

const pollModule = fileURLToPath(new URL('./poll.ts', import.meta.url));
const nativeModule = fileURLToPath(new URL('./native.ts', import.meta.url));

/** Runs a module snippet in a child node with tsx; the snippet gets Poller and n (native). */
function child(body: string, timeoutMs = 60_000) {
  const code = `import { Poller } from ${JSON.stringify(pollModule)};
import { loadNative } from ${JSON.stringify(nativeModule)};
const n = loadNative();
const fd = n.udpOpen(4, '127.0.0.1', 0);
${body}`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: timeoutMs });
}

test('a stopped or unref()ed poller does not keep the process alive; an active one does', () => {
  const stopped = child(`const p = new Poller(fd, () => {}); p.stop(); n.closeFd(fd);`);
  assert.equal(stopped.status, 0, stopped.stderr);
  const unrefd = child(`const p = new Poller(fd, () => {}, { ref: false }); setTimeout(() => {}, 50);`);
  assert.equal(unrefd.status, 0, unrefd.stderr);
  const unrefLater = child(`const p = new Poller(fd, () => {}); p.ref(false);`);
  assert.equal(unrefLater.status, 0, unrefLater.stderr);
});

test('an active poller keeps the process alive', async () => {
  // Load-independent: wait (as long as startup takes) until the child polls, then check it
  // is still running a while later, when nothing but the poller could hold it.
  const code = `import { Poller } from ${JSON.stringify(pollModule)};
import { loadNative } from ${JSON.stringify(nativeModule)};
const n = loadNative();
const fd = n.udpOpen(4, '127.0.0.1', 0);
const p = new Poller(fd, () => {}); process.stdout.write('polling');`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let exited = false;
  proc.on('exit', () => (exited = true));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child never polled; stdout ${JSON.stringify(out)}`)), 60_000);
    proc.stdout.on('data', (d) => {
      out += d;
      if (out.includes('polling')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(exited, false, 'the poller kept the loop alive');
  proc.kill('SIGTERM');
});

/** Child snippet prelude: a second socket sends one datagram to fd. */
const sendOne = `
const port = n.udpLocalPort(fd);
const tx = n.udpOpen(4, '127.0.0.1', 0);
const ep = new Uint8Array(n.UDP_ENDPOINT_STRIDE); ep[0] = 4; ep[2] = port >> 8; ep[3] = port & 255; ep.set([127, 0, 0, 1], 4);
const send = () => n.udpSendBatch(tx, Buffer.alloc(8), new Int32Array(1), new Int32Array([8]), ep, 1);
`;

test('an exception thrown by the poll callback reaches uncaughtException', () => {
  const r = child(`${sendOne}
process.on('uncaughtException', (e) => { console.log('caught:', e.message); process.exit(0); });
const p = new Poller(fd, () => { throw new Error('boom from callback'); });
send();
`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /caught: boom from callback/);
});

test('microtasks queued by the poll callback run right after it (no other event needed)', () => {
  // Nothing but the active poller is left in the loop: if microtasks were not drained
  // after the callback, the process would hang until the timeout kills it.
  const r = child(`${sendOne}
const p = new Poller(fd, () => {
  Promise.resolve().then(() => { console.log('microtask ran'); process.exit(0); });
});
send();
`);
  assert.equal(r.signal, null, 'not killed by the timeout');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /microtask ran/);
});
