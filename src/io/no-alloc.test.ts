/**
 * The ports' batch calls allocate nothing (test/support/no-alloc-scan.ts reads the source;
 * bench/datapath.ts runs SlotReserve under a GC count). Only what a batch read or write
 * reaches is hot here: opening, starting and closing ports is control path. Every source
 * file of the folder must be named (classifyAll), so a new one is classified when added.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanFolder } from '../../test/support/no-alloc-scan.js';

test('batched reads and writes allocate nothing', () => {
  const r = scanFolder({
    folder: 'src/io',
    files: [
      // whenWritable (a setImmediate per -EAGAIN) and the GRO ring's kick (one per readiness callback) are per event, not per packet.
      { file: 'udp.ts', hot: ['recvBatch', 'sendBatch', 'sendResults'] },
      { file: 'tun.ts', hot: ['readBatch', 'writeBatch'] },
      { file: 'reserve.ts', hot: ['refill', 'handOver'] },
      // A reader without slots starves its gate (backpressure); pause and resume follow the datapath's.
      { file: 'poll.ts', hot: ['starve', 'pause', 'resume', 'update', 'rearm'] },
      // Roaming compares every authenticated datagram's sender with the peer's endpoint.
      { file: 'endpoint.ts', hot: ['endpointEquals'] },
      { file: 'ports.ts' },
    ],
    notHot: {
      'native.ts': 'loads the addon once',
      'notify.ts': 'sd_notify, a few times in a daemon\'s life',
      'ifindex.ts': 'interface index lookups for configuration',
    },
    classifyAll: true,
  });
  assert.deepEqual(r.stale, []);
  assert.deepEqual(r.problems, []);
  for (const f of ['udp.ts recvBatch', 'udp.ts sendBatch', 'udp.ts liveFd', 'tun.ts readBatch', 'tun.ts writeBatch', 'reserve.ts refill', 'reserve.ts handOver', 'poll.ts starve', 'endpoint.ts endpointEquals']) {
    assert.ok(r.scanned.includes(f), `${f} was scanned`);
  }
});
