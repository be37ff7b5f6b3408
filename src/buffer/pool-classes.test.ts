/**
 * The two slot classes: small slots first, large slots after them in the same slab, each
 * class with its own free stack, exhaustion counter and waiters; debug mode guards both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufferPool, MAX_SLAB_BYTES, POISON_SPAN, SlotClass } from './pool.js';
import { ErrorCode } from '../errors.js';

const isCode = (code: string) => (e: { code?: string }) => e.code === code;

function twoClassPool(debug = true): BufferPool {
  return new BufferPool({ slotCount: 4, slotSize: 2048, largeSlotCount: 3, largeSlotSize: 69632, headroom: 128, tailroom: 32, debug });
}

test('geometry: large slots follow the small ones in one slab; every accessor answers for both', () => {
  const pool = twoClassPool();
  assert.equal(pool.slab.length, 4 * 2048 + 3 * 69632);
  assert.equal(pool.totalSlots, 7);
  assert.equal(pool.dataCapacity, 2048 - 160, 'dataCapacity stays the small class’s');
  assert.equal(pool.largeDataCapacity, 69632 - 160);
  assert.equal(pool.dataCapacityOf(SlotClass.Large), 69632 - 160);
  assert.equal(pool.slotsOf(SlotClass.Large), 3);
  // Small slot 3 ends where large slot 4 begins; large slot 6 ends the slab.
  assert.equal(pool.slotBase(3), 3 * 2048);
  assert.equal(pool.slotEnd(3), 4 * 2048);
  assert.equal(pool.slotBase(4), 4 * 2048);
  assert.equal(pool.slotBase(5), 4 * 2048 + 69632);
  assert.equal(pool.slotEnd(6), pool.slab.length);
  assert.equal(pool.dataOffset(5), 4 * 2048 + 69632 + 128);
  assert.equal(pool.capacityOf(2), 2048 - 160);
  assert.equal(pool.capacityOf(5), 69632 - 160);
  assert.equal(pool.classOf(3), SlotClass.Small);
  assert.equal(pool.classOf(4), SlotClass.Large);
  for (let s = 0; s < pool.totalSlots; s++) {
    assert.equal(pool.dataOffset(s) + pool.capacityOf(s) + pool.tailroom, pool.slotEnd(s), `slot ${s} layout`);
  }
});

test('classes are taken and given back separately, last in first out, and counted apart when empty', () => {
  const pool = twoClassPool();
  const large = [pool.acquire(SlotClass.Large), pool.acquire(SlotClass.Large), pool.acquire(SlotClass.Large)];
  assert.deepEqual(large, [4, 5, 6], 'low large slots first');
  assert.equal(pool.acquire(SlotClass.Large), -1);
  assert.equal(pool.largeExhausted, 1);
  assert.equal(pool.exhausted, 0, 'small slots are not exhausted by the large class');
  assert.equal(pool.available, 4);
  assert.equal(pool.largeAvailable, 0);
  assert.equal(pool.inUse, 3);
  const small = pool.acquire();
  assert.equal(small, 0);
  pool.release(large[1]);
  assert.equal(pool.acquire(SlotClass.Large), large[1], 'LIFO within the class');
  pool.release(small);
  assert.equal(pool.acquire(SlotClass.Small), small);
  const out = new Int32Array(4);
  assert.equal(pool.acquireInto(out, 4, SlotClass.Large), 0);
  assert.equal(pool.largeExhausted, 2);
  for (const s of [...large, small]) pool.release(s);
  assert.equal(pool.acquireInto(out, 4, SlotClass.Large), 3, 'a short batch takes what there is');
  assert.equal(pool.largeExhausted, 3);
  assert.ok([...out.subarray(0, 3)].every((s) => pool.classOf(s) === SlotClass.Large));
  pool.releaseMany(out, 3);
  pool.assertNoLeaks();
  assert.equal(pool.acquired, pool.released);
});

test('a pool without large slots refuses the large class, counted, and is laid out as before', () => {
  const pool = new BufferPool({ slotCount: 4 });
  assert.equal(pool.largeSlotCount, 0);
  assert.equal(pool.largeDataCapacity, 0);
  assert.equal(pool.slab.length, 4 * 2048);
  assert.equal(pool.acquire(SlotClass.Large), -1);
  assert.equal(pool.largeExhausted, 1);
  assert.equal(pool.exhausted, 0);
});

test('waiters wait for their own class', () => {
  const pool = twoClassPool(false);
  const small = new Int32Array(4);
  const large = new Int32Array(3);
  pool.acquireInto(small, 4);
  pool.acquireInto(large, 3, SlotClass.Large);
  const calls: string[] = [];
  pool.whenAvailable(2, () => calls.push('large'), SlotClass.Large);
  pool.whenAvailable(1, () => calls.push('small'));
  pool.releaseMany(small, 4);
  assert.deepEqual(calls, ['small'], 'small releases do not wake a large-slot reader');
  pool.release(large[0]);
  assert.deepEqual(calls, ['small']);
  pool.release(large[1]);
  assert.deepEqual(calls, ['small', 'large']);
  // Registering again with the other class moves the waiter.
  const moved = (): void => {
    calls.push('moved');
  };
  pool.acquireInto(small, 4);
  pool.whenAvailable(1, moved, SlotClass.Small);
  pool.whenAvailable(4, moved, SlotClass.Large);
  assert.equal(pool.waiting, 1);
  pool.release(small[0]);
  assert.deepEqual(calls, ['small', 'large'], 'it no longer waits for a small slot');
  pool.release(large[2]);
  assert.equal(pool.waiting, 1, 'three large slots are free, four wanted');
  assert.equal(pool.cancelWhenAvailable(moved), true);
  pool.releaseMany(small.subarray(1), 3);
  pool.assertNoLeaks();
});

test('debug mode guards large slots: double release, a write after release, leaks', () => {
  const pool = twoClassPool();
  const s = pool.acquire(SlotClass.Large);
  pool.slab[pool.dataOffset(s) + 40_000] = 1;
  pool.release(s);
  assert.throws(() => pool.release(s), isCode(ErrorCode.PoolDoubleRelease));
  pool.slab[pool.dataOffset(s) + 7] = 42; // use after release, inside the poisoned span
  assert.throws(
    () => pool.acquire(SlotClass.Large),
    (e: { code?: string; message: string }) => e.code === ErrorCode.PoolUseAfterRelease && e.message.includes(`slot ${s} `) && /byte 135/.test(e.message),
  );
  const t = twoClassPool();
  const a = t.acquire(SlotClass.Large);
  const b = t.acquire();
  assert.throws(() => t.assertNoLeaks(), (e: { code?: string; message: string }) => e.code === ErrorCode.PoolLeak && e.message.includes(`${a} (acquisition`) && e.message.includes(`${b} (acquisition`));
  t.release(a);
  t.release(b);
  t.assertNoLeaks();
  assert.throws(() => t.release(7), isCode(ErrorCode.InvalidArgument), 'one past the last large slot');
  // The poisoned span of a large slot is POISON_SPAN; small slots are poisoned whole.
  const u = t.acquire(SlotClass.Large);
  t.release(u);
  t.slab[t.slotBase(u) + POISON_SPAN] = 1;
  assert.equal(t.acquire(SlotClass.Large), u);
  t.release(u);
});

test('impossible large-class geometry is refused with a clear error', () => {
  for (const opts of [
    { largeSlotCount: 1, largeSlotSize: 1024 }, // smaller than a small slot
    { largeSlotCount: 1, largeSlotSize: 69632 + 32 }, // not a multiple of 64
    { largeSlotCount: 1, largeSlotSize: (1 << 17) + 64 },
    { largeSlotCount: -1 },
    { slotCount: 1024, largeSlotCount: Math.ceil(MAX_SLAB_BYTES / 69632) }, // the slab cap counts both classes
  ]) {
    assert.throws(() => new BufferPool({ debug: false, ...opts }), isCode(ErrorCode.InvalidArgument), JSON.stringify(opts));
  }
});

test('property: any interleaving of both classes keeps each class to its own slots and the books balanced', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 12 })), { maxLength: 200 }), (ops) => {
      const pool = new BufferPool({ slotCount: 16, slotSize: 256, largeSlotCount: 8, largeSlotSize: 1024, headroom: 32, tailroom: 32, debug: true });
      const held: number[][] = [[], []];
      const tmp = new Int32Array(12);
      for (const [large, take, n] of ops) {
        const cls = large ? SlotClass.Large : SlotClass.Small;
        if (take) {
          const got = pool.acquireInto(tmp, n, cls);
          for (let i = 0; i < got; i++) {
            if (pool.classOf(tmp[i]) !== cls) return false;
            pool.slab.fill(cls + 1, pool.dataOffset(tmp[i]), pool.dataOffset(tmp[i]) + pool.capacityOf(tmp[i]));
            held[cls].push(tmp[i]);
          }
        } else {
          for (let i = 0; i < n && held[cls].length > 0; i++) pool.release(held[cls].pop() as number);
        }
        const all = [...held[0], ...held[1]];
        if (new Set(all).size !== all.length) return false;
        if (pool.available + held[0].length !== 16 || pool.largeAvailable + held[1].length !== 8) return false;
      }
      for (const s of [...held[0], ...held[1]]) pool.release(s);
      pool.assertNoLeaks();
      return true;
    }),
  );
});
