/**
 * Receiver half of udp-batch.test.ts, run inside a namespace:
 *   node --import tsx udp-receiver.ts ADDRESS TOTAL [SHAPE [OFFLOAD]]   (see udp-sender.ts)
 * Prints {"port":N}, then receives TOTAL datagrams with recvBatch, checking each one's
 * sequence number and payload, acknowledging the next expected sequence number after
 * every batch (to the sender's endpoint as received), and prints the tallies as JSON.
 */
import { PacketBatch } from '../../../src/buffer/batch.js';
import { BufferPool } from '../../../src/buffer/pool.js';
import { ENDPOINT_STRIDE } from '../../../src/io/endpoint.js';
import { UdpSocket } from '../../../src/io/udp.js';
import { checkSeq, isSeqShape, readSeq, type SeqShape } from './udp-seq.js';

const [address, totalText, shapeText = 'varied', offloadText = '1'] = process.argv.slice(2);
if (!isSeqShape(shapeText)) throw new Error(`bad shape ${shapeText}`);
const shape: SeqShape = shapeText;
const total = Number(totalText);
const offload = offloadText === '1';
const pool = new BufferPool({ slotCount: 1024, slotSize: 4096 }); // room for SEQ_MAX_SIZE (udp-seq.ts)
const sock = UdpSocket.open({ pool, family: 4, address, rcvbuf: 8 << 20, gso: offload, gro: offload });
const batch = new PacketBatch(256);
const ack = new PacketBatch(1);
const ackSlot = pool.acquire();
ack.push(ackSlot, pool.dataOffset(ackSlot), 4);

let expected = 0;
let received = 0;
let outOfOrder = 0;
let badPayload = 0;
let batches = 0;

function finish(): void {
  sock.close();
  pool.release(ackSlot);
  pool.assertNoLeaks();
  const { truncated, gro, groMessages, groDatagrams } = sock;
  console.log(JSON.stringify({ received, outOfOrder, badPayload, truncated, batches, sendErrors: sock.sendErrors, gro, groMessages, groDatagrams }));
  process.exit(0);
}

sock.start(() => {
  const n = sock.recvBatch(batch);
  if (n === 0) return;
  batches++;
  for (let i = 0; i < batch.count; i++) {
    const off = batch.offsets[i];
    const seq = readSeq(pool.slab, off);
    if (!checkSeq(pool.slab, off, batch.lengths[i], shape)) badPayload++;
    if (seq !== expected) outOfOrder++;
    expected = seq + 1;
    received++;
  }
  // Acknowledge to whoever sent the last datagram of the batch.
  ack.setEndpoint(0, batch.endpoints, (batch.count - 1) * ENDPOINT_STRIDE);
  pool.releaseMany(batch.slots, batch.count);
  batch.clear();
  const ackOff = ack.offsets[0];
  pool.slab.writeUInt32BE(expected, ackOff);
  sock.sendBatch(ack);
  if (received >= total || expected >= total) finish();
});
console.log(JSON.stringify({ port: sock.localPort }));
