import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../src/buffer/pool.js';
import { PacketBatch } from '../../src/buffer/batch.js';
import { ENDPOINT_STRIDE, decodeEndpoint } from '../../src/io/endpoint.js';
import { FakeTun } from './fake-tun.js';
import { FakeNetwork, FakeUdp } from './fake-udp.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

test('fake UDP carries datagrams between two sockets with endpoints', async () => {
  const pool = new BufferPool({ slotCount: 256, debug: true });
  const net = new FakeNetwork();
  const a = new FakeUdp(net, { family: 4, address: '192.0.2.1', port: 1000 }, pool, 8);
  const b = new FakeUdp(net, { family: 6, address: 'fd00::2', port: 2000 }, pool, 8);
  let readable = 0;
  b.start(() => readable++);

  const out = new PacketBatch(4);
  for (let i = 0; i < 3; i++) {
    const slot = pool.acquire();
    const off = pool.dataOffset(slot);
    pool.slab.fill(i + 1, off, off + 10 + i);
    out.push(slot, off, 10 + i);
  }
  // b is IPv6; a sends to it with a v6 endpoint record.
  const rec = new Uint8Array(ENDPOINT_STRIDE);
  const { encodeEndpoint } = await import('../../src/io/endpoint.js');
  encodeEndpoint(b.local, rec);
  for (let i = 0; i < out.count; i++) out.setEndpoint(i, rec);
  assert.equal(a.sendBatch(out), 3);
  pool.releaseMany(out.slots, out.count);

  await tick();
  assert.ok(readable >= 1);
  const inb = new PacketBatch(2);
  assert.equal(b.recvBatch(inb), 2, 'batch capacity bounds the read');
  assert.deepEqual(decodeEndpoint(inb.endpoints, 0), { family: 4, address: '192.0.2.1', port: 1000 });
  assert.equal(inb.lengths[1], 11);
  assert.equal(pool.slab[inb.offsets[1]], 2);
  pool.releaseMany(inb.slots, inb.count);
  inb.clear();
  assert.equal(b.recvBatch(inb), 1);
  pool.releaseMany(inb.slots, inb.count);
  a.close();
  b.close();
  pool.assertNoLeaks();
});

test('fake TUN reads into pool slots and records writes; pool exhaustion limits reads', async () => {
  const pool = new BufferPool({ slotCount: 4, debug: true });
  const tun = new FakeTun('ft0', pool, 2);
  for (let i = 0; i < 5; i++) tun.inject(new Uint8Array([0x45, i]));
  const batch = new PacketBatch(8);
  assert.equal(tun.readBatch(batch), 2, 'reserve of 2 bounds one read');
  // The reserve refilled with the 2 remaining slots: pool now empty.
  assert.equal(pool.available, 0);
  const more = new PacketBatch(8);
  assert.equal(tun.readBatch(more), 2);
  const exhaustedBefore = pool.exhausted;
  assert.equal(tun.readBatch(more), 0, 'no slots: backpressure');
  assert.ok(pool.exhausted > exhaustedBefore);
  assert.equal(tun.writeBatch(batch), 2);
  assert.deepEqual([...tun.written[1]], [0x45, 1]);
  pool.releaseMany(batch.slots, batch.count);
  pool.releaseMany(more.slots, more.count);
  tun.close();
  pool.assertNoLeaks();
});
