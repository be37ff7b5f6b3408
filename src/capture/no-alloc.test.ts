/**
 * While a capture runs, what the data path calls for each packet (the hub's fan-out, the
 * session's filters and copy into the ring, the outer headers, the expression) allocates
 * nothing (test/support/no-alloc-scan.ts reads the source). Starting, draining and
 * ending a capture run off the data path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanFolder } from '../../test/support/no-alloc-scan.js';

test('a running capture allocates nothing per packet', () => {
  const r = scanFolder({
    folder: 'src/capture',
    classifyAll: true,
    files: [
      { file: 'capture-hub.ts', hot: ['packet', 'datagram', 'drop'], exempt: { label: 'a peer or VTEP is named once, then cached' } },
      { file: 'capture-session.ts', hot: ['wants', 'matches', 'copy'], exempt: { source: 'a Buffer over the pool\'s slab, made once per capture' } },
      { file: 'capture-ring.ts', hot: ['append', 'shift'] },
      { file: 'filter-expr.ts', hot: ['matchFilter', 'load'] },
      { file: 'outer-header.ts' },
      { file: 'attribution.ts' },
    ],
    notHot: {
      'capture-ops.ts': 'control: starts a capture and drains its ring to the socket',
      'capture-options.ts': 'control: checks a request once',
      'pcapng.ts': 'drain: writes blocks off the data path',
      'pcapng-read.ts': 'tests and tools: reads a file back',
    },
  });
  assert.deepEqual(r.stale, []);
  assert.deepEqual(r.problems, []);
  for (const f of ['capture-hub.ts offer', 'capture-session.ts copy', 'capture-ring.ts append', 'filter-expr.ts matchFilter', 'outer-header.ts writeOuterHeaders']) assert.ok(r.scanned.includes(f), `${f} was scanned`);
});
