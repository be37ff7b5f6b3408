/**
 * Sender half of udp-batch.test.ts, run inside a namespace:
 *   node --import tsx udp-sender.ts LOCAL_ADDRESS PEER_ADDRESS PEER_PORT TOTAL [SHAPE [OFFLOAD]]
 * SHAPE: varied (default), runs or large (udp-seq.ts); OFFLOAD 1 (default) or 0 turns
 * UDP GSO and GRO on or off. Sends TOTAL sequence-numbered datagrams with sendBatch in bursts, keeping at most
 * WINDOW unacknowledged (so a healthy link drops nothing: this checks batching, it is
 * not a stress test). Prints a JSON summary; exits 1 when acknowledgements stall.
 */
import { PacketBatch } from '../../../src/buffer/batch.js';
import { BufferPool } from '../../../src/buffer/pool.js';
import { ENDPOINT_STRIDE, encodeEndpoint } from '../../../src/io/endpoint.js';
import { UdpSocket } from '../../../src/io/udp.js';
import { isSeqShape, writeSeq, type SeqShape } from './udp-seq.js';

const WINDOW = 512;
const BURST = 64;
const [local, peer, portText, totalText, shapeText = 'varied', offloadText = '1'] = process.argv.slice(2);
if (!isSeqShape(shapeText)) throw new Error(`bad shape ${shapeText}`);
const shape: SeqShape = shapeText;
const total = Number(totalText);
const offload = offloadText === '1';
const pool = new BufferPool({ slotCount: 512, slotSize: 4096 }); // room for SEQ_MAX_SIZE (udp-seq.ts)
const sock = UdpSocket.open({ pool, family: 4, address: local, gso: offload, gro: offload });
const dest = new Uint8Array(ENDPOINT_STRIDE);
encodeEndpoint({ family: 4, address: peer, port: Number(portText) }, dest);
const out = new PacketBatch(BURST);
const acks = new PacketBatch(64);
let next = 0;
let acked = 0;
let bursts = 0;
const started = Date.now();

function fail(message: string): never {
  console.log(JSON.stringify({ error: message, next, acked, sendErrors: sock.sendErrors, lastSendError: sock.lastSendError }));
  process.exit(1);
}

function pump(): void {
  while (next < total && next - acked < WINDOW) {
    const n = Math.min(BURST, total - next, WINDOW - (next - acked));
    for (let i = 0; i < n; i++) {
      const slot = pool.acquire();
      const off = pool.dataOffset(slot);
      const k = out.push(slot, off, writeSeq(pool.slab, off, next + i, shape));
      out.setEndpoint(k, dest);
    }
    const sent = sock.sendBatch(out);
    pool.releaseMany(out.slots, out.count);
    out.clear();
    if (sent !== n) fail(`sendBatch sent ${sent} of ${n}`);
    next += n;
    bursts++;
  }
}

let lastProgress = Date.now();
const watchdog = setInterval(() => {
  if (Date.now() - lastProgress > 3000) fail('acknowledgements stalled');
}, 500);

sock.start(() => {
  sock.recvBatch(acks);
  for (let i = 0; i < acks.count; i++) {
    const a = pool.slab.readUInt32BE(acks.offsets[i]);
    if (a > acked) {
      acked = a;
      lastProgress = Date.now();
    }
  }
  pool.releaseMany(acks.slots, acks.count);
  acks.clear();
  if (acked >= total) {
    clearInterval(watchdog);
    sock.close();
    pool.assertNoLeaks();
    const { sent, gso, gsoMessages, gsoDatagrams, gsoFallbacks, gsoSizeLimit, gsoOversize } = sock;
    console.log(JSON.stringify({ sent, bursts, ms: Date.now() - started, gso, gsoMessages, gsoDatagrams, gsoFallbacks, gsoSizeLimit, gsoOversize }));
    process.exit(0);
  }
  pump();
});
pump();
