import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../buffer/pool.js';
import { DAEMON_HEADROOM, DAEMON_LARGE_SLOT_COUNT, DAEMON_SLOT_COUNT, DAEMON_TAILROOM, daemonPoolOptions, LARGE_SLOT_SIZE, SMALL_SLOT_SIZE } from './pool-size.js';

test('the daemon pool: 4096 small slots of 2 KiB, 256 large ones of 68 KiB, the large ones virtual until touched', () => {
  const before = process.memoryUsage().rss;
  const pool = new BufferPool(daemonPoolOptions({ debug: false }));
  const grown = process.memoryUsage().rss - before;
  assert.deepEqual([DAEMON_SLOT_COUNT, SMALL_SLOT_SIZE, DAEMON_LARGE_SLOT_COUNT, LARGE_SLOT_SIZE, DAEMON_HEADROOM, DAEMON_TAILROOM], [4096, 2048, 256, 69632, 128, 32]);
  assert.equal(pool.slotCount, 4096);
  assert.equal(pool.slotSize, 2048);
  assert.equal(pool.largeSlotCount, 256);
  assert.equal(pool.largeSlotSize, 69632);
  assert.ok(pool.dataCapacity >= 1420 + 32, 'a WireGuard datagram at MTU 1420 fits a small slot');
  assert.ok(pool.largeDataCapacity >= 65535, 'any MTU fits a large slot');
  assert.equal(pool.slab.length, 4096 * 2048 + 256 * 69632);
  assert.ok(grown < 8 * 1024 * 1024, `resident memory grew by ${(grown / 2 ** 20).toFixed(1)} MiB for a ${(pool.slab.length / 2 ** 20).toFixed(0)} MiB slab`);
  // The large slots start on a page boundary of the slab.
  assert.equal(pool.slotBase(pool.slotCount) % 4096, 0);
});
