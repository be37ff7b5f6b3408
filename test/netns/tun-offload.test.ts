/**
 * TUN offloads (docs/offloads.md#tun-offloads) against wireguard-go: ferryd with
 * offloads on (the default) and with them off (FERRY_OFFLOAD=off, as a kernel refusing
 * TUNSETOFFLOAD leaves it) moves 256 MiB each way intact, with IPv4 and IPv6 inner
 * traffic; with offloads on, the counters show that super-packets were read and split
 * and that decrypted TCP was coalesced on write. UDP datagrams coalesced with USO arrive
 * whole; the start-up probe runs on a real TUN.
 */
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../src/buffer/pool.js';
import { controlRequest } from '../../src/control/control-client.js';
import { loadNative } from '../../src/io/native.js';
import { TunDevice } from '../../src/io/tun.js';
import { requireHost, uniqueName } from '../support/netns.js';
import { randomData, transfer, wgPair, type TransferData, type WgPeer } from '../support/wg.js';

const MIB = 256;
const TOOLS = ['wg', 'wireguard-go', 'ncat', 'sha256sum', 'ss'];

interface OffloadCounters {
  flags: number;
  fallbacks: number;
  superPacketsRead: number;
  segmentsMade: number;
  groupsWritten: number;
  packetsCoalesced: number;
  badPackets: number;
}
interface Stats {
  tun: { written: number; truncated: number; offload: OffloadCounters | null };
}

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const fn of cleanups) await fn();
});
let bulk: TransferData | undefined;
const bulkData = (): TransferData => (bulk ??= randomData({ after: (fn) => cleanups.push(fn) }, MIB));

/** Both directions, 256 MiB each (IPv4 one way, IPv6 the other), then 16 MiB the other way round. */
async function moveBothWays(t: TestContext, a: WgPeer, b: WgPeer): Promise<void> {
  const data = bulkData();
  const runs: [WgPeer, WgPeer, 4 | 6, TransferData | number][] = [
    [a, b, 4, data],
    [b, a, 6, data],
    [a, b, 6, 16],
    [b, a, 4, 16],
  ];
  for (const [from, to, family, what] of runs) {
    const r = await transfer(from, to, what, family === 4 ? to.inner4 : to.inner6);
    const mib = typeof what === 'number' ? what : what.mib;
    t.diagnostic(`${from.impl} -> ${to.impl}, IPv${family} inner: ${mib} MiB in ${r.seconds.toFixed(2)} s (${((mib * 8 * 1.048576) / r.seconds).toFixed(0)} Mbit/s)`);
    assert.match(r.sent, /^[0-9a-f]{64}$/);
    assert.equal(r.received, r.sent, `sha256 of what arrived equals what was sent (${from.impl} -> ${to.impl}, IPv${family})`);
  }
}

/**
 * A ferryd–wireguard-go pair with FERRY_OFFLOAD set for ferryd's start, whatever the
 * caller's environment says (the suite is also run with FERRY_OFFLOAD=off).
 */
async function pairWithOffload(t: TestContext, setting: 'on' | 'off'): Promise<{ a: WgPeer; b: WgPeer }> {
  const saved = process.env.FERRY_OFFLOAD;
  process.env.FERRY_OFFLOAD = setting;
  try {
    return await wgPair(t, { left: 'ferry', right: 'wireguard-go' });
  } finally {
    if (saved === undefined) delete process.env.FERRY_OFFLOAD;
    else process.env.FERRY_OFFLOAD = saved;
  }
}

async function ferryState(p: WgPeer): Promise<{ status: { offload: string }; stats: Stats; drops: Record<string, number> }> {
  const status = (await controlRequest(p.ifname, 'status')) as { offload: string };
  const stats = (await controlRequest(p.ifname, 'stats')) as Stats;
  const drops = ((await controlRequest(p.ifname, 'drops')) as { total: Record<string, number> }).total;
  return { status, stats, drops };
}

test(`offloads on: ferryd and wireguard-go move ${MIB} MiB each way intact, super-packets split on read and TCP coalesced on write`, async (t) => {
  if (!requireHost(t, TOOLS)) return;
  bulkData();
  const { a, b } = await pairWithOffload(t, 'on');
  assert.equal((await ferryState(a)).status.offload, 'on');
  await moveBothWays(t, a, b);
  const { stats, drops } = await ferryState(a);
  const off = stats.tun.offload;
  t.diagnostic(`ferryd offload counters: ${JSON.stringify(off)}`);
  assert.ok(off !== null, 'stats show the offload counters');
  assert.ok(off.superPacketsRead > 0, 'the kernel handed TSO super-packets to ferryd');
  assert.ok(off.segmentsMade > off.superPacketsRead, 'each super-packet became several segments');
  assert.ok(off.packetsCoalesced > 0, 'decrypted TCP segments went to the kernel coalesced');
  assert.ok(off.groupsWritten > 0);
  assert.equal(off.badPackets, 0);
  assert.equal(drops.tun_offload_bad_packet ?? 0, 0, JSON.stringify(drops));
  assert.equal(stats.tun.truncated, 0);
});

test(`offloads off (FERRY_OFFLOAD=off): the plain path moves ${MIB} MiB each way intact`, async (t) => {
  if (!requireHost(t, TOOLS)) return;
  bulkData();
  const { a, b } = await pairWithOffload(t, 'off');
  const before = await ferryState(a);
  assert.equal(before.status.offload, 'off');
  assert.equal(before.stats.tun.offload, null);
  await moveBothWays(t, a, b);
  assert.equal((await ferryState(a)).stats.tun.truncated, 0);
});

test('the start-up probe: TUNSETOFFLOAD accepted (CSUM and TSO at least), the fd has IFF_VNET_HDR; offloads refused for a TAP and for a pool without large slots', (t) => {
  if (!requireHost(t)) return;
  const n = loadNative();
  const pool = new BufferPool({ slotCount: 256, largeSlotCount: 8 });
  const tun = TunDevice.open(uniqueName('fyo'), { pool, offload: true });
  try {
    assert.ok(tun.offloads !== null, `offloads on: ${tun.offloadRefused}`);
    const base = n.TUN_F_CSUM | n.TUN_F_TSO4 | n.TUN_F_TSO6;
    assert.equal(tun.offloads.flags & base, base);
    t.diagnostic(`accepted TUN_F bits: 0x${tun.offloads.flags.toString(16)}`);
    assert.equal(tun.info().vnetHdr, true, 'the fd carries IFF_VNET_HDR');
    assert.equal(tun.offloadRefused, null);
  } finally {
    tun.close();
  }
  const tap = TunDevice.open(uniqueName('fyo'), { pool, offload: true, tap: true });
  try {
    assert.equal(tap.offloads, null);
    assert.match(tap.offloadRefused ?? '', /TAP/);
    assert.equal(tap.info().vnetHdr, false);
  } finally {
    tap.close();
  }
  const small = TunDevice.open(uniqueName('fyo'), { pool: new BufferPool({ slotCount: 64 }), offload: true });
  try {
    assert.equal(small.offloads, null);
    assert.match(small.offloadRefused ?? '', /no large slots/);
    assert.equal(small.info().vnetHdr, false);
  } finally {
    small.close();
  }
  pool.assertNoLeaks();
});

/** Receives `count` datagrams on ADDR:PORT (or stops after 20 s) and prints how many arrived intact, and how many were damaged. */
const UDP_RECEIVER = `
import socket, sys, hashlib
fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind((sys.argv[1], int(sys.argv[2])))
print('ready', flush=True)
s.settimeout(20)
good = bad = 0
seen = set()
try:
    while len(seen) < int(sys.argv[3]):
        d = s.recv(65535)
        i = int.from_bytes(d[:4], 'big')
        if hashlib.sha256(d[:4] + d[36:]).digest() == d[4:36] and len(d) == 1200: seen.add(i); good += 1
        else: bad += 1
except socket.timeout:
    pass
print(len(seen), bad, flush=True)
`;
const UDP_SENDER = `
import socket, sys, hashlib, os, time
fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    body = os.urandom(1200 - 36)
    head = i.to_bytes(4, 'big')
    s.sendto(head + hashlib.sha256(head + body).digest() + body, (sys.argv[1], int(sys.argv[2])))
    if i % 32 == 31: time.sleep(0.002)
`;

test('UDP through ferryd with offloads: datagrams of a flow coalesced on write (USO) arrive whole, IPv4 and IPv6', async (t) => {
  if (!requireHost(t, [...TOOLS, 'python3'])) return;
  const { a, b } = await pairWithOffload(t, 'on');
  const before = (await ferryState(a)).stats.tun.offload;
  assert.ok(before !== null);
  const count = 3000;
  for (const address of [a.inner4, a.inner6]) {
    const writtenBefore = (await ferryState(a)).stats.tun.written;
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const receiver = a.ns.spawn('python3', ['-c', UDP_RECEIVER, address, port, String(count)]);
    let out = '';
    receiver.stdout?.on('data', (d) => (out += d));
    const done = new Promise<void>((resolve) => receiver.on('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the UDP receiver did not start')), 20_000);
      receiver.stdout?.on('data', () => {
        if (out.includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    b.ns.run('python3', ['-c', UDP_SENDER, address, port, String(count)], { timeout: 60_000 });
    await done;
    const [received, damaged] = out.replace('ready', '').trim().split(/\s+/).map(Number);
    t.diagnostic(`UDP to ${address}: ${received} of ${count} datagrams intact, ${damaged} damaged`);
    const st = await ferryState(a);
    t.diagnostic(`ferryd: ${JSON.stringify(st.stats.tun)} drops ${JSON.stringify(st.drops)}`);
    assert.equal(damaged, 0, 'no datagram arrived damaged');
    // UDP may lose datagrams before ferryd on a loaded machine (wireguard-go, the underlay);
    // every datagram ferryd wrote to the TUN, merged or not, must have reached the socket.
    assert.equal(received, st.stats.tun.written - writtenBefore, 'every datagram ferryd wrote arrived');
    assert.ok(received >= count / 2, `${received} of ${count} arrived`);
  }
  const after = (await ferryState(a)).stats.tun.offload;
  assert.ok(after !== null);
  t.diagnostic(`offload counters after UDP: ${JSON.stringify(after)}`);
  if ((before.flags & loadNative().TUN_F_USO4) !== 0) {
    assert.ok(after.packetsCoalesced > before.packetsCoalesced, 'UDP datagrams were merged into UDP super-packets');
  }
  assert.equal(after.fallbacks, 0, 'the kernel took every super-packet');
});
