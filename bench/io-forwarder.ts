/**
 * The io benchmark's native forwarder: whole batches, pool slots only, nothing allocated
 * per packet. Role a: TunDevice.readBatch -> UdpSocket.sendBatch (sendmmsg). Role b:
 * UdpSocket.recvBatch (recvmmsg) -> TunDevice.writeBatch. JavaScript runs once per batch.
 *   node --import tsx bench/io-forwarder.ts --role a|b --tun T --local L --port P --peer R --peer-port Q --batch N
 */
import { PacketBatch } from '../src/buffer/batch.js';
import { BufferPool } from '../src/buffer/pool.js';
import { encodeEndpoint, ENDPOINT_STRIDE } from '../src/io/endpoint.js';
import { TunDevice } from '../src/io/tun.js';
import { UdpSocket } from '../src/io/udp.js';
import { serveControl } from './lib/control.js';
import { forwarderOptions, UNDERLAY_BUFFER } from './lib/forwarder-options.js';
import { GcCounter } from './lib/gc-counter.js';
import { linkStats } from './lib/link-stats.js';

/** Batches handled per readiness callback before the event loop gets a turn. */
const MAX_ROUNDS = 64;

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
});
let callbacks = 0;
let batches = 0;

if (reading) {
  // TUN reads never touch the endpoints, so every entry keeps the peer set here once.
  const peer = new Uint8Array(ENDPOINT_STRIDE);
  encodeEndpoint({ family: 4, address: opt.peer, port: opt.peerPort }, peer);
  for (let i = 0; i < batch.capacity; i++) batch.setEndpoint(i, peer);
  tun.start(() => {
    callbacks++;
    for (let r = 0; r < MAX_ROUNDS; r++) {
      const n = tun.readBatch(batch);
      if (n === 0) break;
      batches++;
      udp.sendBatch(batch);
      pool.releaseMany(batch.slots, batch.count);
      batch.clear();
      if (n < batch.capacity) break; // the read stopped at EAGAIN: queue drained
    }
  });
} else {
  udp.start(() => {
    callbacks++;
    for (let r = 0; r < MAX_ROUNDS; r++) {
      const n = udp.recvBatch(batch);
      if (n === 0) break;
      batches++;
      tun.writeBatch(batch);
      pool.releaseMany(batch.slots, batch.count);
      batch.clear();
      if (n < batch.capacity) break;
    }
  });
}

serveControl(
  { role: opt.role, impl: 'native', batch: opt.batch },
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
    }),
    close: () => {
      gc.stop();
      udp.close();
      tun.close();
    },
  },
);
