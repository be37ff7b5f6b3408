/**
 * Taking and giving back slots allocates nothing (test/support/no-alloc-scan.ts reads the
 * source; bench/datapath.ts counts collections while millions of slots go round).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanFolder } from '../../test/support/no-alloc-scan.js';

test('acquiring, releasing and batching slots allocates nothing', () => {
  const r = scanFolder({
    folder: 'src/buffer',
    files: [
      {
        file: 'pool.ts',
        // whenAvailable runs when a reader finds no slot (backpressure); wake() from release() while one waits.
        // assertNoLeaks and the constructor are not per packet.
        hot: ['acquire', 'acquireInto', 'release', 'releaseMany', 'base', 'dataOffset', 'isInUse', 'available', 'inUse', 'whenAvailable'],
      },
      { file: 'batch.ts' },
      { file: 'endpoint-record.ts' },
    ],
    classifyAll: true,
  });
  assert.deepEqual(r.stale, []);
  assert.deepEqual(r.problems, []);
  for (const f of ['pool.ts acquire', 'pool.ts acquireInto', 'pool.ts release', 'pool.ts wake', 'pool.ts whenAvailable', 'pool.ts debugOnAcquire', 'pool.ts releaseError', 'batch.ts push', 'batch.ts setEndpoint']) {
    assert.ok(r.scanned.includes(f), `${f} was scanned`);
  }
});
