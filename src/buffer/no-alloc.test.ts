/**
 * Taking and giving back slots, of either class, allocates nothing: test/support/no-alloc-scan.ts
 * reads the source, the last test counts collections while millions of slots go round (as
 * bench/datapath.ts does for the whole datapath).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanFolder } from '../../test/support/no-alloc-scan.js';
import { collectionsDuring } from '../../test/support/gc-count.js';
import { BufferPool, SlotClass } from './pool.js';

test('acquiring, releasing and batching slots allocates nothing', () => {
  const r = scanFolder({
    folder: 'src/buffer',
    files: [
      {
        file: 'pool.ts',
        // whenAvailable runs when a reader finds no slot (backpressure). Both slot classes go through
        // the same functions. assertNoLeaks and the constructor are not per packet.
        hot: [
          'acquire',
          'acquireInto',
          'release',
          'releaseMany',
          'slotBase',
          'slotEnd',
          'dataOffset',
          'capacityOf',
          'classOf',
          'dataCapacityOf',
          'slotsOf',
          'isInUse',
          'available',
          'largeAvailable',
          'inUse',
          'totalSlots',
          'whenAvailable',
          'cancelWhenAvailable',
        ],
      },
      // The waiters, whole: add() when a reader starves, wake() from release() while one waits.
      { file: 'slot-waiters.ts' },
      { file: 'batch.ts' },
      { file: 'endpoint-record.ts' },
    ],
    classifyAll: true,
  });
  assert.deepEqual(r.stale, []);
  assert.deepEqual(r.problems, []);
  for (const f of ['pool.ts acquire', 'pool.ts acquireInto', 'pool.ts release', 'pool.ts countExhausted', 'pool.ts whenAvailable', 'pool.ts debugOnAcquire', 'pool.ts poisonSlot', 'slot-waiters.ts wake', 'slot-waiters.ts add', 'slot-waiters.ts takeReady', 'batch.ts push', 'batch.ts setEndpoint']) {
    assert.ok(r.scanned.includes(f), `${f} was scanned`);
  }
});

test('at run time too: acquiring and releasing small and large slots, with a large-slot reader waiting, makes no collection', async () => {
  const pool = new BufferPool({ slotCount: 64, largeSlotCount: 16, largeSlotSize: 4096, debug: false });
  const small = new Int32Array(64);
  const large = new Int32Array(16);
  let woken = 0;
  const onLarge = (): void => {
    woken++;
  };
  const cycle = (): void => {
    pool.acquireInto(small, 64, SlotClass.Small);
    pool.acquireInto(large, 16, SlotClass.Large);
    pool.whenAvailable(8, onLarge, SlotClass.Large);
    pool.releaseMany(small, 64);
    for (let i = 0; i < 16; i++) pool.release(large[i]);
    const s = pool.acquire(SlotClass.Large);
    pool.release(s);
  };
  for (let i = 0; i < 1000; i++) cycle(); // warm up (JIT)
  woken = 0;
  const gcs = await collectionsDuring(() => {
    for (let i = 0; i < 50_000; i++) cycle();
  });
  assert.equal(woken, 50_000, 'the large-slot waiter fired once per cycle, not on small releases');
  assert.equal(gcs, 0, `collections over 4.05 M acquisitions and releases: ${gcs}`);
  pool.assertNoLeaks();
});
