/**
 * What one event-loop turn costs in garbage (docs/offloads.md, "GC and the event loop").
 * A UDP socket that holds one datagram it never reads is always readable, so its
 * readiness callback (native/src/poll.c, napi_make_callback) runs once per loop turn and
 * does nothing. Prints the bytes each turn leaves in the young generation (Node 20
 * allocates one empty 56-byte object per turn in its check phase, whatever the callback
 * does) and the collections per million turns. The latter depends on how far V8 has grown
 * the young generation by then (51 at the initial 1 MiB semi-space, ~20 after tsx's
 * startup has grown it); the bytes per turn do not.
 *   node --import tsx bench/lib/loop-turn-gc.ts [turns]     (default 2,000,000)
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { PacketBatch } from '../../src/buffer/batch.js';
import { BufferPool } from '../../src/buffer/pool.js';
import { encodeEndpoint, ENDPOINT_STRIDE } from '../../src/io/endpoint.js';
import { UdpSocket } from '../../src/io/udp.js';

const turns = Number(process.argv[2] ?? 2_000_000);
let gcs = 0;
const observer = new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
});
observer.observe({ entryTypes: ['gc'] });

const pool = new BufferPool({ slotCount: 4, debug: false });
const rx = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 1, gro: false });
const tx = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 1, gso: false, gro: false });
const one = new PacketBatch(1);
const slot = pool.acquire();
encodeEndpoint({ family: 4, address: '127.0.0.1', port: rx.localPort }, one.endpoints, one.push(slot, pool.dataOffset(slot), 1) * ENDPOINT_STRIDE);
tx.sendBatch(one);
pool.release(slot);
tx.close();

const newSpaceUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;
let n = 0;
let startGcs = 0;
let startTime = 0;
let probeUsed = 0;
const PROBE = 2000;
rx.start(() => {
  n++;
  if (n === 1000) {
    startGcs = gcs;
    startTime = performance.now();
  } else if (n === 2000) {
    probeUsed = newSpaceUsed(); // a short stretch without a collection in it, usually
  } else if (n === 2000 + PROBE) {
    const bytes = (newSpaceUsed() - probeUsed) / PROBE;
    if (bytes > 0) console.log(JSON.stringify({ bytesPerTurn: Math.round(bytes * 10) / 10 }));
  } else if (n === turns + 1000) {
    const ms = performance.now() - startTime;
    rx.close();
    setTimeout(() => {
      observer.disconnect();
      console.log(JSON.stringify({ turns, gcs: gcs - startGcs, gcPerMillionTurns: Math.round(((gcs - startGcs) * 1e7) / turns) / 10, usPerTurn: Math.round((ms * 1e6) / turns) / 1000 }));
    }, 20);
  }
});
