/**
 * UDP GSO on send and GRO on receive, on loopback (which hands a GSO message to a GRO
 * socket whole, as a veth does): callers still see one datagram per batch entry, in its
 * own slot, with its sender, in order; runs, mixed sizes and endpoints, the ring that
 * keeps what did not fit, the fallbacks, and the native argument checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketBatch } from '../buffer/batch.js';
import { BufferPool } from '../buffer/pool.js';
import { decodeEndpoint, encodeEndpoint, ENDPOINT_STRIDE, type Endpoint } from './endpoint.js';
import { loadNative } from './native.js';
import { UdpSocket } from './udp.js';

function pattern(i: number, j: number): number {
  return (i * 131 + j * 7 + 5) & 0xff;
}

/** Appends datagram `id` (size bytes of pattern(id, ·)) to the batch, addressed to `to`. */
function push(pool: BufferPool, batch: PacketBatch, id: number, size: number, to: Endpoint): void {
  const slot = pool.acquire();
  assert.ok(slot >= 0, 'pool has room');
  const off = pool.dataOffset(slot);
  for (let j = 0; j < size; j++) pool.slab[off + j] = pattern(id, j);
  encodeEndpoint(to, batch.endpoints, batch.push(slot, off, size) * ENDPOINT_STRIDE);
}

function release(pool: BufferPool, batch: PacketBatch): void {
  pool.releaseMany(batch.slots, batch.count);
  batch.clear();
}

const local = (sock: UdpSocket, family: 4 | 6 = 4): Endpoint =>
  family === 4 ? { family: 4, address: '127.0.0.1', port: sock.localPort } : { family: 6, address: '::1', port: sock.localPort };

/** Reads with recvBatch (no readiness) until `want` datagrams are in the batch. */
async function drain(sock: UdpSocket, batch: PacketBatch, want: number, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (batch.count < want) {
    if (sock.recvBatch(batch) === 0) {
      if (Date.now() > until) assert.fail(`received ${batch.count} of ${want}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

/** Checks entry k of the batch is datagram `id` of `size` bytes from `from`. */
function expectDatagram(pool: BufferPool, batch: PacketBatch, k: number, id: number, size: number, from: Endpoint): void {
  assert.equal(batch.lengths[k], size, `entry ${k} (datagram ${id}) length`);
  const off = batch.offsets[k];
  assert.equal(off, pool.dataOffset(batch.slots[k]), `entry ${k} sits in its own slot after the headroom`);
  for (let j = 0; j < size; j++) if (pool.slab[off + j] !== pattern(id, j)) assert.fail(`entry ${k} (datagram ${id}) byte ${j} differs`);
  assert.deepEqual(decodeEndpoint(batch.endpoints, k * ENDPOINT_STRIDE), from, `entry ${k} sender`);
}

test('GSO sends a run of equal datagrams as one message; GRO splits it back into one slot each', async (t) => {
  const pool = new BufferPool({ slotCount: 512 });
  const a = UdpSocket.open({ pool, family: 4, address: '127.0.0.1' });
  const b = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 256 });
  t.after(() => [a, b].forEach((s) => s.close()));
  assert.ok(a.gso && b.gro, 'this kernel has UDP GSO and GRO (Linux 5.0+)');

  // 64 of 1000 bytes, one of 300 (a short last segment ends a run), then 10 more of 1000.
  const sizes = [...Array<number>(64).fill(1000), 300, ...Array<number>(10).fill(1000)];
  const out = new PacketBatch(128);
  sizes.forEach((size, id) => push(pool, out, id, size, local(b)));
  assert.equal(a.sendBatch(out), sizes.length);
  assert.equal(a.sendErrors, 0);
  assert.deepEqual([...a.lastSendErrors.subarray(0, sizes.length)], Array<number>(sizes.length).fill(0));
  // 64 per message at most: [64 x 1000], [300 alone], [10 x 1000].
  assert.equal(a.gsoMessages, 2);
  assert.equal(a.gsoDatagrams, 74);
  release(pool, out);

  const inb = new PacketBatch(256);
  await drain(b, inb, sizes.length);
  assert.equal(inb.count, sizes.length);
  sizes.forEach((size, id) => expectDatagram(pool, inb, id, id, size, local(a)));
  assert.equal(b.received, sizes.length);
  assert.ok(b.groMessages >= 1, `coalesced messages seen by the receiver: ${b.groMessages}`);
  assert.ok(b.groDatagrams >= 64, `datagrams that arrived coalesced: ${b.groDatagrams}`);
  assert.equal(b.pending, false);
  release(pool, inb);
  [a, b].forEach((s) => s.close());
  pool.assertNoLeaks();
});

test('GSO groups only consecutive datagrams to one endpoint: mixed sizes, endpoints and zero-length datagrams', async (t) => {
  const pool = new BufferPool({ slotCount: 1024 });
  const a = UdpSocket.open({ pool, family: 4, address: '127.0.0.1' });
  const b = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 256 });
  const c = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 256 });
  t.after(() => [a, b, c].forEach((s) => s.close()));

  // [size, receiver] in send order: runs, a run broken by another endpoint, a longer
  // datagram after a run (may not join it), zeros (never grouped), single datagrams.
  const plan: Array<[number, UdpSocket]> = [];
  for (let i = 0; i < 5; i++) plan.push([200, b]);
  plan.push([200, c], [200, b], [200, b], [500, b], [500, b], [0, b], [0, b], [1, c], [1, c], [1, c]);
  for (let i = 0; i < 70; i++) plan.push([64, c]); // longer than one GSO message
  plan.push([63, c], [64, c], [1472, b], [1472, b], [1471, b]);
  const out = new PacketBatch(256);
  plan.forEach(([size, to], id) => push(pool, out, id, size, local(to)));
  assert.equal(a.sendBatch(out), plan.length);
  assert.equal(a.sendErrors, 0);
  // Runs of two or more: 5x200 b, 2x200 b, 2x500 b, 3x1 c, 64x64 c, (6x64 + 63) c, 3x1472/1471 b.
  assert.equal(a.gsoMessages, 7);
  assert.equal(a.gsoDatagrams, 5 + 2 + 2 + 3 + 64 + 7 + 3);
  release(pool, out);

  for (const [sock, name] of [[b, 'b'], [c, 'c']] as const) {
    const ids = plan.flatMap(([, to], id) => (to === sock ? [id] : []));
    const inb = new PacketBatch(256);
    await drain(sock, inb, ids.length);
    assert.equal(inb.count, ids.length, `${name} got every datagram sent to it`);
    ids.forEach((id, k) => expectDatagram(pool, inb, k, id, plan[id][0], local(a)));
    release(pool, inb);
  }
  [a, b, c].forEach((s) => s.close());
  pool.assertNoLeaks();
});

test('GSO and GRO over IPv6 ::1, and a dual-stack socket coalescing to an IPv4 peer', async (t) => {
  const pool = new BufferPool({ slotCount: 512 });
  const a = UdpSocket.open({ pool, family: 6, address: '::1' });
  const b = UdpSocket.open({ pool, family: 6, address: '::1', reserve: 256 });
  const dual = UdpSocket.open({ pool, family: 6 });
  const v4 = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 256 });
  t.after(() => [a, b, dual, v4].forEach((s) => s.close()));

  const out = new PacketBatch(64);
  for (let id = 0; id < 40; id++) push(pool, out, id, 1200, local(b, 6));
  assert.equal(a.sendBatch(out), 40);
  assert.equal(a.gsoDatagrams, 40);
  release(pool, out);
  const inb = new PacketBatch(64);
  await drain(b, inb, 40);
  for (let id = 0; id < 40; id++) expectDatagram(pool, inb, id, id, 1200, local(a, 6));
  assert.ok(b.groDatagrams >= 40);
  release(pool, inb);

  for (let id = 0; id < 20; id++) push(pool, out, id, 99, local(v4));
  assert.equal(dual.sendBatch(out), 20);
  assert.equal(dual.gsoDatagrams, 20);
  release(pool, out);
  await drain(v4, inb, 20);
  const from: Endpoint = { family: 4, address: '127.0.0.1', port: dual.localPort };
  for (let id = 0; id < 20; id++) expectDatagram(pool, inb, id, id, 99, from);
  release(pool, inb);
  [a, b, dual, v4].forEach((s) => s.close());
  pool.assertNoLeaks();
});

test('GRO: a coalesced message larger than the batch waits in the ring, in order, across calls', async (t) => {
  const pool = new BufferPool({ slotCount: 256 });
  const a = UdpSocket.open({ pool, family: 4, address: '127.0.0.1' });
  const b = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 16 });
  t.after(() => [a, b].forEach((s) => s.close()));
  const out = new PacketBatch(128);
  for (let id = 0; id < 100; id++) push(pool, out, id, 700, local(b));
  assert.equal(a.sendBatch(out), 100);
  release(pool, out);

  const small = new PacketBatch(7);
  let seen = 0;
  let calls = 0;
  const until = Date.now() + 3000;
  while (seen < 100) {
    const n = b.recvBatch(small);
    calls++;
    for (let k = 0; k < small.count; k++) expectDatagram(pool, small, k, seen + k, 700, local(a));
    seen += small.count;
    release(pool, small);
    if (n === 0) {
      assert.ok(Date.now() < until, `received ${seen} of 100`);
      await new Promise((r) => setTimeout(r, 2));
    } else if (seen < 100) {
      assert.equal(n, 7, 'a full batch while datagrams remain');
    }
  }
  assert.ok(calls >= 15, `read 7 at a time (${calls} calls)`);
  assert.equal(b.pending, false);
  [a, b].forEach((s) => s.close());
  pool.assertNoLeaks();
});

test('GRO: readiness comes back for datagrams left in the ring, even with the socket queue empty', async (t) => {
  const pool = new BufferPool({ slotCount: 256 });
  const a = UdpSocket.open({ pool, family: 4, address: '127.0.0.1' });
  const b = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 8 });
  t.after(() => [a, b].forEach((s) => s.close()));
  const inb = new PacketBatch(64);
  const one = new PacketBatch(3);
  let callbacks = 0;
  const done = new Promise<void>((resolve) => {
    // One batch of 3 per callback: the 60 datagrams of one or two coalesced messages
    // need 20 callbacks after the first read has emptied the socket's queue.
    b.start(() => {
      callbacks++;
      b.recvBatch(one);
      for (let k = 0; k < one.count; k++) {
        const slot = pool.acquire();
        pool.slab.copy(pool.slab, pool.dataOffset(slot), one.offsets[k], one.offsets[k] + one.lengths[k]);
        inb.push(slot, pool.dataOffset(slot), one.lengths[k]);
        inb.setEndpoint(inb.count - 1, one.endpoints, k * ENDPOINT_STRIDE);
      }
      release(pool, one);
      if (inb.count >= 60) resolve();
    });
  });
  const out = new PacketBatch(64);
  for (let id = 0; id < 60; id++) push(pool, out, id, 256, local(b));
  assert.equal(a.sendBatch(out), 60);
  release(pool, out);
  const timer = setTimeout(() => assert.fail(`stalled at ${inb.count} of 60 after ${callbacks} callbacks`), 3000);
  await done;
  clearTimeout(timer);
  b.pause();
  for (let id = 0; id < 60; id++) expectDatagram(pool, inb, id, id, 256, local(a));
  assert.ok(callbacks >= 20, `callbacks: ${callbacks}`);
  assert.ok(b.groDatagrams >= 60, 'the datagrams arrived coalesced (else the ring was never left holding any)');
  release(pool, inb);
  [a, b].forEach((s) => s.close());
  pool.assertNoLeaks();
});

test('GRO: a starved reader resumes when slots come back, though the rest is in the ring and not the socket', async (t) => {
  const pool = new BufferPool({ slotCount: 6 });
  const txPool = new BufferPool({ slotCount: 64 });
  const a = UdpSocket.open({ pool: txPool, family: 4, address: '127.0.0.1', reserve: 1 });
  const b = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 4 });
  t.after(() => [a, b].forEach((s) => s.close()));
  const got: number[] = [];
  const held = new PacketBatch(8);
  let wake: (() => void) | null = null;
  b.start(() => {
    const batch = new PacketBatch(2); // test code: allocation is fine here
    b.recvBatch(batch);
    for (let k = 0; k < batch.count; k++) {
      got.push(pool.slab[batch.offsets[k]]);
      held.push(batch.slots[k], batch.offsets[k], batch.lengths[k]);
    }
    if (wake !== null && got.length >= 12) wake();
  });
  const out = new PacketBatch(16);
  for (let id = 0; id < 12; id++) {
    const slot = txPool.acquire();
    const off = txPool.dataOffset(slot);
    txPool.slab.fill(id, off, off + 50);
    encodeEndpoint(local(b), out.endpoints, out.push(slot, off, 50) * ENDPOINT_STRIDE);
  }
  assert.equal(a.sendBatch(out), 12);
  txPool.releaseMany(out.slots, out.count);
  await new Promise((r) => setTimeout(r, 100));
  // Six slots in all: the reader holds every one and the rest wait in the ring.
  assert.equal(got.length, 6);
  assert.ok(b.pending, 'datagrams wait in the GRO ring');
  const finished = new Promise<void>((resolve) => (wake = resolve));
  const timer = setTimeout(() => assert.fail(`stalled at ${got.length} of 12`), 3000);
  // Give slots back a few at a time, as a consumer would.
  while (got.length < 12) {
    const n = held.count;
    pool.releaseMany(held.slots, n);
    held.clear();
    await new Promise((r) => setTimeout(r, 20));
  }
  await finished;
  clearTimeout(timer);
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  pool.releaseMany(held.slots, held.count);
  [a, b].forEach((s) => s.close());
  pool.assertNoLeaks();
});

test('GRO: coalesced datagrams larger than a slot are dropped and counted, the rest delivered', async (t) => {
  const txPool = new BufferPool({ slotCount: 64 });
  const rxPool = new BufferPool({ slotCount: 64, slotSize: 256, headroom: 64, tailroom: 32 });
  assert.equal(rxPool.dataCapacity, 160);
  const a = UdpSocket.open({ pool: txPool, family: 4, address: '127.0.0.1' });
  const b = UdpSocket.open({ pool: rxPool, family: 4, address: '127.0.0.1', reserve: 32 });
  t.after(() => [a, b].forEach((s) => s.close()));
  const out = new PacketBatch(32);
  for (let id = 0; id < 10; id++) push(txPool, out, id, 200, local(b)); // one run, too large for b's slots
  for (let id = 10; id < 15; id++) push(txPool, out, id, 160, local(b)); // one run that fits exactly
  assert.equal(a.sendBatch(out), 15);
  assert.equal(a.gsoDatagrams, 15);
  release(txPool, out);
  const inb = new PacketBatch(32);
  const until = Date.now() + 3000;
  while (b.truncated + inb.count < 15 && Date.now() < until) {
    if (b.recvBatch(inb) === 0) await new Promise((r) => setTimeout(r, 2));
  }
  assert.equal(b.truncated, 10);
  assert.equal(inb.count, 5);
  for (let k = 0; k < 5; k++) expectDatagram(rxPool, inb, k, 10 + k, 160, local(a));
  release(rxPool, inb);
  [a, b].forEach((s) => s.close());
  txPool.assertNoLeaks();
  rxPool.assertNoLeaks();
});

test('offloads off by option give the same datagrams through the plain path', async (t) => {
  const pool = new BufferPool({ slotCount: 512 });
  const a = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', gso: false });
  const b = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', gro: false, reserve: 128 });
  t.after(() => [a, b].forEach((s) => s.close()));
  assert.equal(a.gso, false);
  assert.equal(b.gro, false);
  const out = new PacketBatch(64);
  for (let id = 0; id < 64; id++) push(pool, out, id, 512, local(b));
  assert.equal(a.sendBatch(out), 64);
  assert.equal(a.gsoMessages, 0);
  release(pool, out);
  const inb = new PacketBatch(64);
  await drain(b, inb, 64);
  for (let id = 0; id < 64; id++) expectDatagram(pool, inb, id, id, 512, local(a));
  assert.equal(b.groMessages, 0);
  release(pool, inb);
  assert.throws(() => UdpSocket.open({ pool, family: 4, gso: 1 as unknown as boolean }), { code: 'FERRY_INVALID_ARGUMENT', message: /gso/ });
  [a, b].forEach((s) => s.close());
  pool.assertNoLeaks();
});

test('GSO falls back for good when the kernel refuses UDP_SEGMENT (zero-checksum socket): nothing is lost', async (t) => {
  const pool = new BufferPool({ slotCount: 512 });
  const a = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', noChecksum: true });
  const b = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', gro: false, reserve: 128 });
  t.after(() => [a, b].forEach((s) => s.close()));
  assert.equal(a.gso, true, 'GSO is supported, so it starts on');
  const out = new PacketBatch(64);
  for (let id = 0; id < 40; id++) push(pool, out, id, 300, local(b));
  assert.equal(a.sendBatch(out), 40);
  assert.equal(a.sendErrors, 0);
  assert.equal(a.gso, false, 'EINVAL turned GSO off');
  assert.equal(a.gsoFallbacks, 1);
  assert.equal(a.gsoMessages, 0);
  release(pool, out);
  // A second batch goes out plainly from the start.
  for (let id = 40; id < 64; id++) push(pool, out, id, 300, local(b));
  assert.equal(a.sendBatch(out), 24);
  assert.equal(a.gsoFallbacks, 1);
  release(pool, out);
  const inb = new PacketBatch(64);
  await drain(b, inb, 64);
  for (let id = 0; id < 64; id++) expectDatagram(pool, inb, id, id, 300, local(a));
  release(pool, inb);
  [a, b].forEach((s) => s.close());
  pool.assertNoLeaks();
});

test('native offload calls check their arguments and the ring they are given', (t) => {
  const native = loadNative() as unknown as Record<string, (...args: unknown[]) => unknown> & Record<string, number>;
  const pool = new BufferPool({ slotCount: 8 });
  const s = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 4 });
  t.after(() => s.close());
  const offsets = new Int32Array([pool.dataOffset(0)]);
  const lengths = new Int32Array(1);
  const eps = new Uint8Array(ENDPOINT_STRIDE);
  const ringBytes = native.UDP_GRO_RING_BYTES;
  assert.ok(ringBytes > 64 * 65536);
  const recv = (ring: Uint8Array) => native.udpRecvBatchGro(s.fd, pool.slab, offsets, lengths, eps, 100, 1, ring);
  assert.throws(() => recv(new Uint8Array(1024)), { name: 'RangeError', message: /ring/ });
  assert.throws(() => recv(new Uint8Array(ringBytes + 8).subarray(1, ringBytes + 1)), { name: 'RangeError', message: /aligned/ });
  const ring = new Uint8Array(ringBytes);
  assert.equal(recv(ring), 0, 'nothing to read');
  const header = new Int32Array(ring.buffer, 0, 8);
  header[0] = 5; // five messages held, but their records say nothing sensible
  header[1] = 62;
  assert.throws(() => recv(ring), { name: 'RangeError', message: /corrupt/ });
  header[0] = 0;
  assert.throws(() => native.udpSendBatchGso(s.fd, pool.slab, offsets, new Int32Array([1]), eps, 1, undefined, new Int32Array(2)), {
    name: 'RangeError',
    message: /state/,
  });
  assert.throws(() => native.udpSetGro(s.fd, 1), { name: 'TypeError' });
  assert.equal(native.udpGsoSupported(s.fd), true);
  s.close();
  assert.throws(() => native.udpGsoSupported(s.fd), { name: 'RangeError' }, 'fd -1 after close');
  pool.assertNoLeaks();
});
