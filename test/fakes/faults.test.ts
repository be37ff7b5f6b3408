/**
 * Fault injection on the in-memory ports: per-entry send results, EAGAIN mid-batch and
 * whenWritable, blocked writes, survived receive and read errors, per-entry TUN write
 * results, and the sticky source of the fake UDP (local part of the endpoint record).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { BufferPool } from '../../src/buffer/pool.js';
import { PacketBatch } from '../../src/buffer/batch.js';
import { ENDPOINT_STRIDE, decodeEndpointLocal, encodeEndpoint, encodeEndpointLocal, hasEndpointLocal, type Endpoint } from '../../src/io/endpoint.js';
import { FakeTun } from './fake-tun.js';
import { FakeNetwork, FakeUdp } from './fake-udp.js';

const { EAGAIN, ENOBUFS, EPERM, ENOMEM, EINVAL } = constants.errno;
const tick = () => new Promise<void>((r) => setImmediate(r));

function setup() {
  const pool = new BufferPool({ slotCount: 256, debug: true });
  const net = new FakeNetwork();
  const a = new FakeUdp(net, { family: 4, address: '192.0.2.1', port: 1000 }, pool, 8);
  const b = new FakeUdp(net, { family: 4, address: '192.0.2.2', port: 2000 }, pool, 16);
  return { pool, net, a, b };
}

/** A batch of n one-byte datagrams (byte = first + i) to `to`. */
function batchTo(pool: BufferPool, to: Endpoint, n: number, first = 0): PacketBatch {
  const out = new PacketBatch(64);
  for (let i = 0; i < n; i++) {
    const slot = pool.acquire();
    const off = pool.dataOffset(slot);
    pool.slab[off] = first + i;
    encodeEndpoint(to, out.endpoints, out.push(slot, off, 1) * ENDPOINT_STRIDE);
  }
  return out;
}

function drain(pool: BufferPool, sock: FakeUdp): number[] {
  const inb = new PacketBatch(64);
  sock.recvBatch(inb);
  const got = Array.from({ length: inb.count }, (_, i) => pool.slab[inb.offsets[i]]);
  pool.releaseMany(inb.slots, inb.count);
  return got;
}

test('EAGAIN from entry k: entries before it are sent, the rest are -EAGAIN and not sent; whenWritable calls back once', async () => {
  const { pool, a, b } = setup();
  const out = batchTo(pool, b.local, 6);
  a.failNextSends(2, EAGAIN);
  assert.equal(a.sendBatch(out), 2);
  assert.deepEqual([...a.sendResults.subarray(0, 6)], [0, 0, -EAGAIN, -EAGAIN, -EAGAIN, -EAGAIN]);
  assert.deepEqual([a.sent, a.sendErrors, a.sendBlocked], [2, 0, 4]);
  assert.deepEqual(drain(pool, b), [0, 1], 'only the sent ones arrived');

  let writable = 0;
  const onWritable = () => writable++;
  a.whenWritable(onWritable);
  a.whenWritable(onWritable); // the same function waits once
  assert.equal(writable, 0, 'never synchronously');
  await tick();
  assert.equal(writable, 1);
  await tick();
  assert.equal(writable, 1, 'once');

  // The caller sends the rest again: each datagram arrives exactly once, in order.
  const rest = new PacketBatch(64);
  for (let i = 2; i < 6; i++) {
    rest.push(out.slots[i], out.offsets[i], out.lengths[i]);
    rest.setEndpoint(rest.count - 1, out.endpoints, i * ENDPOINT_STRIDE);
  }
  assert.equal(a.sendBatch(rest), 4);
  assert.deepEqual(drain(pool, b), [2, 3, 4, 5]);
  assert.equal(a.sent, 6);
  pool.releaseMany(out.slots, out.count);
  a.close();
  b.close();
  pool.assertNoLeaks();
});

test('other per-entry errors (ENOBUFS, EPERM) fail only their entries; the batch goes on', () => {
  const { pool, a, b } = setup();
  const out = batchTo(pool, b.local, 6);
  a.failNextSends(1, ENOBUFS, 2);
  assert.equal(a.sendBatch(out), 4);
  assert.deepEqual([...a.sendResults.subarray(0, 6)], [0, -ENOBUFS, -ENOBUFS, 0, 0, 0]);
  assert.deepEqual([a.sendErrors, a.lastSendError, a.sendBlocked], [2, -ENOBUFS, 0]);
  assert.deepEqual(drain(pool, b), [0, 3, 4, 5]);
  a.failNextSends(5, EPERM, 1);
  assert.equal(a.sendBatch(out), 5);
  assert.equal(a.sendResults[5], -EPERM);
  assert.equal(a.sendBatch(out), 6, 'faults are one-shot');
  assert.deepEqual(drain(pool, b), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5]);
  pool.releaseMany(out.slots, out.count);
  a.close();
  b.close();
  pool.assertNoLeaks();
});

test('blocked writes: every entry is -EAGAIN and whenWritable waits for unblockWrites', async () => {
  const { pool, a, b } = setup();
  const out = batchTo(pool, b.local, 3);
  a.blockWrites();
  assert.equal(a.sendBatch(out), 0);
  assert.deepEqual([...a.sendResults.subarray(0, 3)], [-EAGAIN, -EAGAIN, -EAGAIN]);
  let writable = 0;
  a.whenWritable(() => writable++);
  for (let i = 0; i < 5; i++) await tick();
  assert.equal(writable, 0, 'still blocked');
  assert.equal(a.writableWaiting, 1);
  a.unblockWrites();
  assert.equal(writable, 0, 'on a later turn');
  await tick();
  assert.equal(writable, 1);
  assert.equal(a.sendBatch(out), 3);
  const cancelled = () => assert.fail('cancelled');
  a.whenWritable(cancelled);
  assert.equal(a.cancelWhenWritable(cancelled), true);
  a.whenWritable(cancelled);
  a.close();
  await tick();
  pool.releaseMany(out.slots, out.count);
  drain(pool, b);
  b.close();
  pool.assertNoLeaks();
});

test('an injected receive error is counted, never thrown, and the datagrams behind it are read', async () => {
  const { pool, a, b } = setup();
  let readable = 0;
  const got: number[] = [];
  b.start(() => {
    readable++;
    got.push(...drain(pool, b));
  });
  b.injectRecvError(ENOBUFS);
  await tick();
  assert.equal(readable, 1, 'a pending error makes the socket readable');
  assert.deepEqual([b.recvErrors, b.lastRecvError], [1, -ENOBUFS]);
  const out = batchTo(pool, b.local, 3);
  b.injectRecvError(ENOMEM);
  assert.equal(a.sendBatch(out), 3);
  await tick();
  assert.deepEqual(got, [0, 1, 2], 'reading resumed');
  assert.deepEqual([b.recvErrors, b.lastRecvError], [2, -ENOMEM]);
  pool.releaseMany(out.slots, out.count);
  a.close();
  b.close();
  pool.assertNoLeaks();
});

test('the fake UDP fills the local part on receive and clears a source that is not its own on send', () => {
  const { pool, a, b } = setup();
  const out = batchTo(pool, b.local, 1);
  a.sendBatch(out);
  pool.releaseMany(out.slots, out.count);
  const inb = new PacketBatch(4);
  assert.equal(b.recvBatch(inb), 1);
  assert.deepEqual(decodeEndpointLocal(inb.endpoints, 0), { family: 4, address: '192.0.2.2', ifindex: 0 });
  // Reply with the received record: from b's own address, kept.
  assert.equal(b.sendBatch(inb), 1);
  assert.ok(hasEndpointLocal(inb.endpoints, 0));
  assert.equal(b.sourceResets, 0);
  // An address b does not have: cleared in the batch, sent from b's address.
  encodeEndpointLocal({ family: 4, address: '192.0.2.99', ifindex: 0 }, inb.endpoints, 0);
  assert.equal(b.sendBatch(inb), 1);
  assert.equal(hasEndpointLocal(inb.endpoints, 0), false);
  assert.equal(b.sourceResets, 1);
  assert.deepEqual(drain(pool, a), [0, 0]);
  pool.releaseMany(inb.slots, inb.count);
  a.close();
  b.close();
  pool.assertNoLeaks();
});

test('fake TUN: per-entry write results, failNextWrites, and a survived read error', async () => {
  const pool = new BufferPool({ slotCount: 32, debug: true });
  const tun = new FakeTun('ft1', pool, 4);
  const out = new PacketBatch(8);
  for (let i = 0; i < 4; i++) {
    const slot = pool.acquire();
    pool.slab[pool.dataOffset(slot)] = 0x45;
    out.push(slot, pool.dataOffset(slot), 20);
  }
  tun.failNextWrites(1, EINVAL, 2);
  assert.equal(tun.writeBatch(out), 2);
  assert.deepEqual([...tun.writeResults.subarray(0, 4)], [0, -EINVAL, -EINVAL, 0]);
  assert.deepEqual([tun.writeErrors, tun.lastWriteError, tun.written.length], [2, -EINVAL, 2]);
  tun.failWrites = true;
  assert.equal(tun.writeBatch(out), 0);
  assert.ok(tun.writeResults.subarray(0, 4).every((r) => r < 0));
  pool.releaseMany(out.slots, out.count);

  const inb = new PacketBatch(8);
  let readable = 0;
  tun.start(() => {
    readable++;
    tun.readBatch(inb);
  });
  tun.inject(new Uint8Array([0x45, 1]));
  tun.injectReadError(EINVAL);
  await tick();
  assert.deepEqual([tun.readErrors, tun.lastReadError, inb.count], [1, -EINVAL, 0], 'the error ended that read');
  await tick();
  assert.equal(inb.count, 1, 'the next readiness read the packet');
  assert.ok(readable >= 2);
  pool.releaseMany(inb.slots, inb.count);
  tun.close();
  pool.assertNoLeaks();
});
