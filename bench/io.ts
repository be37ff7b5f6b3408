/**
 * Netns benchmark: forward packets TUN -> UDP -> UDP -> TUN between two namespaces with
 * the batched native path (bench/io-forwarder.ts) and with node:dgram, one Buffer per
 * datagram (bench/io-dgram-forwarder.ts), alternating in one run over one topology
 * (bench/lib/io-topology.ts), and report the medians. The kernel is source and sink:
 * a sendmmsg blaster in ns A sends small UDP datagrams routed into TUN-A; what the
 * forwarders carry into TUN-B is delivered to a socket in ns B that never reads.
 * Delivered packets are counted by TUN-B's rx_packets.
 *
 * CPU (2 cores): by default the source is pinned to CPU 0 and both forwarders to CPU 1,
 * so the source cannot starve them and each variant gets one whole core for the path.
 *
 *   npm run bench -- io [--seconds 5] [--warmup 1] [--rounds 3] [--payload 64] [--batch 256]
 *                       [--pin split|spread|none] [--dgram-connected 0|1] [--offload 1|0]
 *
 * --offload 0 runs the native forwarders without UDP GSO/GRO (one skb per datagram).
 * --linger-ms N (0..50, default 0) keeps each native forwarder in its readiness callback,
 * waiting up to N ms for more traffic, for at most 256 rounds before the event loop turns
 * (docs/offloads.md: what each loop turn costs in GC).
 *
 * Needs root, /dev/net/tun, ip (iproute2) and taskset. Prints JSON lines; the last is
 * {"bench":"io","metric":"pps","value":native,"unit":"packets/s","baseline":dgram,"ratio":…}.
 */
import { availableParallelism, release } from 'node:os';
import type { Netns } from '../test/support/netns.js';
import { hasTool, isRoot, tryRun } from '../test/support/netns.js';
import { ioCpus, IO_PORTS, runIoVariant, type IoRunResult } from './lib/io-run.js';
import { parseIoSettings, type Impl } from './lib/io-settings.js';
import { buildIoTopology, rootLinks, type IoTopology } from './lib/io-topology.js';
import { jsonLines, median, round } from './lib/json-lines.js';
import { LineChild } from './lib/line-child.js';

const emit = jsonLines('io');

// Everything started is tracked here, so exit, SIGINT and SIGTERM take it all down.
const children = new Set<LineChild>();
let topology: IoTopology | undefined;

function cleanup(): void {
  for (const c of children) c.kill();
  children.clear();
  topology?.destroy();
  topology = undefined;
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

function start(label: string, ns: Netns, script: string, args: string[], cpus: string | undefined): LineChild {
  const c = new LineChild(label, ns, script, args, cpus);
  children.add(c);
  c.child.once('exit', () => children.delete(c));
  return c;
}

function summary(results: IoRunResult[], impl: Impl) {
  const rs = results.filter((x) => x.impl === impl);
  const gc = rs.reduce((a, x) => a + x.gc, 0);
  const delivered = rs.reduce((a, x) => a + x.delivered, 0);
  const pps = Math.round(median(rs.map((x) => x.pps)));
  const sourcePps = Math.round(median(rs.map((x) => x.sourcePps)));
  return {
    pps,
    runs: rs.map((x) => Math.round(x.pps)),
    source_pps: sourcePps,
    source_saturates_all_runs: rs.every((x) => x.line.source_saturates === true),
    cpu_us_per_packet: round(median(rs.map((x) => x.cpuUsPerPacket)), 2),
    gc_runs: gc,
    gc_per_million_packets: delivered > 0 ? round((gc * 1e6) / delivered, 3) : null,
  };
}

async function main(): Promise<void> {
  const s = parseIoSettings(process.argv.slice(2));
  if (s.pin !== 'none' && availableParallelism() < 2) s.pin = 'none';
  const missing = [
    !isRoot() && 'root',
    !tryRun('test', ['-c', '/dev/net/tun']) && '/dev/net/tun',
    !hasTool('ip') && 'ip',
    s.pin !== 'none' && !hasTool('taskset') && 'taskset',
  ].filter(Boolean);
  if (missing.length > 0) throw new Error(`bench io needs ${missing.join(', ')}`);

  const before = new Set(rootLinks());
  topology = buildIoTopology();
  const topo = topology;
  const cpus = ioCpus(s);
  emit({
    setup: true,
    payload_bytes: s.payload,
    tun_packet_bytes: s.payload + 28,
    batch: s.batch,
    seconds: s.seconds,
    warmup: s.warmup,
    rounds: s.rounds,
    pin: s.pin === 'none' ? 'none' : { source: cpus.source, forwarder_a: cpus.a, forwarder_b: cpus.b },
    dgram_connected: s.dgramConnected,
    native_offload: s.offload,
    native_linger_ms: s.lingerMs,
    cpus: availableParallelism(),
    kernel: release(),
    node: process.version,
  });
  const sinkArgs = ['--address', topo.sink, '--port', String(IO_PORTS.sink), '--tun', topo.tunB];
  const sink = start('sink', topo.nsB, 'bench/lib/udp-sink.ts', sinkArgs, cpus.source);
  await sink.next(30_000);

  const results: IoRunResult[] = [];
  let index = 0;
  for (let r = 0; r < s.rounds; r++) {
    for (const impl of ['native', 'dgram'] as const) {
      const res = await runIoVariant(topo, sink, impl, s, index++, start);
      emit(res.line);
      results.push(res);
    }
  }
  await sink.stop();
  cleanup();
  const leaked = rootLinks().filter((l) => !before.has(l));
  if (leaked.length > 0) throw new Error(`links left in the root namespace: ${leaked.join(', ')}`);

  const nat = summary(results, 'native');
  const dg = summary(results, 'dgram');
  emit({ summary: 'native', ...nat });
  emit({ summary: 'dgram', ...dg });
  if (!nat.source_saturates_all_runs || !dg.source_saturates_all_runs) {
    emit({ warning: 'in some runs the source did not outrun the forwarders (TUN-A did not overflow): those rates measure the source' });
  }
  emit({ metric: 'gc_per_million_packets', value: nat.gc_per_million_packets, unit: 'gc/Mpkt', baseline: dg.gc_per_million_packets });
  // Less sensitive to other load on a shared machine than pps: forwarder CPU per packet.
  emit({ metric: 'cpu_per_packet', value: nat.cpu_us_per_packet, unit: 'us/packet', baseline: dg.cpu_us_per_packet, ratio: round(dg.cpu_us_per_packet / nat.cpu_us_per_packet, 2) });
  emit({ metric: 'pps', value: nat.pps, unit: 'packets/s', baseline: dg.pps, ratio: round(nat.pps / dg.pps, 2) });
}

try {
  await main();
} catch (err) {
  cleanup();
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
