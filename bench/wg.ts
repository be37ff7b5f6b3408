/**
 * npm run bench -- wg [--seconds 10] [--rounds 2] [--variants ferry,ferry-no-offload,wireguard-go]
 *
 * Tunnel pairs on identical topologies (two namespaces, veth underlay, inner MTU 1420), in
 * one run: `ferry` (default settings), `ferry-no-offload` (`FerryOffload = off`; included
 * when this build's config knows the key, or when --variants names it) and `wireguard-go`
 * (4 MiB socket buffers, as ferryd asks for). Per round and case the variants take turns:
 * iperf3 TCP forward, reverse (-R) and 4 streams (-P 4), each with both daemons' CPU time
 * per GB delivered (/proc/PID/stat), which other load on a shared machine moves less than
 * Gbit/s; then UDP 64-byte datagrams as fast as iperf3 sends (received pps and loss). Also:
 * ping RTT p50/p99, ferryd's RSS under load, and CPU per GB against ChaCha20-Poly1305 alone
 * (the native batch seal + open measured in this process). Last line:
 * {"bench":"wg","metric":"tcp_throughput","value":<ferry Gbit/s>,"unit":"Gbit/s","baseline":<wireguard-go Gbit/s>,"ratio":…}
 */
import { execFileSync } from 'node:child_process';
import { requireHost } from '../test/support/netns.js';
import { wgPair, type WgPeer } from '../test/support/wg.js';
import { parseConfig } from '../src/config/parse.js';
import { iperf, iperfUdpPps, rssMiB, type IperfCase } from './lib/iperf.js';
import { aeadSecondsPerGB } from './lib/aead-cost.js';
import { benchScope, numberOption, runBench } from './lib/bench-scope.js';
import { jsonLines, median, round } from './lib/json-lines.js';

const emit = jsonLines('wg');
const SECONDS = numberOption('seconds', 10);
const ROUNDS = numberOption('rounds', 2);
const { scope, cleanup } = benchScope();

const VARIANTS = ['ferry', 'ferry-no-offload', 'wireguard-go'] as const;
type Variant = (typeof VARIANTS)[number];
const TCP_CASES: Record<string, IperfCase> = { forward: {}, reverse: { reverse: true }, 'parallel-4': { parallel: 4 } };

/** Does this build's config reader know FerryOffload? (It is an error where it does not.) */
function offloadKeyKnown(): boolean {
  try {
    return (parseConfig('[Interface]\nFerryOffload = off\n').interface as { offload?: unknown }).offload === false;
  } catch {
    return false;
  }
}

function variantsOption(argv = process.argv.slice(2)): Variant[] {
  const i = argv.indexOf('--variants');
  if (i < 0) return VARIANTS.filter((v) => v !== 'ferry-no-offload' || offloadKeyKnown());
  const named = (argv[i + 1] ?? '').split(',').filter((v) => v !== '');
  for (const v of named) if (!(VARIANTS as readonly string[]).includes(v)) throw new Error(`--variants: unknown variant ${v} (known: ${VARIANTS.join(', ')})`);
  return named as Variant[];
}

function pingRtts(a: WgPeer, b: WgPeer, count = 200): { p50: number; p99: number } {
  const out = a.ns.run('ping', ['-c', String(count), '-i', '0.01', '-W', '2', b.inner4], { timeout: 60_000 });
  const rtts = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((x, y) => x - y);
  return { p50: rtts[Math.floor(rtts.length * 0.5)], p99: rtts[Math.min(rtts.length - 1, Math.floor(rtts.length * 0.99))] };
}

async function pairFor(v: Variant): Promise<{ a: WgPeer; b: WgPeer }> {
  if (v === 'wireguard-go') return wgPair(scope, { left: 'wireguard-go', right: 'wireguard-go' });
  return wgPair(scope, { left: 'ferry', right: 'ferry', compiled: true, ferryInterface: v === 'ferry-no-offload' ? ['FerryOffload = off'] : [] });
}

/** Results per variant and case: Gbit/s and CPU s/GB for TCP, pps for UDP. */
type Series = Map<string, number[]>;
const push = (s: Series, key: string, x: number) => s.set(key, [...(s.get(key) ?? []), x]);

async function main(): Promise<void> {
  if (!requireHost({ skip: (m) => { throw new Error(`wg bench ${m}`); } }, ['wg', 'wireguard-go', 'iperf3', 'ping'])) return;
  const variants = variantsOption();
  if (!variants.includes('ferry') || !variants.includes('wireguard-go')) throw new Error('--variants must include ferry and wireguard-go (the headline compares them)');
  execFileSync('npm', ['run', '--silent', 'build:ts'], { stdio: 'inherit' });
  const crypto0 = aeadSecondsPerGB();
  const pairs = new Map<Variant, { a: WgPeer; b: WgPeer }>();
  for (const v of variants) pairs.set(v, await pairFor(v));
  for (const p of pairs.values()) p.a.ns.run('ping', ['-c', '2', '-i', '0.2', '-W', '5', p.b.inner4]);
  emit({ setup: 'pairs up', variants, seconds: SECONDS, rounds: ROUNDS, machine: { cores: 2, kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(), node: process.version } });

  const gbps: Series = new Map();
  const cpu: Series = new Map();
  const pps: Series = new Map();
  const ferryPid = (pairs.get('ferry') as { a: WgPeer }).a.pid;
  let rssMax = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, c] of Object.entries(TCP_CASES)) {
      for (const v of variants) {
        const p = pairs.get(v) as { a: WgPeer; b: WgPeer };
        const res = await iperf(p.a, p.b, SECONDS, v === 'ferry' ? ferryPid : undefined, c);
        push(gbps, `${v}/${name}`, res.gbps);
        push(cpu, `${v}/${name}`, res.cpuSecondsPerGB);
        rssMax = Math.max(rssMax, res.rssMaxMiB ?? 0);
        emit({ run: v, round: r, case: `tcp-${name}`, gbps: round(res.gbps, 3), retransmits: res.retransmits, cpu_s_per_gb: round(res.cpuSecondsPerGB, 2), underlay_rcvbuf_errors: res.rcvbufErrors });
      }
    }
    for (const v of variants) {
      const p = pairs.get(v) as { a: WgPeer; b: WgPeer };
      const u = await iperfUdpPps(p.a, p.b, SECONDS, 64);
      push(pps, v, u.pps);
      emit({ run: v, round: r, case: 'udp-64', received_pps: Math.round(u.pps), sent_pps: Math.round(u.sentPps), loss_percent: round(u.lossPercent, 1) });
    }
  }

  const crypto = Math.min(crypto0.cpuSecondsPerGB, aeadSecondsPerGB().cpuSecondsPerGB);
  for (const v of variants) {
    const tcp = Object.fromEntries(Object.keys(TCP_CASES).map((n) => [n, { gbps: round(median(gbps.get(`${v}/${n}`) ?? []), 3), cpu_s_per_gb: round(median(cpu.get(`${v}/${n}`) ?? []), 2) }]));
    emit({ variant: v, tcp, udp_64_received_pps: Math.round(median(pps.get(v) ?? [])) });
  }
  // Both daemons' CPU per GB over the crypto alone (each byte sealed once and opened once): 1 would be a free datapath.
  const overCrypto = (v: Variant) => Object.fromEntries(Object.keys(TCP_CASES).map((n) => [n, round(median(cpu.get(`${v}/${n}`) ?? []) / crypto, 2)]));
  emit({ metric: 'cpu_per_gb_over_crypto', crypto_s_per_gb: round(crypto, 3), crypto_ns_per_1420_byte_packet: round(crypto * 1420, 0), ...Object.fromEntries(variants.map((v) => [v, overCrypto(v)])) });

  const ferry = pairs.get('ferry') as { a: WgPeer; b: WgPeer };
  const go = pairs.get('wireguard-go') as { a: WgPeer; b: WgPeer };
  emit({ metric: 'ping_rtt_ms', ferry: pingRtts(ferry.a, ferry.b), wireguard_go: pingRtts(go.a, go.b) });
  emit({ metric: 'ferryd_rss_mib', idle_after_load: round(rssMiB(ferryPid), 1), max_under_load: round(rssMax, 1) });
  // CPU of both daemons per GB delivered (TCP forward): lower is better, so the ratio is wireguard-go's over ferry's.
  const fc = median(cpu.get('ferry/forward') ?? []);
  const gc = median(cpu.get('wireguard-go/forward') ?? []);
  emit({ metric: 'cpu_per_gb', value: round(fc, 2), unit: 'CPU s/GB', baseline: round(gc, 2), ratio: round(gc / fc, 3) });
  const value = median(gbps.get('ferry/forward') ?? []);
  const baseline = median(gbps.get('wireguard-go/forward') ?? []);
  await cleanup();
  emit({ metric: 'tcp_throughput', value: round(value, 3), unit: 'Gbit/s', baseline: round(baseline, 3), ratio: round(value / baseline, 3) });
}

runBench('wg', main, cleanup);
