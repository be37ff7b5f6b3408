import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufferPool } from './pool.js';
import { PacketBatch } from './batch.js';
import { ENDPOINT_STRIDE } from './endpoint-record.js';
import { ErrorCode } from '../errors.js';

test('slot geometry: headroom, data capacity, offsets', () => {
  const pool = new BufferPool({ slotCount: 8, slotSize: 2048, headroom: 128, tailroom: 32 });
  assert.equal(pool.slab.length, 8 * 2048);
  assert.equal(pool.dataCapacity, 2048 - 128 - 32);
  assert.equal(pool.slotBase(3), 3 * 2048);
  assert.equal(pool.slotEnd(3), 4 * 2048);
  assert.equal(pool.dataOffset(3), 3 * 2048 + 128);
  assert.equal(pool.capacityOf(5), 2048 - 128 - 32);
});

test('rejects impossible geometry with a clear error', () => {
  for (const opts of [{ slotCount: 0 }, { slotSize: 100 }, { slotSize: 64, headroom: 32, tailroom: 32 }, { slotCount: 1 << 20, slotSize: 4096 }]) {
    assert.throws(() => new BufferPool(opts), (e: { code?: string }) => e.code === ErrorCode.InvalidArgument);
  }
});

test('exhaustion: acquire returns -1, counts it, and the pool never grows', () => {
  const pool = new BufferPool({ slotCount: 4, debug: true });
  const bytes = pool.slab.length;
  const held = [pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()];
  assert.ok(held.every((s) => s >= 0));
  assert.equal(new Set(held).size, 4);
  assert.equal(pool.acquire(), -1);
  assert.equal(pool.acquire(), -1);
  assert.equal(pool.exhausted, 2);
  assert.equal(pool.slab.length, bytes);
  pool.release(held[2]);
  assert.equal(pool.acquire(), held[2]);
});

test('acquireInto takes what is there and counts the shortfall once', () => {
  const pool = new BufferPool({ slotCount: 5 });
  const out = new Int32Array(8);
  assert.equal(pool.acquireInto(out, 3), 3);
  assert.equal(pool.exhausted, 0);
  assert.equal(pool.acquireInto(out.subarray(3), 5), 2);
  assert.equal(pool.exhausted, 1);
  assert.equal(new Set(out.subarray(0, 5)).size, 5);
  assert.equal(pool.available, 0);
  pool.releaseMany(out, 5);
  assert.equal(pool.available, 5);
});

test('backpressure: whenAvailable resumes a reader once slots return', () => {
  const pool = new BufferPool({ slotCount: 4 });
  const out = new Int32Array(4);
  pool.acquireInto(out, 4);
  let resumed = 0;
  pool.whenAvailable(2, () => resumed++);
  pool.release(out[0]);
  assert.equal(resumed, 0);
  pool.release(out[1]);
  assert.equal(resumed, 1);
  pool.release(out[2]);
  assert.equal(resumed, 1, 'a waiter fires once');
  let immediate = 0;
  pool.whenAvailable(1, () => immediate++);
  assert.equal(immediate, 1);
});

test('double release is detected', () => {
  const pool = new BufferPool({ slotCount: 4, debug: true });
  const s = pool.acquire();
  pool.release(s);
  assert.throws(() => pool.release(s), (e: { code?: string }) => e.code === ErrorCode.PoolDoubleRelease);
  assert.throws(() => pool.release(99), (e: { code?: string }) => e.code === ErrorCode.InvalidArgument);
  assert.throws(() => pool.release(-1), (e: { code?: string }) => e.code === ErrorCode.InvalidArgument);
});

test('double release is detected without debug mode too', () => {
  const pool = new BufferPool({ slotCount: 4, debug: false });
  const s = pool.acquire();
  pool.release(s);
  assert.throws(() => pool.release(s), (e: { code?: string }) => e.code === ErrorCode.PoolDoubleRelease);
});

test('debug mode: a write into a released slot is caught at the next acquire', () => {
  const pool = new BufferPool({ slotCount: 1, debug: true });
  const s = pool.acquire();
  pool.slab[pool.dataOffset(s)] = 1;
  pool.release(s);
  pool.slab[pool.dataOffset(s) + 7] = 42; // use after release
  assert.throws(() => pool.acquire(), (e: { code?: string; message: string }) => e.code === ErrorCode.PoolUseAfterRelease && /byte 135/.test(e.message));
});

test('debug mode: isInUse and leak detection name the held slots', () => {
  const pool = new BufferPool({ slotCount: 8, debug: true });
  const a = pool.acquire();
  const b = pool.acquire();
  pool.release(a);
  assert.equal(pool.isInUse(a), false);
  assert.equal(pool.isInUse(b), true);
  assert.throws(() => pool.assertNoLeaks(), (e: { code?: string; message: string }) => e.code === ErrorCode.PoolLeak && e.message.includes(String(b)));
  pool.release(b);
  pool.assertNoLeaks();
});

test('no slot is lost or duplicated over a million random acquire/release steps', () => {
  const slotCount = 256;
  const pool = new BufferPool({ slotCount, debug: false });
  const held: number[] = [];
  const owned = new Uint8Array(slotCount);
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let step = 0; step < 1_000_000; step++) {
    if (held.length === 0 || (rnd() < 0.5 && held.length < slotCount + 4)) {
      const s = pool.acquire();
      if (held.length === slotCount) {
        assert.equal(s, -1);
        continue;
      }
      if (owned[s] === 1) assert.fail(`slot ${s} handed out twice`);
      owned[s] = 1;
      held.push(s);
    } else {
      const k = Math.floor(rnd() * held.length);
      const s = held[k];
      held[k] = held[held.length - 1];
      held.pop();
      owned[s] = 0;
      pool.release(s);
    }
    if ((step & 0xffff) === 0) assert.equal(pool.available + held.length, slotCount);
  }
  for (const s of held) pool.release(s);
  assert.equal(pool.available, slotCount);
  pool.assertNoLeaks();
  assert.equal(pool.acquired, pool.released);
});

test('property: any interleaving of batch acquire and release keeps the books balanced', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 20 })), { maxLength: 200 }), (ops) => {
      const pool = new BufferPool({ slotCount: 32, debug: true });
      const held: number[] = [];
      const tmp = new Int32Array(20);
      for (const [take, n] of ops) {
        if (take) {
          const got = pool.acquireInto(tmp, n);
          for (let i = 0; i < got; i++) held.push(tmp[i]);
        } else {
          for (let i = 0; i < n && held.length > 0; i++) pool.release(held.pop() as number);
        }
        if (new Set(held).size !== held.length) return false;
        if (pool.available + held.length !== 32) return false;
      }
      for (const s of held) pool.release(s);
      pool.assertNoLeaks();
      return true;
    }),
  );
});

test('batch: push up to capacity, endpoints copied per entry', () => {
  const b = new PacketBatch(2);
  assert.equal(b.push(1, 100, 10), 0);
  assert.equal(b.push(2, 200, 20), 1);
  assert.equal(b.push(3, 300, 30), -1);
  assert.ok(b.full);
  const ep = new Uint8Array(ENDPOINT_STRIDE).fill(7);
  b.setEndpoint(1, ep);
  assert.equal(b.endpoints[ENDPOINT_STRIDE], 7);
  assert.equal(b.endpoints[ENDPOINT_STRIDE - 1], 0);
  assert.equal(b.endpoints[2 * ENDPOINT_STRIDE - 1], 7, 'the whole record, local part included');
  b.clear();
  assert.equal(b.count, 0);
  assert.throws(() => new PacketBatch(0), RangeError);
});
