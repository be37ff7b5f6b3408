/**
 * Traffic source for the io benchmark, run inside ns A: sends `payload`-byte UDP
 * datagrams from --source to --sink:--port as fast as one core allows, with sendmmsg
 * batches of prepared pool slots (nothing is built per datagram), so the kernel turns
 * them into IP packets queued on TUN-A. Answers "mark" with how many it sent.
 *   node --import tsx bench/lib/udp-blaster.ts --source A --sink B --port P --payload 64
 */
import { PacketBatch } from '../../src/buffer/batch.js';
import { BufferPool } from '../../src/buffer/pool.js';
import { encodeEndpoint, ENDPOINT_STRIDE } from '../../src/io/endpoint.js';
import { UdpSocket } from '../../src/io/udp.js';
import { nowNs, parseArgs, serveControl } from './control.js';

const BATCH = 256;
/** Time spent sending before the loop yields to stdin (the control channel). */
const SLICE_NS = 2_000_000;

const args = parseArgs(process.argv.slice(2), ['source', 'sink', 'port', 'payload']);
const payload = Number(args.payload);
const pool = new BufferPool({ slotCount: BATCH + 8, debug: false });
// Plain sendmmsg, one skb per datagram (no GSO): the source stays what it was before the
// forwarders gained offloads, so results compare across versions.
const sock = UdpSocket.open({ pool, family: 4, address: args.source, sndbuf: 4 << 20, reserve: 1, gso: false, gro: false });
const dest = new Uint8Array(ENDPOINT_STRIDE);
encodeEndpoint({ family: 4, address: args.sink, port: Number(args.port) }, dest);
const batch = new PacketBatch(BATCH);
for (let i = 0; i < BATCH; i++) {
  const slot = pool.acquire();
  const off = pool.dataOffset(slot);
  pool.slab.fill(0x5a, off, off + payload);
  batch.setEndpoint(batch.push(slot, off, payload), dest);
}

let running = true;
let calls = 0;
function blast(): void {
  if (!running) return;
  const until = nowNs() + SLICE_NS;
  do {
    sock.sendBatch(batch);
    calls++;
  } while (nowNs() < until);
  setImmediate(blast);
}

serveControl(
  { role: 'source', payload, batch: BATCH },
  {
    mark: () => ({ sent: sock.sent, sendErrors: sock.sendErrors, lastSendError: sock.lastSendError, calls }),
    close: () => {
      running = false;
      pool.releaseMany(batch.slots, batch.count);
      sock.close();
    },
  },
);
blast();
