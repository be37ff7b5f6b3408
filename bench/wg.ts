/**
 * npm run bench -- wg [--seconds 10] [--rounds 2]
 *
 * A ferryd pair and a wireguard-go pair on identical topologies (two namespaces, veth
 * underlay, inner MTU 1420), in one run: iperf3 TCP through each, alternating; ping RTT
 * p50/p99 through each; ferryd's RSS while under load; both daemons' CPU time per GB
 * delivered (/proc/PID/stat), which other load on a shared machine moves less than Gbit/s. Last line:
 * {"bench":"wg","metric":"tcp_throughput","value":<ferry Gbit/s>,"unit":"Gbit/s","baseline":<wireguard-go Gbit/s>,"ratio":…}
 */
import { execFileSync } from 'node:child_process';
import { requireHost } from '../test/support/netns.js';
import { wgPair, type WgPeer } from '../test/support/wg.js';
import { iperf, rssMiB } from './lib/iperf.js';
import { benchScope, numberOption } from './lib/bench-scope.js';
import { jsonLines, median, round } from './lib/json-lines.js';

const emit = jsonLines('wg');
const SECONDS = numberOption('seconds', 10);
const ROUNDS = numberOption('rounds', 2);
const { scope, cleanup } = benchScope();

function pingRtts(a: WgPeer, b: WgPeer, count = 200): { p50: number; p99: number } {
  const out = a.ns.run('ping', ['-c', String(count), '-i', '0.01', '-W', '2', b.inner4], { timeout: 60_000 });
  const rtts = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((x, y) => x - y);
  return { p50: rtts[Math.floor(rtts.length * 0.5)], p99: rtts[Math.min(rtts.length - 1, Math.floor(rtts.length * 0.99))] };
}

async function main(): Promise<void> {
  if (!requireHost({ skip: (m) => { throw new Error(`wg bench ${m}`); } }, ['wg', 'wireguard-go', 'iperf3', 'ping'])) return;
  execFileSync('npm', ['run', '--silent', 'build:ts'], { stdio: 'inherit' });
  const ferry = await wgPair(scope, { left: 'ferry', right: 'ferry', compiled: true });
  const go = await wgPair(scope, { left: 'wireguard-go', right: 'wireguard-go' });
  for (const p of [ferry, go]) p.a.ns.run('ping', ['-c', '2', '-i', '0.2', '-W', '5', p.b.inner4]);
  emit({ setup: 'two pairs up', seconds: SECONDS, rounds: ROUNDS, machine: { cores: 2, kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(), node: process.version } });

  const ferryRuns: number[] = [];
  const goRuns: number[] = [];
  const ferryCpu: number[] = [];
  const goCpu: number[] = [];
  let rssMax = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const f = await iperf(ferry.a, ferry.b, SECONDS, ferry.a.pid);
    ferryRuns.push(f.gbps);
    ferryCpu.push(f.cpuSecondsPerGB);
    rssMax = Math.max(rssMax, f.rssMaxMiB ?? 0);
    emit({ run: 'ferry', round: r, gbps: round(f.gbps, 3), retransmits: f.retransmits, cpu_s_per_gb: round(f.cpuSecondsPerGB, 2), sender_rss_max_mib: f.rssMaxMiB });
    const g = await iperf(go.a, go.b, SECONDS);
    goRuns.push(g.gbps);
    goCpu.push(g.cpuSecondsPerGB);
    emit({ run: 'wireguard-go', round: r, gbps: round(g.gbps, 3), retransmits: g.retransmits, cpu_s_per_gb: round(g.cpuSecondsPerGB, 2) });
  }
  const fp = pingRtts(ferry.a, ferry.b);
  const gp = pingRtts(go.a, go.b);
  emit({ metric: 'ping_rtt_ms', ferry: fp, wireguard_go: gp });
  emit({ metric: 'ferryd_rss_mib', idle_after_load: round(rssMiB(ferry.a.pid), 1), max_under_load: round(rssMax, 1) });
  // CPU of both daemons per GB delivered: lower is better, so the ratio is wireguard-go's over ferry's.
  const fc = median(ferryCpu);
  const gc = median(goCpu);
  emit({ metric: 'cpu_per_gb', value: round(fc, 2), unit: 'CPU s/GB', baseline: round(gc, 2), ratio: round(gc / fc, 3) });
  const value = median(ferryRuns);
  const baseline = median(goRuns);
  await cleanup();
  emit({ metric: 'tcp_throughput', value: round(value, 3), unit: 'Gbit/s', baseline: round(baseline, 3), ratio: round(value / baseline, 3) });
}

main().then(
  () => process.exit(0),
  async (err) => {
    await cleanup();
    console.error(`bench wg failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
