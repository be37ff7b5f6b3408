/**
 * npm run bench -- vxlan [--seconds 10] [--rounds 2]
 *
 * A ferry VTEP pair and a kernel vxlan pair on identical topologies (two namespaces, veth
 * underlay, VNI 1, port 8472, inner MTU 1450, flannel's addressing), in one run: iperf3
 * TCP through each (single stream, alternating rounds), then 64-byte UDP packets per
 * second through each (iperf3 -u -l 64 -b 0, packets the receiver got). Last line:
 * {"bench":"vxlan","metric":"tcp_throughput","value":<ferry Gbit/s>,"unit":"Gbit/s","baseline":<kernel Gbit/s>,"ratio":…}
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { netns, requireHost, vethPair, type Netns } from '../test/support/netns.js';
import { ferryConfig, kernelVtep, programFlannelPeer, startFerryVtep } from '../test/support/vxlan-host.js';
import { jsonLines, median, round } from './lib/json-lines.js';
import { benchScope, numberOption, runBench } from './lib/bench-scope.js';

const emit = jsonLines('vxlan');
const SECONDS = numberOption('seconds', 10);
const ROUNDS = numberOption('rounds', 2);
const PPS_SECONDS = numberOption('pps-seconds', 5);
const { scope, cleanup } = benchScope();

interface Side {
  ns: Netns;
  /** Its VTEP address (flannel: SUBNET.0), which iperf3 binds to. */
  inner: string;
  pid?: number;
  /** ferry's counters (drops by reason), for the account after the runs. */
  stats?: () => Promise<unknown>;
}

const NODES = [
  { underlay: '10.204.0.1', subnet: '10.244.1.0/24', vtep: '10.244.1.0', mac: '02:b0:00:00:01:01' },
  { underlay: '10.204.0.2', subnet: '10.244.2.0/24', vtep: '10.244.2.0', mac: '02:b0:00:00:02:02' },
];

function underlay(prefix: string): { a: Netns; b: Netns; devs: [string, string] } {
  const a = netns(scope, `${prefix}a`);
  const b = netns(scope, `${prefix}b`);
  const { a: da, b: db } = vethPair(a, `${NODES[0].underlay}/24`, b, `${NODES[1].underlay}/24`);
  return { a, b, devs: [da, db] };
}

async function ferryPair(): Promise<[Side, Side]> {
  const { a, b } = underlay('fbxf');
  const sides: Side[] = [];
  for (const [i, ns] of [a, b].entries()) {
    const self = NODES[i];
    const other = NODES[1 - i];
    const conf = ferryConfig({ addresses: [`${self.vtep}/32`], local: self.underlay, mac: self.mac, peers: [{ remote: other.underlay, mac: other.mac, subnets: [other.subnet] }] });
    const v = await startFerryVtep(scope, ns, conf, { addresses: [`${self.vtep}/32`], routes: [other.subnet] });
    sides.push({ ns, inner: self.vtep, pid: v.pid, stats: () => v.stats() });
  }
  return [sides[0], sides[1]];
}

function kernelPair(): [Side, Side] {
  const { a, b, devs } = underlay('fbxk');
  return [a, b].map((ns, i) => {
    const self = NODES[i];
    const other = NODES[1 - i];
    const dev = kernelVtep(ns, { vni: 1, port: 8472, local: self.underlay, dev: devs[i], mac: self.mac, addresses: [`${self.vtep}/32`] });
    programFlannelPeer(ns, dev, { subnet: other.subnet, gateway: other.vtep, mac: other.mac, remote: other.underlay });
    return { ns, inner: self.vtep };
  }) as [Side, Side];
}

/** RSS of the ferry runner (`ip netns exec` execs node, so the child's pid is node's). */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function iperf(a: Side, b: Side, args: string[], seconds: number): Promise<Record<string, unknown>> {
  const server = b.ns.spawn('iperf3', ['-s', '-1', '-B', b.inner]);
  await new Promise((r) => setTimeout(r, 300));
  const text = await new Promise<string>((resolve, reject) => {
    const c = a.ns.spawn('iperf3', ['-c', b.inner, '-B', a.inner, '-t', String(seconds), '-J', ...args]);
    let out = '';
    c.stdout?.on('data', (d) => (out += d));
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`iperf3 exited ${code}: ${out.slice(0, 500)}`))));
  });
  server.kill();
  return JSON.parse(text) as Record<string, unknown>;
}

async function tcp(a: Side, b: Side): Promise<{ gbps: number; retransmits: number; rssMaxMiB?: number }> {
  let rssMax = 0;
  const timer = a.pid ? setInterval(() => (rssMax = Math.max(rssMax, rssMiB(a.pid!))), 250) : undefined;
  const j = (await iperf(a, b, [], SECONDS)) as { end: { sum_received: { bits_per_second: number }; sum_sent: { retransmits?: number } } };
  if (timer) clearInterval(timer);
  return { gbps: j.end.sum_received.bits_per_second / 1e9, retransmits: j.end.sum_sent.retransmits ?? 0, ...(a.pid ? { rssMaxMiB: round(rssMax, 1) } : {}) };
}

async function pps(a: Side, b: Side): Promise<{ sentKpps: number; receivedKpps: number }> {
  const j = (await iperf(a, b, ['-u', '-l', '64', '-b', '0'], PPS_SECONDS)) as { end: { sum_sent: { packets: number; seconds: number }; sum_received: { bytes: number; seconds: number } } };
  const s = j.end.sum_sent;
  const r = j.end.sum_received;
  return { sentKpps: round(s.packets / s.seconds / 1000, 1), receivedKpps: round(r.bytes / 64 / r.seconds / 1000, 1) };
}

async function main(): Promise<void> {
  if (!requireHost({ skip: (m) => { throw new Error(`vxlan bench ${m}`); } }, ['iperf3', 'ping', 'bridge'])) return;
  const ferry = await ferryPair();
  const kernel = kernelPair();
  for (const [a, b] of [ferry, kernel]) a.ns.run('ping', ['-c', '2', '-i', '0.2', '-W', '5', b.inner]);
  emit({ setup: 'two pairs up', seconds: SECONDS, rounds: ROUNDS, inner_mtu: 1450, machine: { cores: 2, kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(), node: process.version } });

  const ferryRuns: number[] = [];
  const kernelRuns: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const f = await tcp(ferry[0], ferry[1]);
    ferryRuns.push(f.gbps);
    emit({ run: 'ferry', round: r, gbps: round(f.gbps, 3), retransmits: f.retransmits, sender_rss_max_mib: f.rssMaxMiB });
    const k = await tcp(kernel[0], kernel[1]);
    kernelRuns.push(k.gbps);
    emit({ run: 'kernel', round: r, gbps: round(k.gbps, 3), retransmits: k.retransmits });
  }
  emit({ metric: 'udp64_pps', ferry: await pps(ferry[0], ferry[1]), kernel: await pps(kernel[0], kernel[1]) });
  for (const [i, side] of ferry.entries()) emit({ ferry_vtep: i === 0 ? 'sender' : 'receiver', counters: await side.stats?.() });
  const value = median(ferryRuns);
  const baseline = median(kernelRuns);
  await cleanup();
  emit({ metric: 'tcp_throughput', value: round(value, 3), unit: 'Gbit/s', baseline: round(baseline, 3), ratio: round(value / baseline, 3) });
}

runBench('vxlan', main, cleanup);
