/**
 * TUN offloads (docs/offloads.md#tun-offloads) against wireguard-go: ferryd with
 * offloads on (the default) and with them off (FERRY_OFFLOAD=off, as a kernel refusing
 * TUNSETOFFLOAD leaves it) moves 256 MiB each way intact, with IPv4 and IPv6 inner
 * traffic; with offloads on, the counters show that super-packets were read and split
 * and that decrypted TCP was coalesced on write.
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
  superPacketsRead: number;
  segmentsMade: number;
  groupsWritten: number;
  packetsCoalesced: number;
  badPackets: number;
}
interface Stats {
  tun: { truncated: number; offload: OffloadCounters | null };
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

async function ferryState(p: WgPeer): Promise<{ status: { offload: string }; stats: Stats; drops: Record<string, number> }> {
  const status = (await controlRequest(p.ifname, 'status')) as { offload: string };
  const stats = (await controlRequest(p.ifname, 'stats')) as Stats;
  const drops = ((await controlRequest(p.ifname, 'drops')) as { total: Record<string, number> }).total;
  return { status, stats, drops };
}

test(`offloads on: ferryd and wireguard-go move ${MIB} MiB each way intact, super-packets split on read and TCP coalesced on write`, async (t) => {
  if (!requireHost(t, TOOLS)) return;
  bulkData();
  const { a, b } = await wgPair(t, { left: 'ferry', right: 'wireguard-go' });
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
  const saved = process.env.FERRY_OFFLOAD;
  process.env.FERRY_OFFLOAD = 'off';
  let pair;
  try {
    pair = await wgPair(t, { left: 'ferry', right: 'wireguard-go' });
  } finally {
    if (saved === undefined) delete process.env.FERRY_OFFLOAD;
    else process.env.FERRY_OFFLOAD = saved;
  }
  const { a, b } = pair;
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
