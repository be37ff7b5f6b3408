/**
 * Two ferry datapaths for bench/datapath.ts, each with its own pool (the daemon's large
 * slots, debug off), a WgDevice mounted as its plane, a MemTun and one end of a link,
 * configured as each other's peer, on one injected clock the bench moves by hand.
 */
import { BufferPool } from '../../src/buffer/pool.js';
import { daemonPoolOptions } from '../../src/daemon/pool-size.js';
import { Datapath } from '../../src/datapath/datapath.js';
import { type Endpoint, ipv6ToBytes } from '../../src/io/endpoint.js';
import type { UdpPort } from '../../src/io/ports.js';
import { writeIPv4Header } from '../../src/packet/ipv4.js';
import { writeIPv6Header } from '../../src/packet/ipv6.js';
import { writeUDPHeader } from '../../src/packet/udp.js';
import { WgDevice } from '../../src/wireguard/device.js';
import { generatePrivateKey } from '../../src/wireguard/keys.js';
import type { Peer } from '../../src/wireguard/peer.js';
import { dgramStyleLink } from './dgram-style-link.js';
import { memLink } from './mem-link.js';
import { MemTun, type PacketTemplate } from './mem-tun.js';

export type LinkKind = 'mem' | 'dgram';

/** A port the bench loop drives by hand. */
export interface BenchUdp extends UdpPort {
  readonly pending: number;
  /** Slots held in the receive reserve. */
  readonly reserved: number;
  fire(): void;
}

export interface BenchSide {
  pool: BufferPool;
  dp: Datapath;
  dev: WgDevice;
  tun: MemTun;
  udp: BenchUdp;
  peer: Peer;
}

export interface BenchPair {
  a: BenchSide;
  b: BenchSide;
  /** With the 'sim' clock, what both datapaths and devices read (ms, an integer so reading it never allocates). */
  clock: { ms: number };
  /** Datagrams the link lost (ring full or too long): must stay 0. */
  linkLosses(): number;
  close(): void;
}

export interface PairOptions {
  link: LinkKind;
  /** Inner packet size in bytes (IP header included). */
  size: number;
  family: 4 | 6;
  mtu: number;
  slotCount: number;
  /**
   * 'sim': both sides read `clock.ms`, an integer the bench moves by hand (reading it never
   * allocates); 'real': the daemon's defaults (performance.now, Date.now).
   */
  clock: 'sim' | 'real';
}

const INNER = { a: { v4: 0x0a000001, v6: 'fd00::1' }, b: { v4: 0x0a000002, v6: 'fd00::2' } };
const UNDERLAY: { a: Endpoint; b: Endpoint } = {
  a: { family: 4, address: '192.0.2.1', port: 51820 },
  b: { family: 4, address: '192.0.2.2', port: 51821 },
};
/** Datagrams the link holds per direction: more than one wake sends (4 batches of 128 and a few). */
const RING_CAPACITY = 2048;

/** An IPv4 or IPv6 UDP packet of `size` bytes from src to dst; the sequence number goes first in the payload. */
export function packetTemplate(family: 4 | 6, size: number, from: 'a' | 'b'): PacketTemplate {
  const to = from === 'a' ? 'b' : 'a';
  const hl = family === 4 ? 20 : 40;
  if (!Number.isInteger(size) || size < hl + 12 || size > 65535) throw new RangeError(`packet size must be ${hl + 12}..65535 for IPv${family}, got ${size}`);
  const buf = new Uint8Array(size);
  for (let i = hl + 8; i < size; i++) buf[i] = i & 0xff;
  if (family === 4) {
    writeIPv4Header(buf, 0, size, 17, INNER[from].v4, INNER[to].v4);
  } else {
    const addrs = new Uint8Array(32);
    ipv6ToBytes(INNER[from].v6, addrs, 0);
    ipv6ToBytes(INNER[to].v6, addrs, 16);
    writeIPv6Header(buf, 0, size - 40, 17, addrs, 0, addrs, 16);
  }
  writeUDPHeader(buf, hl, 40000, 5201, size - hl);
  return { bytes: buf, seqOffset: hl + 8 };
}

export function buildPair(o: PairOptions): BenchPair {
  const clock = { ms: 1_000_000 };
  const now = o.clock === 'sim' ? (): number => clock.ms : undefined;
  const poolA = new BufferPool(daemonPoolOptions({ slotCount: o.slotCount, debug: false }));
  const poolB = new BufferPool(daemonPoolOptions({ slotCount: o.slotCount, debug: false }));
  // A ring entry covers the headroom and the largest datagram: header, MTU-padded packet, tag.
  const entryBytes = Math.min(poolA.slotSize, Math.ceil((poolA.headroom + o.mtu + 64) / 64) * 64);
  const mem = o.link === 'mem' ? memLink(poolA, UNDERLAY.a, poolB, UNDERLAY.b, RING_CAPACITY, entryBytes) : null;
  const dg = o.link === 'dgram' ? dgramStyleLink(poolA, UNDERLAY.a, poolB, UNDERLAY.b) : null;
  const tA = packetTemplate(o.family, o.size, 'a');
  const tB = packetTemplate(o.family, o.size, 'b');
  const side = (name: 'a' | 'b', pool: BufferPool, udp: BenchUdp, out: PacketTemplate, expected: PacketTemplate) => {
    const tun = new MemTun(`bench-${name}`, pool, out, expected);
    const dp = new Datapath({ pool, tun, mtu: o.mtu, now, tickIntervalMs: 0 });
    const dev = new WgDevice({ pool, mtu: o.mtu, now, random: () => 0.5 });
    dp.addPlane(dev, udp);
    dev.setPrivateKey(generatePrivateKey());
    return { pool, dp, dev, tun, udp };
  };
  const a0 = side('a', poolA, (mem?.a ?? dg?.a) as BenchUdp, tA, tB);
  const b0 = side('b', poolB, (mem?.b ?? dg?.b) as BenchUdp, tB, tA);
  const pa = a0.dev.addPeer(b0.dev.publicKey as Uint8Array);
  const pb = b0.dev.addPeer(a0.dev.publicKey as Uint8Array);
  a0.dev.addAllowedIp(pa, '10.0.0.2/32');
  a0.dev.addAllowedIp(pa, 'fd00::2/128');
  b0.dev.addAllowedIp(pb, '10.0.0.1/32');
  b0.dev.addAllowedIp(pb, 'fd00::1/128');
  a0.dev.setEndpoint(pa, UNDERLAY.b);
  b0.dev.setEndpoint(pb, UNDERLAY.a);
  const a: BenchSide = { ...a0, peer: pa };
  const b: BenchSide = { ...b0, peer: pb };
  a.dp.start();
  b.dp.start();
  return {
    a,
    b,
    clock,
    linkLosses: () => (mem === null ? 0 : mem.toA.overflow + mem.toA.oversize + mem.toB.overflow + mem.toB.oversize),
    close() {
      // The datapath closes its TUN and port, which give their reserves back.
      a.dp.close();
      b.dp.close();
    },
  };
}
