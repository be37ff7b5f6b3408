/**
 * Netns benchmark of the load balancer: new TCP connections per second, and the connect
 * time of one connection (its first packet's trip through the balancer), through a VIP
 * with 1, 1,000 and 10,000 services configured, for ferry and for the iptables ruleset
 * kube-proxy's iptables mode builds for the same services (bench/lib/kube-proxy-rules.ts),
 * the measured service last in KUBE-SERVICES. Both in one run, rounds alternating.
 *
 *   client ns ── veth ── ferry ns: VIP range → TUN → ferry's LB (bench/lb-node.ts) ── veth ── backend ns
 *   client ns ── veth ── iptables ns: KUBE-SERVICES → KUBE-SVC-* → KUBE-SEP-* DNAT, masquerade ── veth ── backend ns
 *
 * The measured service has three backends (three addresses of the backend namespace,
 * one C server that accepts and closes): Maglev picks for ferry, `statistic --mode random` for iptables. Both
 * translate the source (ferry: SnatAddress; kube-proxy: KUBE-MARK-MASQ for clients off
 * the cluster CIDR). The client (bench/lib/lb-conn-blaster.c, built here with cc) keeps
 * CONCURRENCY non-blocking connects in flight and resets each once connected.
 *
 *   npm run bench -- lb [--seconds 3] [--rounds 3] [--concurrency 32] [--latency 2000] [--counts 1,1000,10000]
 *
 * Needs root, ip, iptables-restore and cc. Prints JSON lines; the last is
 * {"bench":"lb","metric":"conn_rate_10k_services","value":ferry,"unit":"conn/s","baseline":iptables,"ratio":…,"flatness":ferry(10,000)/ferry(1)}.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTool, isRoot, Netns, run, uniqueName, vethPair } from '../test/support/netns.js';
import { parseArgs } from './lib/control.js';
import { jsonLines, median, round } from './lib/json-lines.js';
import { kubeProxyRules, type BenchService } from './lib/kube-proxy-rules.js';
import { LineChild } from './lib/line-child.js';

const emit = jsonLines('lb');
const args = { seconds: '3', rounds: '3', concurrency: '32', latency: '2000', counts: '1,1000,10000', ...parseArgs(process.argv.slice(2), []) };
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const CONC = Number(args.concurrency);
const LATENCY = Number(args.latency);
const COUNTS = String(args.counts).split(',').map(Number);
const VIP = '10.96.200.1';
const BACKENDS = ['10.0.1.2', '10.0.1.3', '10.0.1.4'];

const children = new Set<LineChild>();
const spaces: Netns[] = [];
const dir = mkdtempSync(join(tmpdir(), 'ferry-lb-bench-'));
const BLASTER = join(dir, 'lb-conn-blaster');
function cleanup(): void {
  for (const c of children) c.kill();
  children.clear();
  for (const ns of spaces.splice(0)) ns.destroy();
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

function start(label: string, ns: Netns, script: string, argv: string[]): LineChild {
  const c = new LineChild(label, ns, script, argv);
  children.add(c);
  c.child.once('exit', () => children.delete(c));
  return c;
}

function namespace(prefix: string): Netns {
  const ns = new Netns(prefix);
  spaces.push(ns);
  return ns;
}

/** client ─ mid ─ backend, with a server on the backend's three addresses. */
async function triplet(tag: string): Promise<{ client: Netns; mid: Netns }> {
  const client = namespace(`lb${tag}c`);
  const mid = namespace(`lb${tag}m`);
  const backend = namespace(`lb${tag}b`);
  mid.run('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  vethPair(client, '10.200.0.2/24', mid, '10.200.0.1/24');
  const b = vethPair(backend, `${BACKENDS[0]}/24`, mid, '10.0.1.1/24');
  for (const a of BACKENDS.slice(1)) backend.run('ip', ['addr', 'add', `${a}/24`, 'dev', b.a]);
  client.run('ip', ['route', 'add', 'default', 'via', '10.200.0.1']);
  backend.run('ip', ['route', 'add', 'default', 'via', '10.0.1.1']);
  const server = backend.spawn(BLASTER, ['serve', '8080']);
  await new Promise<void>((resolve, reject) => {
    server.stdout!.once('data', () => resolve());
    server.once('exit', (code) => reject(new Error(`backend server exited ${code}`)));
  });
  return { client, mid };
}

function services(n: number): BenchService[] {
  const out: BenchService[] = [];
  for (let i = 0; i < n - 1; i++) out.push({ name: `s${i}`, vip: `10.96.${i >> 8}.${i & 255}`, port: 80, backends: [{ ip: `10.1.${i >> 8}.${i & 255}`, port: 8080 }] });
  out.push({ name: 'measured', vip: VIP, port: 80, backends: BACKENDS.map((ip) => ({ ip, port: 8080 })) });
  return out;
}

function ferryConfig(list: BenchService[]): string {
  let text = '[FerryLb]\nServiceRange = 10.96.0.0/16\nSnatAddress = 10.96.255.254\nConntrackMax = 262144\n';
  for (const s of list) text += `[FerryService]\nName = ${s.name}\nAddress = ${s.vip}:${s.port}\n${s.backends.map((b) => `Backend = ${b.ip}:${b.port}\n`).join('')}`;
  return text;
}

/** CPU seconds (user + system) a process has used (/proc/PID/stat). */
function cpuSeconds(pid: number): number {
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

function client(ns: Netns, argv: string[], timeoutMs: number): Record<string, number> {
  return JSON.parse(ns.run(BLASTER, argv, { timeout: timeoutMs })) as Record<string, number>;
}

async function main(): Promise<void> {
  if (!isRoot() || !hasTool('ip') || !hasTool('iptables-restore') || !hasTool('cc')) {
    console.error('npm run bench -- lb needs root, ip (iproute2), iptables-restore and cc');
    process.exit(2);
  }
  execFileSync('cc', ['-O2', '-Wall', '-o', BLASTER, 'bench/lib/lb-conn-blaster.c'], { stdio: 'inherit' });
  emit({ setup: { seconds: SECONDS, rounds: ROUNDS, concurrency: CONC, latencyCount: LATENCY, counts: COUNTS, iptables: run('iptables-restore', ['--version']).trim() } });
  const ferry = await triplet('f');
  const ipt = await triplet('i');
  const tun = uniqueName('lbbt');
  let n = 0;
  const write = (text: string) => {
    const path = join(dir, `c${n++}`);
    writeFileSync(path, text);
    return path;
  };
  const lb = start('ferry', ferry.mid, 'bench/lb-node.ts', [tun, write(ferryConfig(services(1)))]);
  const pid = (await lb.next(60_000)).pid as number;
  ferry.mid.run('ip', ['addr', 'add', '10.96.255.253/32', 'dev', tun]);
  ferry.mid.run('ip', ['route', 'add', '10.96.0.0/16', 'dev', tun]);

  const systems = { ferry: ferry.client, iptables: ipt.client } as const;
  const rates: Record<string, Record<number, number>> = { ferry: {}, iptables: {} };
  const latencies: Record<string, Record<number, number>> = { ferry: {}, iptables: {} };
  const cpuPerConn: Record<number, number> = {};
  for (const count of COUNTS) {
    const list = services(count);
    const t0 = performance.now();
    await lb.ask(`apply ${write(ferryConfig(list))}`, 300_000);
    const ferryApplyMs = performance.now() - t0;
    const t1 = performance.now();
    ipt.mid.run('iptables-restore', [], { input: kubeProxyRules(list), timeout: 300_000 });
    const iptRestoreMs = performance.now() - t1;
    emit({ services: count, ferryApplyMs: round(ferryApplyMs, 0), iptablesRestoreMs: round(iptRestoreMs, 0) });
    for (const [name, ns] of Object.entries(systems)) {
      const check = client(ns, ['latency', VIP, '80', '20'], 30_000);
      if (check.errors !== 0 || check.count !== 20) throw new Error(`${name} with ${count} services does not serve: ${JSON.stringify(check)}`);
      client(ns, ['rate', VIP, '80', '1', String(CONC)], 30_000); // warm-up
    }
    const samples: Record<string, number[]> = { ferry: [], iptables: [] };
    const cpu: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? (['ferry', 'iptables'] as const) : (['iptables', 'ferry'] as const);
      for (const name of order) {
        const c0 = cpuSeconds(pid);
        const res = client(systems[name], ['rate', VIP, '80', String(SECONDS), String(CONC)], SECONDS * 1000 + 60_000);
        samples[name].push(res.rate);
        // ferry's own CPU per connection: less sensitive than the rate to other load on the machine.
        const extra: Record<string, number> = {};
        if (name === 'ferry') {
          extra.cpuUsPerConn = round(((cpuSeconds(pid) - c0) * 1e6) / res.conns, 1);
          cpu.push(extra.cpuUsPerConn);
        }
        emit({ run: { system: name, services: count, round: r, ...res, ...extra } });
      }
    }
    cpuPerConn[count] = median(cpu);
    for (const name of ['ferry', 'iptables'] as const) {
      const lat = client(systems[name], ['latency', VIP, '80', String(LATENCY)], 120_000);
      rates[name][count] = median(samples[name]);
      latencies[name][count] = lat.medianUs;
      const own = name === 'ferry' ? { cpuUsPerConn: cpuPerConn[count] } : {};
      emit({ summary: { system: name, services: count, connRate: rates[name][count], connectMedianUs: lat.medianUs, connectP90Us: lat.p90Us, errors: lat.errors, ...own } });
    }
  }
  const stats = (await lb.ask('stats', 10_000)).stats as { drops: Record<string, number> };
  emit({ ferryDrops: stats.drops });
  await lb.stop();
  const top = COUNTS[COUNTS.length - 1];
  emit({ ferryCpuPerConn: cpuPerConn, cpuFlatness: round(cpuPerConn[top] / cpuPerConn[COUNTS[0]], 3), latencyFlatness: round(latencies.ferry[top] / latencies.ferry[COUNTS[0]], 3) });
  const value = rates.ferry[top];
  const baseline = rates.iptables[top];
  emit({
    metric: 'conn_rate_10k_services',
    value,
    unit: 'conn/s',
    baseline,
    ratio: round(value / baseline, 3),
    flatness: round(value / rates.ferry[COUNTS[0]], 3),
  });
}

main().then(
  () => {
    cleanup();
    process.exit(0);
  },
  (err: unknown) => {
    console.error(err);
    cleanup();
    process.exit(1);
  },
);
