/**
 * npm run bench -- flood [--seconds 10] [--rounds 2] [--rate 80000]
 *
 * Issue 14's handshake flood, in one run for a ferryd pair and a wireguard-go pair (each as
 * bench wg sets them up: two namespaces, veth underlay, 4 MiB socket buffers). A third
 * namespace per pair floods the responder (the iperf3 server side) from 32 source
 * addresses with handshake initiations carrying a valid mac1 (test/support/flood.ts),
 * at --rate initiations a second in all (the issue's attack, 80,000; 0: as fast as it
 * can). Per daemon and round, alternating, iperf3 (one
 * TCP stream for --seconds) through the tunnel:
 *   calm     no flood
 *   control  the flood aimed at a closed UDP port of the responder's underlay address
 *            (same flooder cost, no handshake work for the daemon)
 *   flood    the flood aimed at the responder's WireGuard port
 * Reported: Gbit/s of each, kept = flood/control and flood/calm, flood packets sent per
 * second, the responder's drops by reason during the flood (ferry's control socket;
 * wireguard-go has none), its RSS before and after.
 * Last line:
 * {"bench":"flood","metric":"kept_share","value":<ferry flood/control>,"unit":"ratio","baseline":<wireguard-go flood/control>,"ratio":…}
 */
import { execFileSync } from 'node:child_process';
import { controlRequest } from '../src/control/control-client.js';
import { addFlooder, type FloodResult, type Flooder } from '../test/support/flood.js';
import { requireHost } from '../test/support/netns.js';
import { wgPair, type WgPeer } from '../test/support/wg.js';
import { benchScope, numberOption, runBench } from './lib/bench-scope.js';
import { iperf, rssMiB } from './lib/iperf.js';
import { jsonLines, median, round } from './lib/json-lines.js';

const emit = jsonLines('flood');
const SECONDS = numberOption('seconds', 10);
const ROUNDS = numberOption('rounds', 2);
const RATE = numberOption('rate', 80_000);
/** Nothing listens there in the responder's namespace. */
const CLOSED_PORT = 9;
const { scope, cleanup } = benchScope();

type Phase = 'calm' | 'control' | 'flood';

interface Subject {
  name: 'ferry' | 'wireguard-go';
  a: WgPeer;
  b: WgPeer;
  flooder: Flooder;
  gbps: Record<Phase, number[]>;
  floodRates: Record<Exclude<Phase, 'calm'>, number[]>;
}

async function dropsByReason(peer: WgPeer): Promise<Record<string, number>> {
  if (peer.impl !== 'ferry') return {};
  return ((await controlRequest(peer.ifname, 'drops')) as { total: Record<string, number> }).total;
}

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}

/** iperf3 through the subject's tunnel, with the flood at `port` running for all of it (or none). */
async function measure(s: Subject, port: number | null): Promise<{ gbps: number; flood: FloodResult | null }> {
  // The flood starts before iperf3 and ends after it, so the whole transfer sees it.
  const run = port === null ? null : await s.flooder.start({ port, seconds: SECONDS + 30, rate: RATE });
  try {
    if (run) await new Promise((r) => setTimeout(r, 500));
    const r = await iperf(s.a, s.b, SECONDS);
    return { gbps: r.gbps, flood: run ? (run.stop(), await run.done) : null };
  } finally {
    run?.stop();
  }
}

async function round1(s: Subject, r: number): Promise<void> {
  const calm = await measure(s, null);
  const control = await measure(s, CLOSED_PORT);
  const rss0 = rssMiB(s.b.pid);
  const drops0 = await dropsByReason(s.b);
  const flood = await measure(s, s.b.listenPort);
  const drops = delta(await dropsByReason(s.b), drops0);
  const rss1 = rssMiB(s.b.pid);
  // The tunnel must still carry traffic after the flood (and its under-load second) is over.
  await new Promise((res) => setTimeout(res, 1500));
  s.a.ns.run('ping', ['-c', '2', '-i', '0.2', '-W', '5', s.b.inner4], { timeout: 30_000 });
  s.gbps.calm.push(calm.gbps);
  s.gbps.control.push(control.gbps);
  s.gbps.flood.push(flood.gbps);
  s.floodRates.control.push(control.flood?.rate ?? 0);
  s.floodRates.flood.push(flood.flood?.rate ?? 0);
  emit({
    run: s.name,
    round: r,
    gbps: { calm: round(calm.gbps, 3), control: round(control.gbps, 3), flood: round(flood.gbps, 3) },
    kept_vs_control: round(flood.gbps / control.gbps, 3),
    kept_vs_calm: round(flood.gbps / calm.gbps, 3),
    flood_pps: { control: control.flood?.rate, flood: flood.flood?.rate },
    flood_send_blocked: { control: control.flood?.blocked, flood: flood.flood?.blocked },
    responder_drops: s.name === 'ferry' ? drops : 'wireguard-go exposes no drop counters',
    responder_rss_mib: { before: round(rss0, 1), after: round(rss1, 1) },
  });
}

async function main(): Promise<void> {
  if (!requireHost({ skip: (m) => { throw new Error(`flood bench ${m}`); } }, ['wg', 'wireguard-go', 'iperf3', 'ping'])) return;
  execFileSync('npm', ['run', '--silent', 'build:ts'], { stdio: 'inherit' });
  const subjects: Subject[] = [];
  for (const name of ['ferry', 'wireguard-go'] as const) {
    const { a, b } = await wgPair(scope, { left: name, right: name, compiled: true });
    a.ns.run('ping', ['-c', '2', '-i', '0.2', '-W', '5', b.inner4]);
    subjects.push({ name, a, b, flooder: addFlooder(scope, b), gbps: { calm: [], control: [], flood: [] }, floodRates: { control: [], flood: [] } });
  }
  emit({ setup: 'two pairs up, a flooder per responder', seconds: SECONDS, rounds: ROUNDS, rate: RATE || 'max', sources: subjects[0].flooder.sources.length, machine: { cores: 2, kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(), node: process.version } });
  for (let r = 0; r < ROUNDS; r++) for (const s of subjects) await round1(s, r);

  const kept = (s: Subject, over: Phase): number => median(s.gbps.flood.map((g, i) => g / s.gbps[over][i]));
  for (const s of subjects) {
    emit({
      summary: s.name,
      gbps_median: { calm: round(median(s.gbps.calm), 3), control: round(median(s.gbps.control), 3), flood: round(median(s.gbps.flood), 3) },
      kept_vs_control: round(kept(s, 'control'), 3),
      kept_vs_calm: round(kept(s, 'calm'), 3),
      flood_pps_median: { control: median(s.floodRates.control), flood: median(s.floodRates.flood) },
    });
  }
  const [ferry, go] = subjects;
  const value = kept(ferry, 'control');
  const baseline = kept(go, 'control');
  await cleanup();
  emit({ metric: 'kept_share', value: round(value, 3), unit: 'ratio', baseline: round(baseline, 3), ratio: round(value / baseline, 3) });
}

runBench('flood', main, cleanup);
