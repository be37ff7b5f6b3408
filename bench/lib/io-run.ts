/**
 * One measured run of the io benchmark: start forwarder B and A of one implementation
 * and the source, warm up, read every process's counters at the start and the end of
 * the window (each stamps its own monotonic clock), stop them, and turn the deltas into
 * rates. Delivered packets are TUN-B's rx_packets, read by the sink.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Netns } from '../../test/support/netns.js';
import type { IoTopology } from './io-topology.js';
import type { Impl, IoSettings } from './io-settings.js';
import { round } from './json-lines.js';
import type { Json, LineChild } from './line-child.js';

export const IO_PORTS = { a: 41001, b: 41002, sink: 41003 } as const;
const SCRIPTS: Record<Impl, string> = { native: 'bench/io-forwarder.ts', dgram: 'bench/io-dgram-forwarder.ts' };

export type StartChild = (label: string, ns: Netns, script: string, args: string[], cpus: string | undefined) => LineChild;

export interface IoRunResult {
  impl: Impl;
  pps: number;
  sourcePps: number;
  delivered: number;
  gc: number;
  /** Forwarder CPU time (A + B) per delivered packet. */
  cpuUsPerPacket: number;
  line: Json;
}

/** A counter from a mark line ("gc.count" reaches into nested objects); throws when absent. */
function num(j: Json, key: string): number {
  const v = key.split('.').reduce<unknown>((o, k) => (o as Json | undefined)?.[k], j);
  if (typeof v !== 'number') throw new Error(`missing counter ${key} in ${JSON.stringify(j)}`);
  return v;
}

const delta = (x0: Json, x1: Json, key: string) => num(x1, key) - num(x0, key);

let clockTicks = 0;

/** [idle, total] jiffies of one CPU from /proc/stat (idle includes iowait). */
function cpuJiffies(cpu: string): [number, number] {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${cpu} `));
  if (line === undefined) return [0, 0];
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
  return [v[3] + v[4], v.reduce((a, x) => a + x, 0)];
}

/**
 * CPU seconds (user + system) a process has used, from /proc/PID/stat, read by the parent
 * so both forwarders are measured alike. Less sensitive than pps to other load on the
 * machine; softirq work a syscall triggers (veth receive, local delivery) counts for the
 * process that made the syscall.
 */
function cpuSeconds(pid: number): number {
  if (clockTicks === 0) clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime, stime (fields 14, 15)
}

/** Native forwarders only: how much of A's sending was GSO and of B's receiving GRO. */
function offloadCounters(a0: Json, a1: Json, b0: Json, b1: Json): Json {
  if (typeof a1.gsoDatagrams !== 'number') return {};
  const out = delta(a0, a1, 'out');
  const recv = delta(b0, b1, 'in');
  return {
    a_gso: a1.gso,
    b_gro: b1.gro,
    a_gso_share: out > 0 ? round(delta(a0, a1, 'gsoDatagrams') / out, 3) : null,
    a_datagrams_per_gso_message: round(delta(a0, a1, 'gsoDatagrams') / Math.max(1, delta(a0, a1, 'gsoMessages')), 1),
    b_gro_share: recv > 0 ? round(delta(b0, b1, 'groDatagrams') / recv, 3) : null,
    b_datagrams_per_gro_message: round(delta(b0, b1, 'groDatagrams') / Math.max(1, delta(b0, b1, 'groMessages')), 1),
    b_ring_kicks: delta(b0, b1, 'kicks'),
  };
}
const rate = (x0: Json, x1: Json, key: string) => delta(x0, x1, key) / (delta(x0, x1, 't') / 1e9);

/** taskset CPU lists per process (undefined: not pinned). The sink is idle and shares the source's. */
export function ioCpus(s: IoSettings): { source?: string; a?: string; b?: string } {
  if (s.pin === 'none') return {};
  return { source: '0', a: s.pin === 'split' ? '1' : '0', b: '1' };
}

export async function runIoVariant(topo: IoTopology, sink: LineChild, impl: Impl, s: IoSettings, index: number, start: StartChild): Promise<IoRunResult> {
  const cpus = ioCpus(s);
  const forwarderArgs = (role: 'a' | 'b') => {
    const a = role === 'a';
    return [
      '--role', role,
      '--tun', a ? topo.tunA : topo.tunB,
      '--local', a ? topo.underlayA : topo.underlayB,
      '--port', String(a ? IO_PORTS.a : IO_PORTS.b),
      '--peer', a ? topo.underlayB : topo.underlayA,
      '--peer-port', String(a ? IO_PORTS.b : IO_PORTS.a),
      '--batch', String(s.batch),
      ...(impl === 'dgram' && s.dgramConnected ? ['--connected', '1'] : []),
      ...(impl === 'native' ? ['--offload', s.offload ? '1' : '0', '--linger-ms', String(s.lingerMs)] : []),
    ];
  };
  const started: LineChild[] = [];
  try {
    const fb = start(`${impl} forwarder B`, topo.nsB, SCRIPTS[impl], forwarderArgs('b'), cpus.b);
    started.push(fb);
    const fa = start(`${impl} forwarder A`, topo.nsA, SCRIPTS[impl], forwarderArgs('a'), cpus.a);
    started.push(fa);
    const [readyB, readyA] = await Promise.all([fb.next(30_000), fa.next(30_000)]);
    const pids = [num(readyA, 'pid'), num(readyB, 'pid')];
    const sourceArgs = ['--source', topo.source, '--sink', topo.sink, '--port', String(IO_PORTS.sink), '--payload', String(s.payload)];
    const src = start('source', topo.nsA, 'bench/lib/udp-blaster.ts', sourceArgs, cpus.source);
    started.unshift(src); // stopped first, so the forwarders drain
    await src.next(30_000);
    await sleep(s.warmup * 1000);
    const mark = async () => {
      const lines = await Promise.all([src.ask('mark'), fa.ask('mark'), fb.ask('mark'), sink.ask('mark')]);
      lines[1].cpu = cpuSeconds(pids[0]);
      lines[2].cpu = cpuSeconds(pids[1]);
      if (cpus.b !== undefined) [lines[2].cpuIdle, lines[2].cpuTotal] = cpuJiffies(cpus.b);
      return lines;
    };
    const [s0, a0, b0, k0] = await mark();
    await sleep(s.seconds * 1000);
    const [s1, a1, b1, k1] = await mark();
    return summarize(impl, index, [s0, a0, b0, k0], [s1, a1, b1, k1]);
  } finally {
    for (const c of started) await c.stop();
  }
}

function summarize(impl: Impl, index: number, [s0, a0, b0, k0]: Json[], [s1, a1, b1, k1]: Json[]): IoRunResult {
  const delivered = delta(k0, k1, 'tunRx');
  const pps = rate(k0, k1, 'tunRx');
  const sourcePps = rate(s0, s1, 'sent');
  const overflow = rate(a0, a1, 'link.txDropped');
  const gcA = delta(a0, a1, 'gc.count');
  const gcB = delta(b0, b1, 'gc.count');
  const gc = gcA + gcB;
  const cpuA = delta(a0, a1, 'cpu');
  const cpuB = delta(b0, b1, 'cpu');
  const window = delta(k0, k1, 't') / 1e9;
  // Wakeups: readiness callbacks (the dgram receiver has none of its own: one event per datagram).
  const perWakeup = (x0: Json, x1: Json) => (typeof x1.callbacks === 'number' ? round(delta(x0, x1, 'in') / Math.max(1, delta(x0, x1, 'callbacks')), 1) : null);
  const wakeups = typeof b1.callbacks === 'number' ? delta(a0, a1, 'callbacks') + delta(b0, b1, 'callbacks') : null;
  // Every datagram that reached ns B's UDP layer, minus forwarder B's own: what the sink got.
  // The MIB counts one per message read, so a GRO-coalesced message counts once.
  const bMessages = typeof b1.inMessages === 'number' ? delta(b0, b1, 'inMessages') : delta(b0, b1, 'in');
  const sinkUdp = delta(k0, k1, 'udpIn') + delta(k0, k1, 'udpRcvbufErrors') - bMessages;
  const line: Json = {
    run: index,
    impl,
    seconds: round(delta(k0, k1, 't') / 1e9, 3),
    pps: Math.round(pps),
    delivered,
    sink_udp_packets: sinkUdp,
    source_pps: Math.round(sourcePps),
    tun_a_overflow_pps: Math.round(overflow),
    // The source outran forwarder A (TUN-A's queue overflowed): the forwarders are the bottleneck.
    source_saturates: overflow > 0.05 * sourcePps,
    a_read_pps: Math.round(rate(a0, a1, 'in')),
    a_sent_pps: Math.round(rate(a0, a1, 'out')),
    b_recv_pps: Math.round(rate(b0, b1, 'in')),
    b_written_pps: Math.round(rate(b0, b1, 'out')),
    a_send_errors: delta(a0, a1, 'outErrors'),
    b_write_errors: delta(b0, b1, 'outErrors'),
    a_packets_per_wakeup: perWakeup(a0, a1),
    b_packets_per_wakeup: perWakeup(b0, b1),
    // Forwarder CPU per delivered packet, and how much of a core A and B had together.
    cpu_us_per_packet: delivered > 0 ? round(((cpuA + cpuB) * 1e6) / delivered, 2) : null,
    cpu_a_share: round(cpuA / window, 3),
    cpu_b_share: round(cpuB / window, 3),
    // Forwarder B's CPU (pinned runs): how much of it sat idle. 1 - idle - a - b (when A
    // shares it) is what other processes on the machine took.
    ...(typeof b1.cpuTotal === 'number' && delta(b0, b1, 'cpuTotal') > 0
      ? { cpu_b_idle_share: round(delta(b0, b1, 'cpuIdle') / delta(b0, b1, 'cpuTotal'), 3) }
      : {}),
    gc_a: gcA,
    gc_b: gcB,
    // Scavenges (what per-packet or per-loop-turn garbage causes) and the rest: full GCs
    // and their incremental-marking entries, e.g. V8's memory reducer ~8 s after start.
    gc_minor: delta(a0, a1, 'gc.minor') + delta(b0, b1, 'gc.minor'),
    gc_major: delta(a0, a1, 'gc.major') + delta(b0, b1, 'gc.major'),
    gc_ms: round(delta(a0, a1, 'gc.ms') + delta(b0, b1, 'gc.ms'), 3),
    gc_per_million_packets: delivered > 0 ? round((gc * 1e6) / delivered, 3) : null,
    gc_per_million_wakeups: wakeups ? round((gc * 1e6) / wakeups, 1) : null,
    ...offloadCounters(a0, a1, b0, b1),
  };
  return { impl, pps, sourcePps, delivered, gc, cpuUsPerPacket: delivered > 0 ? ((cpuA + cpuB) * 1e6) / delivered : NaN, line };
}
