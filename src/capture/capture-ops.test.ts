/**
 * The capture operations over a real control socket, fed by the hub directly: events
 * carry whole pcapng blocks, `count` and `capture-stop` end a capture with its result,
 * a client that does not read makes the capture lose packets (counted) while the tap
 * never waits, and a closed connection detaches the tap.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type TestContext } from 'node:test';
import { ControlServer } from '../control/control-server.js';
import { controlRequest } from '../control/control-client.js';
import { CaptureDirection, CapturePoint, type CaptureTap } from '../datapath/capture-tap.js';
import { ipv4Packet } from '../../test/support/wg-device-harness.js';
import { CaptureHub } from './capture-hub.js';
import { registerCaptureOps } from './capture-ops.js';
import { readPcapng } from './pcapng-read.js';

interface Setup {
  path: string;
  hub: CaptureHub;
  target: { capture: CaptureTap | null };
}

async function setup(t: TestContext): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-capture-ops-'));
  const server = new ControlServer(join(dir, 'fy0.sock'));
  const target: { capture: CaptureTap | null } = { capture: null };
  const hub = new CaptureHub({ target });
  registerCaptureOps(server, { ifname: 'fy0', hub, staticSecrets: () => 'LOCAL_STATIC_PRIVATE_KEY = x\n' });
  await server.listen();
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { path: server.path, hub, target };
}

const pkt = ipv4Packet('10.0.0.1', '10.0.0.2', 'x'.repeat(1000));
const feed = (tap: CaptureTap | null, n: number) => {
  for (let i = 0; i < n; i++) tap?.packet(CapturePoint.Tun, CaptureDirection.ToNetwork, pkt, 0, pkt.length, null, null);
};

test('capture: whole pcapng blocks in events, ended by its count with the result', async (t) => {
  const s = await setup(t);
  const chunks: Buffer[] = [];
  let id = '';
  const done = controlRequest(s.path, 'capture', { count: 5, keys: true, points: 'tun' }, (e) => {
    const ev = e as { capture?: string; data?: string };
    if (ev.capture !== undefined) {
      id = ev.capture;
      feed(s.target.capture, 8);
    }
    if (ev.data !== undefined) chunks.push(Buffer.from(ev.data, 'base64'));
  });
  assert.deepEqual(await done, { packets: 5, lost: 0, secrets: 1 });
  assert.match(id, /^[0-9a-f]{16}$/);
  const file = readPcapng(Buffer.concat(chunks));
  assert.equal(file.trailing, 0);
  assert.equal(file.packets.length, 5);
  assert.deepEqual(file.order.slice(0, 6), ['shb', 'idb', 'idb', 'idb', 'idb', 'dsb'], 'header, then the static secrets');
  assert.equal(s.target.capture, null, 'detached once it ended');
});

test('capture-stop ends a capture; an unknown id is no error', async (t) => {
  const s = await setup(t);
  let id = '';
  const done = controlRequest(s.path, 'capture', {}, (e) => {
    const ev = e as { capture?: string };
    if (ev.capture !== undefined) id = ev.capture;
  }, 0);
  while (id === '') await new Promise((r) => setTimeout(r, 5));
  feed(s.target.capture, 3);
  assert.deepEqual(await controlRequest(s.path, 'capture-stop', { capture: id }), { stopped: true });
  assert.deepEqual(await done, { packets: 3, lost: 0, secrets: 0 });
  assert.deepEqual(await controlRequest(s.path, 'capture-stop', { capture: 'nope' }), { stopped: false });
  await assert.rejects(controlRequest(s.path, 'capture', { filter: 'port' }), /capture filter: "port" needs a value/);
});

test('a client that does not read: the ring fills and packets are lost, the tap never waits; closing detaches', async (t) => {
  const s = await setup(t);
  const sock: Socket = createConnection(s.path);
  await new Promise((r) => sock.once('connect', r));
  sock.write(`${JSON.stringify({ id: 1, op: 'capture' })}\n`);
  while (s.target.capture === null) await new Promise((r) => setTimeout(r, 5));
  sock.pause();
  // 30 MB offered in batches while nobody reads; each batch returns at once.
  let slowest = 0;
  for (let round = 0; round < 100; round++) {
    const t0 = performance.now();
    feed(s.target.capture, 300);
    slowest = Math.max(slowest, performance.now() - t0);
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.ok(slowest < 200, `a batch of taps took ${slowest.toFixed(1)} ms`);
  // Ask for the end on another connection; read what the stalled one got.
  const stop = new Promise<unknown>((resolve) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      for (const line of buf.split('\n')) if (line.includes('"end":true')) resolve((JSON.parse(line) as { result: unknown }).result);
    });
  });
  const id = await new Promise<string>((resolve) => {
    let buf = '';
    sock.setEncoding('utf8');
    const first = (d: string) => {
      buf += d;
      const m = /"capture":"([0-9a-f]+)"/.exec(buf);
      if (m) {
        sock.off('data', first);
        resolve(m[1]);
      }
    };
    sock.on('data', first);
    sock.resume();
  });
  await controlRequest(s.path, 'capture-stop', { capture: id });
  const result = (await stop) as { packets: number; lost: number };
  assert.ok(result.lost > 0, JSON.stringify(result));
  assert.equal(result.packets + result.lost, 30000);
  sock.destroy();
  // A second capture, closed by its client: the tap goes away.
  const c2 = createConnection(s.path);
  await new Promise((r) => c2.once('connect', r));
  c2.write(`${JSON.stringify({ id: 1, op: 'capture' })}\n`);
  while (s.target.capture === null) await new Promise((r) => setTimeout(r, 5));
  c2.destroy();
  while (s.target.capture !== null) await new Promise((r) => setTimeout(r, 5));
});
