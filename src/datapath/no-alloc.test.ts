/**
 * The datapath's per-packet and per-wake code allocates nothing (test/support/no-alloc-scan.ts
 * reads the source; bench/datapath.ts counts collections at run time). Every file of the
 * folder is scanned whole unless named here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanFolder } from '../../test/support/no-alloc-scan.js';

test('the datapath allocates nothing per packet or per wake', () => {
  const r = scanFolder({
    folder: 'src/datapath',
    files: [
      {
        file: 'datapath.ts',
        exempt: {
          close: 'control: closes the interface',
          schedulePoll: 'one setImmediate per loop turn, only while deferred plane work (a handshake flood) outlasts the budget',
        },
      },
      {
        file: 'plane-mounts.ts',
        exempt: {
          planes: 'control: lists the planes for status and control ops',
          plane: 'control: finds a plane by name for a control op',
          addPlane: 'control: mounts a plane',
          removePlane: 'control: unmounts a plane (its config section went away)',
          setL2Plane: 'control: names the plane a TAP\'s frames go to',
        },
      },
      { file: 'tun-writer.ts' },
      { file: 'lane.ts', exempt: { releaseAll: 'control: gives every slot back when the datapath closes' } },
      { file: 'l2-path.ts', exempt: { attach: 'control: mounts the L2 plane (refused with a message when there is one)' } },
      // Routes change with configuration; packets only look them up.
      { file: 'route-table.ts', hot: ['lookupV4', 'lookupV6'] },
    ],
  });
  assert.deepEqual(r.stale, []);
  assert.deepEqual(r.problems, []);
  for (const f of ['datapath.ts readTun', 'datapath.ts readLane', 'datapath.ts routeTunBatch', 'datapath.ts forward', 'datapath.ts flushTun', 'tun-writer.ts flush', 'datapath.ts tick', 'lane.ts sendOnce', 'l2-path.ts forward', 'l2-path.ts accepts', 'out-batch.ts add', 'route-table.ts lookupV4', 'too-big.ts replyTooBig']) {
    assert.ok(r.scanned.includes(f), `${f} was scanned`);
  }
  assert.ok(r.scanned.length >= 45, `scanned ${r.scanned.length} functions`);
});
