/**
 * A handshake-initiation flooder (issue 14's attacker), run inside its own namespace:
 *   node --import tsx test/support/handshake-flooder.ts --key RESPONDER_PUBLIC_BASE64
 *     --target ADDR --port P --sources A1,A2,… [--seconds S] [--rate PPS] [--count M]
 * Anyone who knows a responder's public key can make initiations with a valid mac1; with a
 * random ephemeral key and random sealed fields each one costs the responder a Diffie-Hellman
 * before it fails, unless the responder answers with a cookie reply first. M such messages
 * are made once with ferry's own message and mac1 code, then sent round-robin from one
 * socket per source address with sendmmsg batches (ferry's native UdpSocket, no GSO: one
 * datagram per packet, as from a wire), nothing built per packet. Node and not a C or
 * Python sender: the per-packet work is the kernel's either way (sendmmsg of prepared
 * slots), and the test and the bench need no compiler. The sockets are never read: cookie
 * replies fill their small receive buffers and are dropped there, with no ICMP sent back.
 * Prints {"ready":true} once the sockets are open, then floods for S seconds (or until
 * SIGTERM) at PPS per second (0: as fast as it can) and ends with
 * {"sent":N,"seconds":S,"rate":R,"blocked":B,"errors":E}.
 */
import { randomFillSync } from 'node:crypto';
import { PacketBatch } from '../../src/buffer/batch.js';
import { BufferPool } from '../../src/buffer/pool.js';
import { encodeEndpoint, ENDPOINT_STRIDE } from '../../src/io/endpoint.js';
import { UdpSocket } from '../../src/io/udp.js';
import { MESSAGE_INITIATION_SIZE } from '../../src/wireguard/constants.js';
import { deriveMacKeys, writeMac1 } from '../../src/wireguard/cookie.js';
import { parseKeyBase64 } from '../../src/wireguard/keys.js';
import { readU32LE, writeInitiationHeader } from '../../src/wireguard/messages.js';

const BATCH = 256;
/** Time spent sending before the loop yields (timers, SIGTERM). */
const SLICE_MS = 2;

function option(name: string, dflt?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : dflt;
  if (v === undefined) throw new Error(`handshake-flooder: --${name} is required`);
  return v;
}

const responderPublic = parseKeyBase64(option('key'), 'responder public key');
const target = option('target');
const port = Number(option('port'));
const sources = option('sources').split(',');
const seconds = Number(option('seconds', '3600'));
const rate = Number(option('rate', '0'));
const count = Math.ceil(Number(option('count', '1024')) / BATCH) * BATCH;

const pool = new BufferPool({ slotCount: count + sources.length + 8, debug: false });
const { mac1Key } = deriveMacKeys(responderPublic);
const dest = new Uint8Array(ENDPOINT_STRIDE);
encodeEndpoint({ family: 4, address: target, port }, dest);
const batches: PacketBatch[] = [];
for (let b = 0; b < count / BATCH; b++) {
  const batch = new PacketBatch(BATCH);
  for (let i = 0; i < BATCH; i++) {
    const slot = pool.acquire();
    const off = pool.dataOffset(slot);
    const msg = pool.slab.subarray(off, off + MESSAGE_INITIATION_SIZE);
    // Random sender index, ephemeral key, sealed static and timestamp; mac2 zero (no cookie).
    randomFillSync(msg);
    writeInitiationHeader(pool.slab, off, readU32LE(msg, 4));
    msg.fill(0, MESSAGE_INITIATION_SIZE - 16);
    writeMac1(mac1Key, pool.slab, off, MESSAGE_INITIATION_SIZE);
    batch.setEndpoint(batch.push(slot, off, MESSAGE_INITIATION_SIZE), dest);
  }
  batches.push(batch);
}
const sockets = sources.map((address) => UdpSocket.open({ pool, family: 4, address, rcvbuf: 4096, sndbuf: 1 << 20, reserve: 1, gso: false, gro: false }));
console.log(JSON.stringify({ ready: true, messages: count, sources: sources.length }));

const start = performance.now();
let next = 0;
let running = true;

function sent(): number {
  let n = 0;
  for (const s of sockets) n += s.sent;
  return n;
}

function finish(): void {
  if (!running) return;
  running = false;
  const elapsed = (performance.now() - start) / 1000;
  const total = sent();
  let blocked = 0;
  let errors = 0;
  for (const s of sockets) {
    blocked += s.sendBlocked;
    errors += s.sendErrors;
    s.close();
  }
  console.log(JSON.stringify({ sent: total, seconds: Math.round(elapsed * 1000) / 1000, rate: Math.round(total / elapsed), blocked, errors }));
  process.exit(0);
}

function flood(): void {
  if (!running) return;
  const now = performance.now();
  if (now - start >= seconds * 1000) return finish();
  const sliceEnd = now + SLICE_MS;
  // Paced: stop once the total is where `rate` says it should be by now.
  const due = rate > 0 ? ((now - start) / 1000) * rate : Infinity;
  let total = rate > 0 ? sent() : 0;
  while (performance.now() < sliceEnd && total < due) {
    const i = next++;
    const sock = sockets[i % sockets.length];
    total += sock.sendBatch(batches[Math.floor(i / sockets.length) % batches.length]);
  }
  if (total < due) setImmediate(flood);
  else setTimeout(flood, 1);
}

process.once('SIGTERM', finish);
flood();
