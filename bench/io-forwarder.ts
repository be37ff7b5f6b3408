/**
 * The io benchmark's native forwarder: whole batches, pool slots only, nothing allocated
 * per packet. Role a: TunDevice.readBatch -> UdpSocket.sendBatch (sendmmsg; with UDP GSO
 * the batch's equal-size packets leave as messages of up to 64). Role b:
 * UdpSocket.recvBatch (recvmmsg; with UDP GRO a coalesced message is split into one slot
 * per datagram) -> TunDevice.writeBatch. JavaScript runs once per batch.
 * With --linger-ms N the callback, once the queue is drained, waits up to N ms for more
 * (pollWait) instead of returning to the event loop, within LINGER_ROUNDS rounds and
 * LINGER_PACKETS packets.
 *   node --import tsx bench/io-forwarder.ts --role a|b --tun T --local L --port P --peer R --peer-port Q --batch N
 *        [--offload 1|0] [--linger-ms N]
 */
import { PacketBatch } from '../src/buffer/batch.js';
import { BufferPool } from '../src/buffer/pool.js';
import { encodeEndpoint, ENDPOINT_STRIDE } from '../src/io/endpoint.js';
import { loadNative, type NativeIo } from '../src/io/native.js';
import { TunDevice } from '../src/io/tun.js';
import { UdpSocket } from '../src/io/udp.js';
import { serveControl } from './lib/control.js';
import { forwarderOptions, UNDERLAY_BUFFER } from './lib/forwarder-options.js';
import { GcCounter } from './lib/gc-counter.js';
import { linkStats } from './lib/link-stats.js';

/** Batches handled per readiness callback before the event loop gets a turn. */
const MAX_ROUNDS = 64;
/**
 * With --linger-ms: a callback stays (drain, then wait up to lingerMs for more) for at
 * most LINGER_ROUNDS rounds and LINGER_PACKETS packets before the event loop gets a turn.
 * Counted, not timed: reading any clock from JavaScript boxes a number (16 bytes a call),
 * which is what lingering is meant to avoid. At 1 ms that bounds a stay to ~256 ms when
 * packets trickle in just under 1 ms apart, and to 65,536 packets (~0.3 s here) under load.
 */
const LINGER_ROUNDS = 256;
const LINGER_PACKETS = 65_536;

const opt = forwarderOptions(process.argv.slice(2));
const gc = new GcCounter();
const pool = new BufferPool({ slotCount: 4 * opt.batch + 64, debug: false });
const batch = new PacketBatch(opt.batch);
const reading = opt.role === 'a';
const tun = TunDevice.open(opt.tun, { pool, up: true, reserve: reading ? opt.batch : 1 });
const udp = UdpSocket.open({
  pool,
  family: 4,
  address: opt.local,
  port: opt.port,
  rcvbuf: UNDERLAY_BUFFER,
  sndbuf: UNDERLAY_BUFFER,
  reserve: reading ? 1 : opt.batch,
  gso: opt.offload,
  gro: opt.offload,
});
let callbacks = 0;
let batches = 0;
/** Times a lingering callback found more traffic instead of returning to the loop. */
let lingered = 0;
const lingerMs = opt.lingerMs;
const pollWait = (loadNative() as NativeIo & { pollWait(fd: number, events: number, timeoutMs: number): number }).pollWait;

/**
 * After the rounds: true to go on in this callback — lingering, within the slice, and
 * either datagrams wait in the GRO ring or more traffic arrives within lingerMs.
 */
function stay(fd: number, round: number, moved: number, pending: boolean): boolean {
  if (lingerMs === 0 || round >= LINGER_ROUNDS || moved >= LINGER_PACKETS) return false;
  if (!pending && pollWait(fd, 1, lingerMs) === 0) return false;
  lingered++;
  return true;
}

if (reading) {
  // TUN reads never touch the endpoints, so every entry keeps the peer set here once.
  const peer = new Uint8Array(ENDPOINT_STRIDE);
  encodeEndpoint({ family: 4, address: opt.peer, port: opt.peerPort }, peer);
  for (let i = 0; i < batch.capacity; i++) batch.setEndpoint(i, peer);
  tun.start(() => {
    callbacks++;
    let round = 0;
    let moved = 0;
    do {
      for (let r = 0; r < MAX_ROUNDS; r++) {
        const n = tun.readBatch(batch);
        if (n === 0) break;
        batches++;
        moved += n;
        udp.sendBatch(batch);
        pool.releaseMany(batch.slots, batch.count);
        batch.clear();
        if (n < batch.capacity) break; // the read stopped at EAGAIN: queue drained
      }
    } while (stay(tun.fd, ++round, moved, false));
  });
} else {
  udp.start(() => {
    callbacks++;
    let round = 0;
    let moved = 0;
    do {
      for (let r = 0; r < MAX_ROUNDS; r++) {
        const n = udp.recvBatch(batch);
        if (n === 0) break;
        batches++;
        moved += n;
        tun.writeBatch(batch);
        pool.releaseMany(batch.slots, batch.count);
        batch.clear();
        if (n < batch.capacity) break;
      }
    } while (stay(udp.fd, ++round, moved, udp.pending));
  });
}

serveControl(
  { role: opt.role, impl: 'native', batch: opt.batch, offload: opt.offload, lingerMs },
  {
    mark: () => ({
      in: reading ? tun.readPackets : udp.received,
      out: reading ? udp.sent : tun.writtenPackets,
      outErrors: reading ? udp.sendErrors : tun.writeErrors,
      lastError: reading ? udp.lastSendError : tun.lastWriteError,
      truncated: tun.truncated + udp.truncated,
      poolExhausted: pool.exhausted,
      callbacks,
      batches,
      gc: gc.read(),
      link: linkStats(tun.name),
      gso: udp.gso,
      gro: udp.gro,
      gsoMessages: udp.gsoMessages,
      gsoDatagrams: udp.gsoDatagrams,
      groMessages: udp.groMessages,
      groDatagrams: udp.groDatagrams,
      kicks: udp.ringKicks,
      lingered,
      // The UDP MIB counts a coalesced message once: what B's reads look like to the kernel.
      inMessages: udp.received - udp.groDatagrams + udp.groMessages,
    }),
    close: () => {
      gc.stop();
      udp.close();
      tun.close();
    },
  },
);
