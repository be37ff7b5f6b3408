/**
 * npm run bench -- datapath [--packets 3000000] [--rounds 2] [--warmup 300000] [--size 1420]
 *                           [--family 4|6] [--burst 512] [--slots 1024] [--clock sim|real]
 *                           [--allocations 1]
 *
 * The hot path proved at run time: two ferry datapaths, each hosting a WgDevice, joined
 * by zero-allocation in-memory ports (bench/lib/mem-tun.ts, bench/lib/mem-link.ts),
 * carry millions of packets both ways at once (A→B and B→A: TUN read, route, pad,
 * seal, send, receive, open, replay check, source check, TUN write), driven
 * synchronously: the bench calls the ports' readiness callbacks itself and ticks both
 * datapaths every 100 ms of an injected clock (1 ms per round of `burst` packets each
 * way). After the handshake and a warm-up, each measured window counts V8 collections
 * (PerformanceObserver 'gc' entries that started inside it). The anchor, in the same
 * run, is the same pipeline over a link that costs what node:dgram costs per datagram
 * (bench/lib/dgram-style-link.ts): it shows what per-packet objects do to the count and
 * that the counter sees them. Windows alternate ferry, anchor, ferry, anchor.
 *
 * Every window checks its packets (sequence numbers, lengths, every 64th byte for byte),
 * that nothing was dropped or lost and that both pools are back at their steady use.
 * --clock real gives both sides the daemon's clock (performance.now) instead of an
 * integer one; --allocations 1 adds a ferry window under V8's sampling heap profiler and
 * prints where it allocated (bench/lib/alloc-sampler.ts).
 * Last line:
 * {"bench":"datapath","metric":"gc_per_million_packets","value":…,"unit":"collections/Mpkt","baseline":…,"ratio":…}
 */
import { availableParallelism, release } from 'node:os';
import v8 from 'node:v8';
import { initCrypto } from '../src/wireguard/crypto.js';
import { buildPair, type BenchPair, type LinkKind } from './lib/datapath-pair.js';
import { AllocationSampler } from './lib/alloc-sampler.js';
import { GcWindow, type GcWindowReading } from './lib/gc-window.js';
import { jsonLines, median, round } from './lib/json-lines.js';

const emit = jsonLines('datapath');
const argv = process.argv.slice(2);
const optText = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? String(argv[i + 1]) : dflt;
};
const opt = (name: string, dflt: number): number => {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const PACKETS = opt('packets', 3_000_000);
const ROUNDS = opt('rounds', 2);
const WARMUP = opt('warmup', 300_000);
const SIZE = opt('size', 1420);
const FAMILY = opt('family', 4);
const BURST = opt('burst', 512);
const SLOTS = opt('slots', 1024);
const MTU = Math.max(1420, SIZE);
const CLOCK = optText('clock', 'sim') as 'sim' | 'real';
const ALLOCATIONS = optText('allocations', '0') === '1';
if (FAMILY !== 4 && FAMILY !== 6) throw new Error('--family must be 4 or 6');
if (CLOCK !== 'sim' && CLOCK !== 'real') throw new Error('--clock must be sim or real');

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const newSpaceUsed = (): number => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? NaN;
const mib = (bytes: number): number => round(bytes / 1048576, 2);

let pumps = 0;

/**
 * Time moves once per pump: 1 ms of the 'sim' clock, with both datapaths ticked every
 * 100 ms of it; with the 'real' clock the datapaths read performance.now themselves and
 * are ticked every 10 pumps.
 */
function advance(p: BenchPair): void {
  pumps++;
  if (CLOCK === 'real') {
    if (pumps % 10 === 0) {
      p.a.dp.tick();
      p.b.dp.tick();
    }
    return;
  }
  const c = p.clock;
  c.ms += 1;
  if (c.ms % 100 === 0) {
    p.a.dp.tick(c.ms);
    p.b.dp.tick(c.ms);
  }
}

/** One turn of the synchronous loop: a burst from each TUN, then both link directions until drained. */
function pump(p: BenchPair): void {
  advance(p);
  for (let k = 0; k < 64 && (p.a.tun.budget > 0 || p.b.tun.budget > 0); k++) {
    p.a.tun.fire();
    p.b.tun.fire();
    for (let j = 0; j < 64 && (p.a.udp.pending > 0 || p.b.udp.pending > 0); j++) {
      p.b.udp.fire();
      p.a.udp.fire();
    }
  }
  for (let j = 0; j < 64 && (p.a.udp.pending > 0 || p.b.udp.pending > 0); j++) {
    p.b.udp.fire();
    p.a.udp.fire();
  }
}

/** Sends n packets each way and lets everything arrive. */
function run(p: BenchPair, n: number): void {
  const endA = p.a.tun.produced + n;
  const endB = p.b.tun.produced + n;
  let stalls = 0;
  while (p.a.tun.produced < endA || p.b.tun.produced < endB) {
    const before = p.a.tun.produced + p.b.tun.produced;
    p.a.tun.budget = Math.min(BURST, endA - p.a.tun.produced);
    p.b.tun.budget = Math.min(BURST, endB - p.b.tun.produced);
    pump(p);
    if (p.a.tun.produced + p.b.tun.produced === before && ++stalls > 1000) throw new Error('the datapath stopped reading its TUN');
  }
  p.a.tun.budget = p.b.tun.budget = 0;
  for (let i = 0; i < 10; i++) pump(p);
}

function handshake(p: BenchPair): void {
  p.a.tun.budget = 1;
  for (let i = 0; i < 100 && (p.a.peer.keypairs.current === null || p.b.peer.keypairs.current === null || p.b.tun.delivered === 0); i++) pump(p);
  if (p.b.tun.delivered !== 1 || p.b.peer.keypairs.current === null) throw new Error('no session after the handshake');
}

function drops(p: BenchPair): number {
  return p.a.dp.drops.total() + p.b.dp.drops.total() + p.a.dev.drops.total() + p.b.dev.drops.total();
}

/** Slots held by anything but the ports' read reserves (0 when the pipeline is drained). */
function held(p: BenchPair): [number, number] {
  return [p.a.pool.inUse - p.a.tun.reserved - p.a.udp.reserved, p.b.pool.inUse - p.b.tun.reserved - p.b.udp.reserved];
}

/** What must hold after any window: every packet arrived intact, nothing dropped or lost, no slot held. */
function check(p: BenchPair, label: string): void {
  const problems: string[] = [];
  for (const [name, s, o] of [['A', p.a, p.b], ['B', p.b, p.a]] as const) {
    if (s.tun.delivered !== o.tun.produced) problems.push(`${name} received ${s.tun.delivered} of ${o.tun.produced}`);
    if (s.tun.wrong !== 0) problems.push(`${name} received ${s.tun.wrong} wrong packets`);
  }
  if (drops(p) !== 0) problems.push(`drops: ${JSON.stringify({ a: p.a.dp.drops.snapshot(), b: p.b.dp.drops.snapshot(), wgA: p.a.dev.drops.snapshot(), wgB: p.b.dev.drops.snapshot() })}`);
  if (p.linkLosses() !== 0) problems.push(`${p.linkLosses()} datagrams lost on the link`);
  const [ha, hb] = held(p);
  if (ha !== 0 || hb !== 0) problems.push(`pool slots held outside the port reserves: ${ha}/${hb}`);
  if (problems.length > 0) throw new Error(`${label}: ${problems.join('; ')}`);
}

interface WindowResult {
  link: LinkKind;
  packets: number;
  seconds: number;
  /** Process CPU time (user + system) per packet delivered: what other load on a shared machine moves least. */
  cpuNsPerPacket: number;
  gc: GcWindowReading;
}

async function measure(p: BenchPair, link: LinkKind, roundNo: number, gcw: GcWindow): Promise<WindowResult> {
  globalThis.gc?.();
  await sleep(100);
  const handshakes = p.a.peer.lastHandshakeWallMs + p.b.peer.lastHandshakeWallMs;
  const delivered0 = p.a.tun.delivered + p.b.tun.delivered;
  const heap0 = process.memoryUsage().heapUsed;
  const young0 = newSpaceUsed();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  run(p, PACKETS);
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const young1 = newSpaceUsed();
  const heap1 = process.memoryUsage().heapUsed;
  await sleep(50);
  const gc = gcw.between(t0, t1);
  check(p, `${link} round ${roundNo}`);
  const packets = p.a.tun.delivered + p.b.tun.delivered - delivered0;
  const seconds = (t1 - t0) / 1000;
  const cpuNsPerPacket = ((cpu.user + cpu.system) * 1000) / packets;
  emit({
    run: link === 'mem' ? 'ferry' : 'dgram-style link',
    round: roundNo,
    packets,
    seconds: round(seconds, 3),
    pps: Math.round(packets / seconds),
    cpu_ns_per_packet: round(cpuNsPerPacket, 1),
    gc,
    gc_per_million_packets: round((gc.collections * 1e6) / packets, 3),
    // Without a scavenge in the window, new space only grew: what the window allocated there.
    young_bytes_per_packet: gc.scavenges === 0 ? round((young1 - young0) / packets, 4) : null,
    heap_used_mib: { before: mib(heap0), after: mib(heap1) },
    // After the window: slots in use, all of them in the ports' read reserves.
    pool_in_use: { a: p.a.pool.inUse, b: p.b.pool.inUse, outside_reserves: held(p) },
    handshake_in_window: p.a.peer.lastHandshakeWallMs + p.b.peer.lastHandshakeWallMs !== handshakes,
  });
  return { link, packets, seconds, cpuNsPerPacket, gc };
}

function summary(rs: WindowResult[]) {
  const packets = rs.reduce((a, r) => a + r.packets, 0);
  const gcs = rs.reduce((a, r) => a + r.gc.collections, 0);
  return {
    packets,
    collections: gcs,
    scavenges: rs.reduce((a, r) => a + r.gc.scavenges, 0),
    gc_per_million_packets: round((gcs * 1e6) / packets, 3),
    pps: Math.round(median(rs.map((r) => r.packets / r.seconds))),
    runs_pps: rs.map((r) => Math.round(r.packets / r.seconds)),
    cpu_ns_per_packet: round(median(rs.map((r) => r.cpuNsPerPacket)), 1),
  };
}

async function main(): Promise<void> {
  await initCrypto();
  const gcw = new GcWindow();
  emit({
    setup: true,
    packets_per_direction: PACKETS,
    rounds: ROUNDS,
    warmup_per_direction: WARMUP,
    packet_bytes: SIZE,
    family: FAMILY,
    mtu: MTU,
    burst: BURST,
    pool_slots: SLOTS,
    clock: CLOCK,
    expose_gc: typeof globalThis.gc === 'function',
    machine: { cores: availableParallelism(), kernel: release(), node: process.version },
  });
  const pairs = new Map<LinkKind, BenchPair>();
  for (const link of ['mem', 'dgram'] as const) {
    const pair = buildPair({ link, size: SIZE, family: FAMILY as 4 | 6, mtu: MTU, slotCount: SLOTS, clock: CLOCK });
    handshake(pair);
    run(pair, WARMUP);
    check(pair, `${link} warm-up`);
    pairs.set(link, pair);
  }
  const results: WindowResult[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const [link, pair] of pairs) results.push(await measure(pair, link, r, gcw));
  }
  if (ALLOCATIONS) {
    const ferry = pairs.get('mem') as BenchPair;
    const sampler = new AllocationSampler();
    await sampler.start();
    run(ferry, PACKETS);
    emit({ allocations: 'ferry window under the sampling heap profiler', packets: 2 * PACKETS, sites: await sampler.stop() });
    check(ferry, 'allocation window');
  }
  for (const pair of pairs.values()) {
    pair.close();
    if (pair.a.pool.inUse !== 0 || pair.b.pool.inUse !== 0) throw new Error(`slots still held after close: ${pair.a.pool.inUse}/${pair.b.pool.inUse}`);
  }
  gcw.stop();
  const ferry = summary(results.filter((x) => x.link === 'mem'));
  const anchor = summary(results.filter((x) => x.link === 'dgram'));
  emit({ summary: 'ferry', ...ferry });
  emit({ summary: 'dgram-style link', ...anchor });
  emit({ metric: 'pps', value: ferry.pps, unit: 'packets/s', baseline: anchor.pps, ratio: round(ferry.pps / anchor.pps, 2) });
  // One collection in all of ferry's windows is the resolution: with none, the ratio is a lower bound.
  const resolution = 1e6 / ferry.packets;
  const value = ferry.gc_per_million_packets;
  emit({
    metric: 'gc_per_million_packets',
    value,
    unit: 'collections/Mpkt',
    baseline: anchor.gc_per_million_packets,
    ratio: round(anchor.gc_per_million_packets / Math.max(value, resolution), 1),
    ratio_is_lower_bound: ferry.collections === 0,
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench datapath failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
