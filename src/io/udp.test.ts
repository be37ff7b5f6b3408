import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { PacketBatch } from '../buffer/batch.js';
import { BufferPool } from '../buffer/pool.js';
import { isSystemError } from '../errors.js';
import { decodeEndpoint, encodeEndpoint, ENDPOINT_STRIDE, type Endpoint } from './endpoint.js';
import { UdpSocket } from './udp.js';

/** Byte j of test datagram i: differs per datagram and per position. */
function pattern(i: number, j: number): number {
  return (i * 31 + j * 7 + 3) & 0xff;
}

/** Fills a batch with datagrams of the given sizes, all to `to`; slots come from the pool. */
function fillBatch(pool: BufferPool, batch: PacketBatch, sizes: number[], to: Endpoint | ((i: number) => Endpoint)): void {
  for (let i = 0; i < sizes.length; i++) {
    const slot = pool.acquire();
    assert.ok(slot >= 0, 'pool has room for the test batch');
    const off = pool.dataOffset(slot);
    for (let j = 0; j < sizes[i]; j++) pool.slab[off + j] = pattern(i, j);
    const k = batch.push(slot, off, sizes[i]);
    encodeEndpoint(typeof to === 'function' ? to(i) : to, batch.endpoints, k * ENDPOINT_STRIDE);
  }
}

function releaseBatch(pool: BufferPool, batch: PacketBatch): void {
  pool.releaseMany(batch.slots, batch.count);
  batch.clear();
}

const handlers = new WeakMap<UdpSocket, () => void>();

/** Receives through the socket's readiness callback until the batch holds `want` packets. */
function receive(sock: UdpSocket, batch: PacketBatch, want: number, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.pause();
      reject(new Error(`received ${batch.count} of ${want} datagrams`));
    }, timeoutMs);
    if (!handlers.has(sock)) sock.start(() => handlers.get(sock)!());
    handlers.set(sock, () => {
      sock.recvBatch(batch);
      if (batch.count >= want) {
        clearTimeout(timer);
        sock.pause();
        resolve();
      }
    });
    sock.resume();
  });
}

function checkPayloads(pool: BufferPool, batch: PacketBatch, sizes: number[]): void {
  assert.equal(batch.count, sizes.length);
  for (let i = 0; i < sizes.length; i++) {
    assert.equal(batch.lengths[i], sizes[i], `datagram ${i} length`);
    const off = batch.offsets[i];
    assert.equal(off, pool.dataOffset(batch.slots[i]), `datagram ${i} starts after the slot's headroom`);
    for (let j = 0; j < sizes[i]; j++) {
      if (pool.slab[off + j] !== pattern(i, j)) assert.fail(`datagram ${i} byte ${j} differs`);
    }
  }
}

test('UDP batch round trip on 127.0.0.1: 64 datagrams of varied sizes, order, content and sender', async (t) => {
  const pool = new BufferPool({ slotCount: 512 });
  const a = UdpSocket.open({ pool, family: 4, address: '127.0.0.1' });
  const b = UdpSocket.open({ pool, family: 4, address: '127.0.0.1' });
  t.after(() => {
    a.close();
    b.close();
  });
  assert.ok(a.localPort > 0 && b.localPort > 0 && a.localPort !== b.localPort);
  // 0 bytes, 1 byte, ..., up to exactly the slot's data capacity (not truncated).
  const sizes = Array.from({ length: 64 }, (_, i) => (i === 63 ? pool.dataCapacity : (i * 37) % 1500));
  const out = new PacketBatch(64);
  fillBatch(pool, out, sizes, { family: 4, address: '127.0.0.1', port: b.localPort });
  assert.equal(a.sendBatch(out), 64);
  assert.equal(a.sent, 64);
  assert.equal(a.sendErrors, 0);
  releaseBatch(pool, out);

  const inb = new PacketBatch(128);
  await receive(b, inb, 64);
  checkPayloads(pool, inb, sizes);
  for (let i = 0; i < 64; i++) {
    assert.deepEqual(decodeEndpoint(inb.endpoints, i * ENDPOINT_STRIDE), { family: 4, address: '127.0.0.1', port: a.localPort });
  }
  assert.equal(b.received, 64);
  assert.equal(b.truncated, 0);
  releaseBatch(pool, inb);
  a.close();
  b.close();
  pool.assertNoLeaks();
});

test('UDP over IPv6 ::1, and a dual-stack IPv6 socket talking to an IPv4 peer with family-4 records', async (t) => {
  const pool = new BufferPool({ slotCount: 512 });
  const v6a = UdpSocket.open({ pool, family: 6, address: '::1' });
  const v6b = UdpSocket.open({ pool, family: 6, address: '::1' });
  const dual = UdpSocket.open({ pool, family: 6 });
  const v4 = UdpSocket.open({ pool, family: 4, address: '127.0.0.1' });
  const only6 = UdpSocket.open({ pool, family: 6, address: '::', v6only: true });
  const all = [v6a, v6b, dual, v4, only6];
  t.after(() => all.forEach((s) => s.close()));

  const sizes = Array.from({ length: 64 }, (_, i) => 1 + ((i * 53) % 1400));
  const out = new PacketBatch(64);
  fillBatch(pool, out, sizes, { family: 6, address: '::1', port: v6b.localPort });
  assert.equal(v6a.sendBatch(out), 64);
  releaseBatch(pool, out);
  const inb = new PacketBatch(64);
  await receive(v6b, inb, 64);
  checkPayloads(pool, inb, sizes);
  assert.deepEqual(decodeEndpoint(inb.endpoints, 17 * ENDPOINT_STRIDE), { family: 6, address: '::1', port: v6a.localPort });
  releaseBatch(pool, inb);

  // IPv4 peer -> dual-stack socket: the sender appears as 127.0.0.1 (family 4), not ::ffff:127.0.0.1.
  const small = [10, 200, 30];
  fillBatch(pool, out, small, { family: 4, address: '127.0.0.1', port: dual.localPort });
  assert.equal(v4.sendBatch(out), 3);
  releaseBatch(pool, out);
  await receive(dual, inb, 3);
  checkPayloads(pool, inb, small);
  assert.deepEqual(decodeEndpoint(inb.endpoints, 0), { family: 4, address: '127.0.0.1', port: v4.localPort });

  // Reply through the dual-stack socket to the family-4 record it received.
  const reply = new PacketBatch(4);
  fillBatch(pool, reply, [5], (i) => decodeEndpoint(inb.endpoints, i * ENDPOINT_STRIDE)!);
  releaseBatch(pool, inb);
  assert.equal(dual.sendBatch(reply), 1);
  assert.equal(dual.sendErrors, 0);
  await receive(v4, inb, 1);
  checkPayloads(pool, inb, [5]);
  assert.deepEqual(decodeEndpoint(inb.endpoints, 0), { family: 4, address: '127.0.0.1', port: dual.localPort });
  releaseBatch(pool, inb);

  // A v6only socket refuses the IPv4 destination per datagram and goes on with the rest.
  releaseBatch(pool, reply);
  fillBatch(pool, reply, [4, 4, 4], (i) =>
    i === 1 ? { family: 4, address: '127.0.0.1', port: v4.localPort } : { family: 6, address: '::1', port: v6b.localPort },
  );
  assert.equal(only6.sendBatch(reply), 2);
  assert.equal(only6.sendErrors, 1);
  assert.equal(only6.lastSendErrors[0], 0);
  assert.ok(only6.lastSendErrors[1] < 0, 'the refused datagram has -errno');
  assert.equal(only6.lastSendErrors[2], 0);
  assert.equal(only6.lastSendError, only6.lastSendErrors[1]);
  releaseBatch(pool, reply);
  await receive(v6b, inb, 2);
  assert.equal(inb.count, 2);
  for (const [k, sentIndex] of [[0, 0], [1, 2]]) {
    assert.equal(inb.lengths[k], 4);
    for (let j = 0; j < 4; j++) assert.equal(pool.slab[inb.offsets[k] + j], pattern(sentIndex, j), `datagram ${sentIndex} arrived intact`);
  }
  releaseBatch(pool, inb);

  all.forEach((s) => s.close());
  pool.assertNoLeaks();
});

test('UDP datagrams larger than a slot are dropped and counted, never passed on truncated', async (t) => {
  const pool = new BufferPool({ slotCount: 16, slotSize: 256, headroom: 64, tailroom: 32 });
  assert.equal(pool.dataCapacity, 160);
  const rx = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 8 });
  const tx = createSocket('udp4');
  t.after(() => {
    rx.close();
    tx.close();
  });
  const sizes = [160, 161, 500, 10];
  for (let i = 0; i < sizes.length; i++) {
    tx.send(Buffer.alloc(sizes[i], i + 1), rx.localPort, '127.0.0.1');
  }
  const inb = new PacketBatch(8);
  await receive(rx, inb, 2);
  // Give the kernel's last datagram time to land, then make sure nothing else came.
  await new Promise((r) => setTimeout(r, 50));
  rx.recvBatch(inb);
  assert.equal(inb.count, 2);
  assert.deepEqual([inb.lengths[0], inb.lengths[1]], [160, 10]);
  assert.equal(pool.slab[inb.offsets[0]], 1);
  assert.equal(pool.slab[inb.offsets[1]], 4);
  assert.equal(rx.truncated, 2);
  assert.equal(rx.received, 2);
  releaseBatch(pool, inb);
  rx.close();
  pool.assertNoLeaks();
});

test('UDP reading pauses while the pool is empty and resumes by itself when slots come back', async (t) => {
  const pool = new BufferPool({ slotCount: 4 });
  const rx = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 4 });
  const tx = createSocket('udp4');
  t.after(() => {
    rx.close();
    tx.close();
  });
  const batch = new PacketBatch(8);
  let calls = 0;
  let wake: (() => void) | null = null;
  rx.start(() => {
    calls++;
    rx.recvBatch(batch);
    if (wake !== null && batch.count >= 2) wake();
  });
  for (let i = 0; i < 6; i++) tx.send(Buffer.from([i]), rx.localPort, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(batch.count, 4, 'only the reserve (the whole pool) could be read');
  // Two datagrams wait in the socket, yet readiness stopped: no busy loop while starved.
  assert.ok(calls <= 4, `readiness callbacks while starved: ${calls}`);
  assert.ok(pool.exhausted > 0, 'the empty pool was counted');
  const held = batch.slots.slice(0, 4);
  const firstBytes = [0, 1, 2, 3].map((i) => pool.slab[batch.offsets[i]]);
  assert.deepEqual(firstBytes, [0, 1, 2, 3]);
  batch.clear();
  const resumed = new Promise<void>((resolve) => (wake = resolve));
  pool.releaseMany(held, 4);
  await resumed;
  assert.equal(batch.count, 2);
  assert.deepEqual([pool.slab[batch.offsets[0]], pool.slab[batch.offsets[1]]], [4, 5]);
  releaseBatch(pool, batch);
  rx.close();
  pool.assertNoLeaks();
});

test('UDP open and send errors carry errno details; bad arguments throw clearly', (t) => {
  const pool = new BufferPool({ slotCount: 8 });
  const err = (() => {
    try {
      UdpSocket.open({ pool, family: 4, address: '192.0.2.1' });
    } catch (e) {
      return e;
    }
    return null;
  })();
  assert.ok(isSystemError(err), 'a SystemError');
  assert.equal(err.code, 'EADDRNOTAVAIL');
  assert.equal(err.errno, -99);
  assert.equal(err.syscall, 'bind');

  assert.throws(() => UdpSocket.open({ pool, family: 5 as 4 }), { code: 'FERRY_INVALID_ARGUMENT' });
  assert.throws(() => UdpSocket.open({ pool, family: 4, address: 'not-an-ip' }), { name: 'RangeError', message: /not an IPv4 address/ });
  assert.throws(() => UdpSocket.open({ pool, family: 4, port: 70000 }), { name: 'RangeError', message: /port/ });
  assert.throws(() => UdpSocket.open({ pool, family: 4, rcvbuf: -1 }), { name: 'RangeError', message: /rcvbuf/ });
  assert.throws(() => UdpSocket.open({ pool, family: 4, v6only: true }), { name: 'RangeError', message: /v6only/ });
  assert.throws(() => UdpSocket.open({ pool, family: 4, reserve: 9 }), { name: 'RangeError', message: /reserve/ });
  assert.throws(() => UdpSocket.open({ family: 4 } as never), { code: 'FERRY_INVALID_ARGUMENT' });
  // A taken port.
  const a = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 1 });
  t.after(() => a.close());
  assert.throws(() => UdpSocket.open({ pool, family: 4, address: '127.0.0.1', port: a.localPort, reserve: 1 }), { code: 'EADDRINUSE', syscall: 'bind' });
  a.close();
  assert.throws(() => a.recvBatch(new PacketBatch(1)), { code: 'FERRY_INVALID_ARGUMENT', message: /closed/ });
  a.close(); // idempotent
  pool.assertNoLeaks();
});

test('UDP SO_MARK is set when privileged and refused with EPERM otherwise', (t) => {
  const pool = new BufferPool({ slotCount: 4 });
  let sock: UdpSocket | null = null;
  t.after(() => sock?.close());
  const privileged = typeof process.getuid === 'function' && process.getuid() === 0;
  if (privileged) {
    sock = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', mark: 0x51820, reserve: 1 });
    sock.setMark(7);
    assert.throws(() => sock!.setMark(-1), { name: 'RangeError' });
  } else {
    assert.throws(() => UdpSocket.open({ pool, family: 4, address: '127.0.0.1', mark: 1, reserve: 1 }), { code: 'EPERM', syscall: 'setsockopt SO_MARK' });
  }
});
