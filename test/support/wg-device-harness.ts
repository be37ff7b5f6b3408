/**
 * Shared fixture for the WireGuard device tests.
 * Two WgDevices A and B, each mounted on its own Datapath with a FakeTun, a FakeUdp on one
 * FakeNetwork and its own pool, a shared
 * FakeClock for both clocks, seeded jitter, and helpers to build inner packets and to let
 * the in-memory ports drain.
 */
import assert from 'node:assert/strict';
import { BufferPool } from '../../src/buffer/pool.js';
import { ipv6ToBytes, type Endpoint } from '../../src/io/endpoint.js';
import { writeIPv4Header } from '../../src/packet/ipv4.js';
import { writeIPv6Header } from '../../src/packet/ipv6.js';
import { writeUDPHeader } from '../../src/packet/udp.js';
import { FakeClock } from '../fakes/fake-clock.js';
import { FakeTun } from '../fakes/fake-tun.js';
import { FakeNetwork, FakeUdp, type Datagram } from '../fakes/fake-udp.js';
import { type BatchAead, nativeBatchAead } from '../../src/wireguard/batch-aead.js';
import { generatePrivateKey } from '../../src/wireguard/keys.js';
import { MessageType } from '../../src/wireguard/constants.js';
import { WgDevice, type WgDeviceOptions } from '../../src/wireguard/device.js';
import { Datapath } from '../../src/datapath/datapath.js';
import type { DatapathOptions } from '../../src/datapath/datapath-options.js';
import type { Peer } from '../../src/wireguard/peer.js';
import { seededRandom } from './seeded-random.js';

export interface Side {
  name: string;
  dp: Datapath;
  dev: WgDevice;
  tun: FakeTun;
  udp: FakeUdp;
  pool: BufferPool;
  /** The other side, as this side's peer. */
  peer: Peer;
  local: Endpoint;
  v4: string;
  v6: string;
}

export interface Pair {
  a: Side;
  b: Side;
  net: FakeNetwork;
  clock: FakeClock;
  close(): void;
}

export interface PairOptions {
  aeadA?: BatchAead;
  aeadB?: BatchAead;
  /** Extra device options for A / B. */
  optsA?: Partial<WgDeviceOptions>;
  optsB?: Partial<WgDeviceOptions>;
  /** Extra datapath options for both sides. */
  datapath?: Partial<DatapathOptions>;
  /** Give B an endpoint for A (default true). */
  bKnowsA?: boolean;
  slotCount?: number;
  /** Start both devices (default true). */
  start?: boolean;
}

let portCounter = 40000;

export function makePair(options: PairOptions = {}): Pair {
  const net = new FakeNetwork();
  net.logEnabled = true;
  const clock = new FakeClock();
  const slotCount = options.slotCount ?? 1024;
  const mk = (name: string, address: string, v4: string, v6: string, aead: BatchAead, extra: Partial<WgDeviceOptions> | undefined, seed: number) => {
    const pool = new BufferPool({ slotCount, debug: true });
    const local: Endpoint = { family: 4, address, port: portCounter++ };
    const udp = new FakeUdp(net, local, pool, 128);
    const tun = new FakeTun(`wg-${name}`, pool, 128);
    const dp = new Datapath({ pool, tun, now: clock.now, tickIntervalMs: 0, ...options.datapath });
    const dev = new WgDevice({ pool, aead, now: clock.now, wallNow: clock.now, random: seededRandom(seed), ...extra });
    dp.addPlane(dev, udp);
    dev.setPrivateKey(generatePrivateKey());
    return { name, dp, dev, tun, udp, pool, local, v4, v6 };
  };
  const a0 = mk('a', '192.0.2.1', '10.0.0.1', 'fd00::1', options.aeadA ?? nativeBatchAead, options.optsA, 1);
  const b0 = mk('b', '192.0.2.2', '10.0.0.2', 'fd00::2', options.aeadB ?? nativeBatchAead, options.optsB, 2);
  const pa = a0.dev.addPeer(b0.dev.publicKey as Uint8Array);
  const pb = b0.dev.addPeer(a0.dev.publicKey as Uint8Array);
  a0.dev.addAllowedIp(pa, '10.0.0.2/32');
  a0.dev.addAllowedIp(pa, 'fd00::2/128');
  b0.dev.addAllowedIp(pb, '10.0.0.1/32');
  b0.dev.addAllowedIp(pb, 'fd00::1/128');
  a0.dev.setEndpoint(pa, b0.local);
  if (options.bKnowsA !== false) b0.dev.setEndpoint(pb, a0.local);
  const a: Side = { ...a0, peer: pa };
  const b: Side = { ...b0, peer: pb };
  if (options.start !== false) {
    a.dp.start();
    b.dp.start();
  }
  return {
    a,
    b,
    net,
    clock,
    close() {
      a.dp.close();
      b.dp.close();
    },
  };
}

/** Closes both devices and checks every pool slot came back. */
export function closeAndCheck(p: Pair): void {
  p.close();
  p.a.pool.assertNoLeaks();
  p.b.pool.assertNoLeaks();
}

const immediate = () => new Promise<void>((r) => setImmediate(r));

/** Lets the fake ports and handshake continuations run until nothing is pending. */
export async function settle(p: Pair, maxRounds = 500): Promise<void> {
  let quiet = 0;
  for (let i = 0; i < maxRounds && quiet < 3; i++) {
    await immediate();
    const busy =
      p.a.udp.pending + p.b.udp.pending + p.a.tun.pending + p.b.tun.pending + p.a.dev.handshakeQueue.length + p.b.dev.handshakeQueue.length;
    quiet = busy === 0 ? quiet + 1 : 0;
  }
}

/** Moves the clock in steps, ticking both devices and settling after each step. */
export async function advance(p: Pair, ms: number, step = 100): Promise<void> {
  let left = ms;
  while (left > 0) {
    const d = Math.min(step, left);
    p.clock.advance(d);
    left -= d;
    p.a.dp.tick();
    p.b.dp.tick();
    await settle(p);
  }
}

function v4Bytes(a: string): number {
  return a.split('.').reduce((acc, x) => acc * 256 + Number(x), 0);
}

/** An IPv4/UDP packet with a payload that tags it (so tests can tell packets apart). */
export function ipv4Packet(src: string, dst: string, payload: Uint8Array | string): Uint8Array {
  const body = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const buf = new Uint8Array(28 + body.length);
  writeIPv4Header(buf, 0, buf.length, 17, v4Bytes(src), v4Bytes(dst));
  writeUDPHeader(buf, 20, 1234, 5678, 8 + body.length);
  buf.set(body, 28);
  return buf;
}

export function ipv6Packet(src: string, dst: string, payload: Uint8Array | string): Uint8Array {
  const body = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const buf = new Uint8Array(48 + body.length);
  const addrs = new Uint8Array(32);
  ipv6ToBytes(src, addrs, 0);
  ipv6ToBytes(dst, addrs, 16);
  writeIPv6Header(buf, 0, 8 + body.length, 17, addrs, 0, addrs, 16);
  writeUDPHeader(buf, 40, 1234, 5678, 8 + body.length);
  buf.set(body, 48);
  return buf;
}

/** Datagrams on the wire from `side`, optionally of one message type. */
export function sentBy(p: Pair, side: Side, type?: number): Datagram[] {
  return p.net.log.filter((d) => d.from.port === side.udp.local.port && d.from.address === side.udp.local.address && (type === undefined || d.data[0] === type));
}

export function isTransport(d: Datagram): boolean {
  return d.data[0] === MessageType.Transport;
}

export function isKeepalive(d: Datagram): boolean {
  return d.data[0] === MessageType.Transport && d.data.length === 32;
}

/** Asserts the TUN of `side` received exactly these packets, in order. */
export function assertDelivered(side: Side, packets: Uint8Array[], msg?: string): void {
  assert.equal(side.tun.written.length, packets.length, msg ?? `${side.name}: delivered count`);
  packets.forEach((pk, i) => assert.deepEqual(side.tun.written[i], pk, `${msg ?? side.name}: packet ${i}`));
}

/** Handshake from A to B with one packet; returns it. */
export async function handshake(p: Pair, payload = 'ping'): Promise<Uint8Array> {
  const pkt = ipv4Packet(p.a.v4, p.b.v4, payload);
  p.a.tun.inject(pkt);
  await settle(p);
  return pkt;
}
