import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketBatch } from '../buffer/batch.js';
import { BufferPool, SlotClass } from '../buffer/pool.js';
import { ENDPOINT_STRIDE as S } from './endpoint.js';
import { SlotReserve } from './reserve.js';

test('SlotReserve refills from the pool with data offsets after the headroom', () => {
  const pool = new BufferPool({ slotCount: 8 });
  const r = new SlotReserve(pool, 5, false);
  assert.equal(r.refill(), 5);
  assert.equal(pool.inUse, 5);
  for (let i = 0; i < 5; i++) assert.equal(r.offsets[i], pool.dataOffset(r.slots[i]));
  assert.equal(r.refill(), 5, 'a full reserve takes nothing more');
  assert.equal(pool.inUse, 5);
  r.releaseAll();
  pool.assertNoLeaks();
});

test('SlotReserve.handOver moves whole packets to the batch and keeps the slots of truncated ones', () => {
  const pool = new BufferPool({ slotCount: 16 });
  const r = new SlotReserve(pool, 5, true);
  r.refill();
  const before = Array.from(r.slots);
  // native/ read 3 packets: the second was truncated.
  r.lengths.set([10, -1, 20]);
  for (let i = 0; i < 3; i++) r.endpoints.fill(i + 1, i * S, i * S + S);
  const batch = new PacketBatch(8);
  batch.push(99, 0, 1); // a packet already in the batch stays first
  batch.endpoints.fill(7, 0, S);
  assert.equal(r.handOver(batch, 3), 2);
  assert.equal(batch.count, 3);
  assert.deepEqual(Array.from(batch.slots.subarray(0, 3)), [99, before[0], before[2]]);
  assert.deepEqual(Array.from(batch.lengths.subarray(0, 3)), [1, 10, 20]);
  assert.equal(batch.offsets[1], pool.dataOffset(before[0]));
  assert.equal(batch.offsets[2], pool.dataOffset(before[2]));
  assert.deepEqual([batch.endpoints[0], batch.endpoints[S], batch.endpoints[2 * S - 1], batch.endpoints[2 * S], batch.endpoints[3 * S - 1]], [7, 1, 1, 3, 3]);
  // Left: the truncated packet's slot, then the two unused ones, offsets in step.
  assert.equal(r.count, 3);
  assert.deepEqual(Array.from(r.slots.subarray(0, 3)), [before[1], before[3], before[4]]);
  for (let i = 0; i < 3; i++) assert.equal(r.offsets[i], pool.dataOffset(r.slots[i]));
  assert.equal(r.truncated, 1);
  assert.equal(r.refill(), 5);
  pool.releaseMany(batch.slots.subarray(1), 2);
  r.releaseAll();
  pool.assertNoLeaks();
});

test('SlotReserve takes what an almost empty pool has, and validates its size', () => {
  const pool = new BufferPool({ slotCount: 3 });
  const other = pool.acquire();
  const r = new SlotReserve(pool, 3, false);
  assert.equal(r.refill(), 2);
  assert.equal(pool.exhausted, 1);
  pool.release(other);
  assert.equal(r.refill(), 3);
  r.releaseAll();
  pool.assertNoLeaks();
  assert.throws(() => new SlotReserve(pool, 0, false), RangeError);
  assert.throws(() => new SlotReserve(pool, 4, false), /at most|\[1, 3\]/);
});

test('SlotReserve.fit: large slots for packets small ones cannot hold, at most a quarter of them, the old class given back', () => {
  const pool = new BufferPool({ slotCount: 16, slotSize: 2048, largeSlotCount: 8, largeSlotSize: 69632, headroom: 128, tailroom: 32 });
  const r = new SlotReserve(pool, 6, false);
  assert.equal(r.fit(1888), false, 'a packet of the small data capacity fits a small slot');
  assert.equal(r.refill(), 6);
  assert.equal(r.capacity, 1888);
  assert.equal(r.fit(1889), true);
  assert.equal(pool.inUse, 0, 'the small slots went back');
  assert.equal(r.slotClass, SlotClass.Large);
  assert.equal(r.capacity, 69632 - 160);
  assert.equal(r.refill(), 2, 'a quarter of the 8 large slots');
  assert.equal(r.target, 2);
  for (let i = 0; i < 2; i++) {
    assert.equal(pool.classOf(r.slots[i]), SlotClass.Large);
    assert.equal(r.offsets[i], pool.dataOffset(r.slots[i]));
  }
  assert.equal(r.fit(30_000), false, 'same class: nothing changes');
  assert.equal(r.fit(1420), true);
  assert.equal(pool.largeAvailable, 8);
  assert.equal(r.refill(), 6);
  r.releaseAll();
  pool.assertNoLeaks();
  // Without large slots the reserve stays small whatever it is told.
  const small = new SlotReserve(new BufferPool({ slotCount: 4 }), 2, false);
  assert.equal(small.fit(9000), false);
  assert.equal(small.slotClass, SlotClass.Small);
});
