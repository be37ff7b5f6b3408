/**
 * ferry's half of udp-sticky.test.ts, run inside a namespace: a dual-stack UdpSocket on
 * the wildcard address that answers every datagram with the endpoint record it came with
 * (so the reply leaves from the local address the datagram arrived on).
 *   node --import tsx udp-echo.ts
 * Prints {"port":N}, then one JSON line per datagram: its payload, remote and local part.
 * Payload "hold" also keeps a copy of its record; payload "replay" is not echoed: the
 * reply "replayed" goes to the held record instead (the peer's memory, as a tunnel keeps
 * it), and the line tells whether the kernel refused its source (sourceResets) and what
 * the held record's local part is after the send.
 */
import { PacketBatch } from '../../../src/buffer/batch.js';
import { BufferPool } from '../../../src/buffer/pool.js';
import { ENDPOINT_STRIDE, copyEndpoint, decodeEndpoint, decodeEndpointLocal } from '../../../src/io/endpoint.js';
import { UdpSocket } from '../../../src/io/udp.js';

const pool = new BufferPool({ slotCount: 64 });
const sock = UdpSocket.open({ pool, family: 6, reserve: 16 });
const inb = new PacketBatch(16);
const out = new PacketBatch(1);
const held = new Uint8Array(ENDPOINT_STRIDE);
let holding = false;

sock.start(() => {
  sock.recvBatch(inb);
  for (let i = 0; i < inb.count; i++) {
    const off = inb.offsets[i];
    const payload = pool.slab.toString('utf8', off, off + inb.lengths[i]);
    const ep = i * ENDPOINT_STRIDE;
    const line: Record<string, unknown> = { payload, remote: decodeEndpoint(inb.endpoints, ep), local: decodeEndpointLocal(inb.endpoints, ep) };
    if (payload === 'hold') {
      copyEndpoint(inb.endpoints, ep, held, 0);
      holding = true;
    }
    const slot = pool.acquire();
    const replyOff = pool.dataOffset(slot);
    const reply = payload === 'replay' ? 'replayed' : payload;
    const len = pool.slab.write(reply, replyOff);
    out.push(slot, replyOff, len);
    if (payload === 'replay' && holding) out.setEndpoint(0, held, 0);
    else out.setEndpoint(0, inb.endpoints, ep);
    const resetsBefore = sock.sourceResets;
    line.sent = sock.sendBatch(out);
    line.result = sock.sendResults[0];
    line.sourceResets = sock.sourceResets - resetsBefore;
    if (payload === 'replay' && holding) {
      copyEndpoint(out.endpoints, 0, held, 0); // the send may have cleared its local part
      line.heldLocal = decodeEndpointLocal(held, 0);
    }
    pool.release(slot);
    out.clear();
    console.log(JSON.stringify(line));
  }
  pool.releaseMany(inb.slots, inb.count);
  inb.clear();
});
console.log(JSON.stringify({ port: sock.localPort }));
