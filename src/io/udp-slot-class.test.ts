/**
 * A UDP socket on a two-class pool receives into small slots until it is told of larger
 * datagrams (fitReads: the interface MTU plus the plane's overhead), then into large
 * ones; with and without UDP_GRO (whose ring copies datagrams into the batch's slots).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { PacketBatch } from '../buffer/batch.js';
import { BufferPool, SlotClass } from '../buffer/pool.js';
import { UdpSocket } from './udp.js';

const JUMBO = 30_000;

/** Calls recvBatch until the batch holds `want` datagrams (or 3 s pass), then once more to catch extras. */
async function receive(sock: UdpSocket, batch: PacketBatch, want: number): Promise<void> {
  const deadline = performance.now() + 3000;
  while (batch.count < want && performance.now() < deadline) {
    sock.recvBatch(batch);
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 30));
  sock.recvBatch(batch);
}

for (const gro of [false, true]) {
  test(`UDP${gro ? ' with GRO' : ''}: jumbo datagrams are truncated in small slots and received whole once the socket fits large ones`, async (t) => {
    const pool = new BufferPool({ slotCount: 16, slotSize: 2048, largeSlotCount: 8, largeSlotSize: 69632, headroom: 128, tailroom: 32 });
    const rx = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 8, gro });
    const tx = createSocket('udp4');
    t.after(() => {
      rx.close();
      tx.close();
    });
    const send = (size: number, fill: number) => new Promise<void>((resolve, reject) => tx.send(Buffer.alloc(size, fill), rx.localPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    const batch = new PacketBatch(8);

    await send(JUMBO, 1);
    await send(100, 2);
    await receive(rx, batch, 1);
    assert.deepEqual([batch.count, batch.lengths[0], rx.truncated], [1, 100, 1], 'small slots: the jumbo datagram is dropped, counted');
    assert.equal(pool.classOf(batch.slots[0]), SlotClass.Small);
    pool.releaseMany(batch.slots, batch.count);
    batch.clear();

    rx.fitReads(JUMBO + 32);
    assert.equal(pool.inUse, 0, 'the small reserve went back to the pool');
    await send(JUMBO, 3);
    await send(100, 4);
    await receive(rx, batch, 2);
    assert.equal(batch.count, 2);
    assert.deepEqual([batch.lengths[0], batch.lengths[1]], [JUMBO, 100]);
    for (let i = 0; i < 2; i++) assert.equal(pool.classOf(batch.slots[i]), SlotClass.Large);
    const whole = pool.slab.subarray(batch.offsets[0], batch.offsets[0] + JUMBO);
    assert.ok(whole.every((b) => b === 3), 'the jumbo datagram arrived intact');
    assert.equal(rx.truncated, 1);
    pool.releaseMany(batch.slots, batch.count);
    batch.clear();

    rx.fitReads(1420 + 32);
    await send(JUMBO, 5);
    await send(100, 6);
    await receive(rx, batch, 1);
    assert.deepEqual([batch.count, batch.lengths[0], rx.truncated], [1, 100, 2], 'back to small slots');
    pool.releaseMany(batch.slots, batch.count);
    batch.clear();
    rx.close();
    pool.assertNoLeaks();
    assert.equal(pool.exhausted + pool.largeExhausted, 0);
  });
}
