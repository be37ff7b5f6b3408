/**
 * Sender half of the backpressure test in udp-batch.test.ts, run inside a namespace whose
 * link is slowed by a tbf qdisc, with a small send buffer, so sendBatch meets EAGAIN:
 *   node --import tsx udp-backpressure.ts LOCAL_ADDRESS PEER_ADDRESS PEER_PORT TOTAL
 * Sends TOTAL sequence-numbered datagrams ("large" shape) in batches of 64. When entry k
 * of a batch comes back -EAGAIN, entries [0, k) were sent and [k, count) were not: it
 * keeps those, waits for whenWritable and sends them again first. Prints a JSON summary
 * (and an "error" field on any inconsistency in the per-entry results).
 */
import { constants } from 'node:os';
import { PacketBatch } from '../../../src/buffer/batch.js';
import { BufferPool } from '../../../src/buffer/pool.js';
import { ENDPOINT_STRIDE, encodeEndpoint } from '../../../src/io/endpoint.js';
import { UdpSocket } from '../../../src/io/udp.js';
import { writeSeq } from './udp-seq.js';

const EAGAIN = constants.errno.EAGAIN;
const [local, peer, portText, totalText] = process.argv.slice(2);
const total = Number(totalText);
const pool = new BufferPool({ slotCount: 256 });
const sock = UdpSocket.open({ pool, family: 4, address: local, sndbuf: 32 * 1024, reserve: 8 });
const dest = new Uint8Array(ENDPOINT_STRIDE);
encodeEndpoint({ family: 4, address: peer, port: Number(portText) }, dest);
const out = new PacketBatch(64);
let next = 0;
let blocked = 0;
let midBatch = 0;
let writableCalls = 0;
let emptyWakeups = 0;
let batches = 0;
const started = Date.now();

function fail(error: string): never {
  console.log(JSON.stringify({ error, next, blocked, sent: sock.sent, sendErrors: sock.sendErrors, lastSendError: sock.lastSendError }));
  process.exit(1);
}

/** Sends until the socket is full (then waits for writability) or everything went. */
function pump(fromWritable: boolean): void {
  for (;;) {
    while (!out.full && next < total) {
      const slot = pool.acquire();
      if (slot < 0) fail('pool empty');
      const off = pool.dataOffset(slot);
      out.setEndpoint(out.push(slot, off, writeSeq(pool.slab, off, next++, 'large')), dest);
    }
    if (out.count === 0) break;
    const count = out.count;
    const ok = sock.sendBatch(out);
    batches++;
    if (fromWritable && ok === 0) emptyWakeups++;
    fromWritable = false;
    const r = sock.sendResults;
    let k = 0;
    while (k < count && r[k] === 0) k++;
    for (let i = k; i < count; i++) if (r[i] !== -EAGAIN) fail(`entry ${i} of ${count}: result ${r[i]} after the first unsent entry ${k}`);
    if (ok !== k) fail(`sendBatch returned ${ok}, but the first ${k} entries were sent`);
    for (let i = 0; i < k; i++) pool.release(out.slots[i]);
    // Keep the unsent ones, in order, at the front of the batch.
    for (let i = k; i < count; i++) {
      out.slots[i - k] = out.slots[i];
      out.offsets[i - k] = out.offsets[i];
      out.lengths[i - k] = out.lengths[i];
      out.endpoints.copyWithin((i - k) * ENDPOINT_STRIDE, i * ENDPOINT_STRIDE, (i + 1) * ENDPOINT_STRIDE);
    }
    out.count = count - k;
    if (out.count > 0) {
      blocked++;
      if (k > 0) midBatch++;
      sock.whenWritable(onWritable);
      return;
    }
  }
  sock.close();
  pool.assertNoLeaks();
  const { sent, sendErrors, sendBlocked } = sock;
  console.log(JSON.stringify({ sent, sendErrors, sendBlocked, blocked, midBatch, writableCalls, emptyWakeups, batches, ms: Date.now() - started }));
  process.exit(0);
}

function onWritable(): void {
  writableCalls++;
  pump(true);
}

pump(false);
