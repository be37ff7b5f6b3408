/**
 * npm run bench -- soak [--seconds 600] [--sample 5] [--mbps 100] [--warmup 60]
 *
 * A ferryd pair and a wireguard-go pair (the anchor) side by side, each under one
 * rate-limited iperf3 TCP stream (-b, steady on a shared machine) for the whole run, which
 * spans several rekeys (REKEY_AFTER_TIME is 120 s). Every few seconds: each daemon's RSS;
 * ferryd's V8 heap in use and buffer-pool slots in use (control socket `stats`); the latest
 * handshake of each side (`wg show latest-handshakes`), to see the rekeys happen. Reports
 * memory over time (first, last, max, slope per minute after the warm-up), pool use, the
 * throughput of the seconds around each rekey against the run's median, and ferryd's drops
 * by reason over the run. Last line:
 * {"bench":"soak","metric":"rss_growth_mib_per_min","value":<ferryd's>,"unit":"MiB/min","baseline":<wireguard-go's>,"ratio":…}
 */
import { execFileSync } from 'node:child_process';
import { controlRequest } from '../src/control/control-client.js';
import { requireHost } from '../test/support/netns.js';
import { wgPair, type WgPeer } from '../test/support/wg.js';
import { iperfPerSecond, rssMiB, type IperfSeconds } from './lib/iperf.js';
import { benchScope, numberOption, runBench } from './lib/bench-scope.js';
import { jsonLines, median, round } from './lib/json-lines.js';
import { summarize, type Sample } from './lib/series.js';

const emit = jsonLines('soak');
const SECONDS = numberOption('seconds', 600);
const SAMPLE_SECONDS = numberOption('sample', 5);
const MBPS = numberOption('mbps', 100);
const WARMUP_SECONDS = numberOption('warmup', 60);
/** Seconds either side of a handshake whose throughput counts as "around the rekey". */
const REKEY_WINDOW = 2;
/** A second below this share of the run's median is a collapse, not noise. */
const COLLAPSE_SHARE = 0.5;
/**
 * Drops a steady run counts, and why (found with `ferry capture --point drop`); any other
 * reason is listed as unexplained.
 */
const EXPLAINED_DROPS: Record<string, string> = {
  no_route: "the kernel's IPv6 router solicitations to ff02::2 on the tunnel interface (RFC 7559 backoff: 4, 8, 16… s apart, about 7 in 10 minutes); no peer's allowed IPs hold ff02::2",
};
const { scope, cleanup } = benchScope();

interface Watched {
  name: string;
  peer: WgPeer;
  rss: Sample[];
  heap: Sample[];
  pool: Sample[];
}

interface FerryStats {
  pool: { inUse: number; slots: number; exhausted: number };
  memory: { rss: number; heapUsed: number };
}

function latestHandshake(peer: WgPeer): number {
  const line = peer.ns.run('wg', ['show', peer.ifname, 'latest-handshakes']).trim();
  return Number(line.split(/\s+/)[1] ?? 0);
}

async function ferryDrops(peer: WgPeer): Promise<Record<string, number>> {
  return ((await controlRequest(peer.ifname, 'drops')) as { total: Record<string, number> }).total;
}

async function sample(w: Watched, t: number): Promise<Record<string, number>> {
  const rss = rssMiB(w.peer.pid);
  w.rss.push({ t, value: rss });
  if (w.peer.impl !== 'ferry') return { rss_mib: round(rss, 1) };
  const s = (await controlRequest(w.peer.ifname, 'stats')) as FerryStats;
  const heap = s.memory.heapUsed / 2 ** 20;
  w.heap.push({ t, value: heap });
  w.pool.push({ t, value: s.pool.inUse });
  return { rss_mib: round(rss, 1), heap_mib: round(heap, 1), pool_in_use: s.pool.inUse, pool_exhausted: s.pool.exhausted };
}

/** Distinct handshake times (Unix s) either side reported; one handshake seen a second apart by the two sides counts once. */
function distinctHandshakes(seen: Set<number>): number[] {
  const out: number[] = [];
  for (const h of [...seen].filter((x) => x > 0).sort((a, b) => a - b)) if (out.length === 0 || h - out[out.length - 1] > 3) out.push(h);
  return out;
}

/** Throughput in the seconds around each handshake made while iperf3 ran, against the run's median. */
function rekeyDips(handshakes: number[], run: IperfSeconds): Record<string, number>[] {
  const med = median(run.mbps);
  return handshakes
    .map((h) => h - run.startUnix)
    .filter((at) => at >= 0 && at < run.mbps.length)
    .map((at) => {
      const window = run.mbps.slice(Math.max(0, Math.floor(at) - REKEY_WINDOW), Math.floor(at) + REKEY_WINDOW + 1);
      const min = Math.min(...window);
      return { at_s: at, min_mbps: min, median_mbps: med, ratio: round(min / med, 3), collapsed_seconds: window.filter((x) => x < med * COLLAPSE_SHARE).length };
    });
}

function memoryReport(w: Watched): Record<string, unknown> {
  return {
    daemon: w.name,
    rss_mib: summarize(w.rss, WARMUP_SECONDS, 1),
    ...(w.heap.length > 0 ? { heap_mib: summarize(w.heap, WARMUP_SECONDS, 1), pool_in_use: summarize(w.pool, WARMUP_SECONDS, 0) } : {}),
  };
}

async function main(): Promise<void> {
  if (!requireHost({ skip: (m) => { throw new Error(`soak bench ${m}`); } }, ['wg', 'wireguard-go', 'iperf3', 'ping'])) return;
  execFileSync('npm', ['run', '--silent', 'build:ts'], { stdio: 'inherit' });
  const pairs = {
    ferry: await wgPair(scope, { left: 'ferry', right: 'ferry', compiled: true }),
    'wireguard-go': await wgPair(scope, { left: 'wireguard-go', right: 'wireguard-go' }),
  };
  for (const p of Object.values(pairs)) p.a.ns.run('ping', ['-c', '2', '-i', '0.2', '-W', '5', p.b.inner4]);
  emit({ setup: 'two pairs up', seconds: SECONDS, sample_seconds: SAMPLE_SECONDS, mbps: MBPS, warmup_seconds: WARMUP_SECONDS, machine: { cores: 2, kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(), node: process.version } });

  const watched: Watched[] = Object.entries(pairs).flatMap(([impl, p]) =>
    (['a', 'b'] as const).map((side) => ({ name: `${impl}-${side}`, peer: p[side], rss: [], heap: [], pool: [] })),
  );
  const handshakes = Object.fromEntries(Object.keys(pairs).map((k) => [k, new Set<number>()]));
  const dropsBefore = await ferryDrops(pairs.ferry.a);
  const dropsBeforeB = await ferryDrops(pairs.ferry.b);

  const started = Date.now();
  const runs = Promise.all([iperfPerSecond(pairs.ferry.a, pairs.ferry.b, SECONDS, MBPS), iperfPerSecond(pairs['wireguard-go'].a, pairs['wireguard-go'].b, SECONDS, MBPS)]);
  let done = false;
  void runs.finally(() => (done = true));
  while (!done) {
    const t = round((Date.now() - started) / 1000, 1);
    const line: Record<string, unknown> = { sample: t };
    for (const w of watched) line[w.name] = await sample(w, t);
    for (const [impl, p] of Object.entries(pairs)) for (const side of [p.a, p.b]) handshakes[impl].add(latestHandshake(side));
    emit(line);
    await Promise.race([runs, new Promise((r) => setTimeout(r, SAMPLE_SECONDS * 1000))]);
  }
  const [ferryRun, goRun] = await runs;

  for (const w of watched) emit({ metric: 'memory', ...memoryReport(w) });
  for (const [impl, run] of [['ferry', ferryRun], ['wireguard-go', goRun]] as const) {
    const hs = distinctHandshakes(handshakes[impl]);
    // The first is the session's own handshake (the setup's ping), not a rekey.
    const dips = rekeyDips(hs.slice(1), run);
    emit({ metric: 'rekeys', impl, handshakes_seen: hs.length, rekeys_during_run: dips.length, rekeys_with_collapse: dips.filter((d) => d.collapsed_seconds > 0).length, median_mbps: median(run.mbps), min_mbps: Math.min(...run.mbps), seconds: run.mbps.length, dips });
    emit({ metric: 'throughput_per_second', impl, mbps: run.mbps });
  }
  for (const [side, before] of [['a', dropsBefore], ['b', dropsBeforeB]] as const) {
    const after = await ferryDrops(pairs.ferry[side]);
    const delta = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
    const unexplained = Object.fromEntries(Object.entries(delta).filter(([k]) => !(k in EXPLAINED_DROPS)));
    const explained = Object.fromEntries(Object.keys(delta).filter((k) => k in EXPLAINED_DROPS).map((k) => [k, EXPLAINED_DROPS[k]]));
    emit({ metric: 'drops', daemon: `ferry-${side}`, during_run: delta, unexplained, explained, total: after });
  }
  // The worse side of each pair: a leak shows on whichever side holds it.
  const growth = (impl: string): number => Math.max(...watched.filter((w) => w.name.startsWith(impl)).map((w) => summarize(w.rss, WARMUP_SECONDS).slopePerMin));
  const value = growth('ferry');
  const baseline = growth('wireguard-go');
  await cleanup();
  // Less growth is better: the ratio is wireguard-go's over ferry's (slopes near zero make it jumpy; read the slopes).
  emit({ metric: 'rss_growth_mib_per_min', value: round(value, 3), unit: 'MiB/min', baseline: round(baseline, 3), ratio: round(baseline / value, 3) });
}

runBench('soak', main, cleanup);
