/**
 * The io benchmark's baseline: what a plain Node forwarder costs. Node has no TUN API,
 * so the TUN side uses the native TunDevice as the fast path does; the UDP leg is
 * node:dgram with one Buffer per datagram. Role a: TUN readBatch, then per packet a
 * Buffer copy and a socket.send to the peer's address and port (like the native path,
 * which addresses every datagram; --connected 1 connects the socket instead, sparing
 * Node's per-send address handling and the kernel's per-send route lookup). Role b: per
 * 'message' event, copy the datagram into a pool slot and write it into the TUN.
 *   node --import tsx bench/io-dgram-forwarder.ts --role a|b --tun T --local L --port P --peer R --peer-port Q --batch N [--connected 1]
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { PacketBatch } from '../src/buffer/batch.js';
import { BufferPool } from '../src/buffer/pool.js';
import { TunDevice } from '../src/io/tun.js';
import { serveControl } from './lib/control.js';
import { forwarderOptions, UNDERLAY_BUFFER } from './lib/forwarder-options.js';
import { GcCounter } from './lib/gc-counter.js';
import { linkStats } from './lib/link-stats.js';

const MAX_ROUNDS = 64;

const opt = forwarderOptions(process.argv.slice(2));
const connected = opt.connected;
const gc = new GcCounter();
const pool = new BufferPool({ slotCount: 4 * opt.batch + 64, debug: false });
const reading = opt.role === 'a';
const tun = TunDevice.open(opt.tun, { pool, up: true, reserve: reading ? opt.batch : 1 });
const sock = createSocket('udp4');
sock.bind(opt.port, opt.local);
await once(sock, 'listening');
sock.setRecvBufferSize(UNDERLAY_BUFFER);
sock.setSendBufferSize(UNDERLAY_BUFFER);
let sent = 0;
let sendErrors = 0;
let received = 0;
let callbacks = 0;
sock.on('error', () => sendErrors++);

if (reading) {
  if (connected) {
    sock.connect(opt.peerPort, opt.peer);
    await once(sock, 'connect');
  }
  const { peer, peerPort } = opt;
  const batch = new PacketBatch(opt.batch);
  const slab = pool.slab;
  tun.start(() => {
    callbacks++;
    for (let r = 0; r < MAX_ROUNDS; r++) {
      const n = tun.readBatch(batch);
      if (n === 0) break;
      for (let i = 0; i < n; i++) {
        const off = batch.offsets[i];
        const datagram = Buffer.from(slab.subarray(off, off + batch.lengths[i]));
        if (connected) sock.send(datagram);
        else sock.send(datagram, peerPort, peer);
        sent++;
      }
      pool.releaseMany(batch.slots, batch.count);
      batch.clear();
      if (n < batch.capacity) break;
    }
  });
} else {
  const one = new PacketBatch(1);
  sock.on('message', (msg: Buffer) => {
    received++;
    const slot = pool.acquire();
    if (slot < 0) return;
    const off = pool.dataOffset(slot);
    msg.copy(pool.slab, off);
    one.push(slot, off, msg.length);
    tun.writeBatch(one);
    pool.release(slot);
    one.clear();
  });
}

serveControl(
  { role: opt.role, impl: 'dgram', batch: reading ? opt.batch : 1, connected },
  {
    mark: () => ({
      in: reading ? tun.readPackets : received,
      out: reading ? sent : tun.writtenPackets,
      outErrors: reading ? sendErrors : tun.writeErrors,
      lastError: reading ? 0 : tun.lastWriteError,
      truncated: tun.truncated,
      poolExhausted: pool.exhausted,
      // Only the TUN reader has readiness callbacks; the receiver gets one event per datagram.
      ...(reading ? { callbacks } : {}),
      gc: gc.read(),
      link: linkStats(tun.name),
    }),
    close: () => {
      gc.stop();
      sock.close();
      tun.close();
    },
  },
);
