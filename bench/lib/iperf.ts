/** iperf3 through a tunnel pair, with both daemons' CPU time per GB delivered (bench wg, bench capture). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { WgPeer } from '../../test/support/wg.js';
import { round } from './json-lines.js';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** UDP datagrams the kernel dropped in a namespace because a socket's receive buffer was full (/proc/net/snmp RcvbufErrors). */
function udpRcvbufErrors(peer: WgPeer): number {
  const udp = peer.ns.run('cat', ['/proc/net/snmp']).split('\n').filter((l) => l.startsWith('Udp:'));
  if (udp.length < 2) return 0;
  const names = udp[0].trim().split(/\s+/);
  const values = udp[1].trim().split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')] ?? 0);
}

export interface IperfResult {
  gbps: number;
  /** Underlay datagrams dropped at a full socket receive buffer, both namespaces (the tunnel daemons' sockets, for TCP). */
  rcvbufErrors: number;
  retransmits: number;
  /** Both daemons' CPU time per GB delivered: less sensitive than Gbit/s to other load on the machine. */
  cpuSecondsPerGB: number;
  rssMaxMiB?: number;
}

/** One iperf3 run from a to b (server on b's inner address); resolves with the client's JSON text. */
async function iperfJson(a: WgPeer, b: WgPeer, clientArgs: string[], onStart?: () => void): Promise<string> {
  const server = b.ns.spawn('iperf3', ['-s', '-1', '-B', b.inner4]);
  await new Promise((r) => setTimeout(r, 300));
  onStart?.();
  try {
    return await new Promise<string>((resolve, reject) => {
      const c = a.ns.spawn('iperf3', ['-c', b.inner4, '-J', ...clientArgs]);
      let out = '';
      c.stdout?.on('data', (d) => (out += d));
      c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`iperf3 exited ${code}: ${out.slice(0, 500)}`))));
    });
  } finally {
    server.kill();
  }
}

/** What iperf3 runs: TCP (one stream or `parallel`, `reverse` for -R) or UDP datagrams of `udpBytes` as fast as it can (-b 0). */
export interface IperfCase {
  reverse?: boolean;
  parallel?: number;
  udpBytes?: number;
}

interface IperfJson {
  end: {
    sum_received: { bits_per_second: number; bytes: number; seconds: number; lost_percent?: number };
    sum_sent: { retransmits?: number; packets?: number };
  };
}

function caseArgs(c: IperfCase): string[] {
  const args: string[] = [];
  if (c.reverse) args.push('-R');
  if (c.parallel !== undefined && c.parallel > 1) args.push('-P', String(c.parallel));
  if (c.udpBytes !== undefined) args.push('-u', '-l', String(c.udpBytes), '-b', '0');
  return args;
}

/** Runs iperf3 from a to b; cpu is both daemons' CPU seconds while it ran. */
async function runIperf(a: WgPeer, b: WgPeer, seconds: number, c: IperfCase, watchPid?: number): Promise<{ j: IperfJson; cpu: number; rssMax: number; rcvbufErrors: number }> {
  let drops0 = 0;
  let cpu0 = 0;
  let rssMax = 0;
  const timer = watchPid ? setInterval(() => (rssMax = Math.max(rssMax, rssMiB(watchPid))), 250) : undefined;
  try {
    const text = await iperfJson(a, b, ['-t', String(seconds), ...caseArgs(c)], () => {
      drops0 = udpRcvbufErrors(a) + udpRcvbufErrors(b);
      cpu0 = cpuSeconds(a.pid) + cpuSeconds(b.pid);
    });
    const cpu = cpuSeconds(a.pid) + cpuSeconds(b.pid) - cpu0;
    return { j: JSON.parse(text) as IperfJson, cpu, rssMax, rcvbufErrors: udpRcvbufErrors(a) + udpRcvbufErrors(b) - drops0 };
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** A TCP case (forward by default): received Gbit/s, retransmits, both daemons' CPU per GB. */
export async function iperf(a: WgPeer, b: WgPeer, seconds: number, watchPid?: number, c: IperfCase = {}): Promise<IperfResult> {
  const { j, cpu, rssMax, rcvbufErrors } = await runIperf(a, b, seconds, c, watchPid);
  return {
    gbps: j.end.sum_received.bits_per_second / 1e9,
    rcvbufErrors,
    retransmits: j.end.sum_sent.retransmits ?? 0,
    cpuSecondsPerGB: cpu / (j.end.sum_received.bytes / 1e9),
    ...(watchPid ? { rssMaxMiB: round(rssMax, 1) } : {}),
  };
}

/** UDP datagrams of `bytes` payload as fast as iperf3 sends them: packets per second received and the loss. */
export async function iperfUdpPps(a: WgPeer, b: WgPeer, seconds: number, bytes = 64): Promise<{ pps: number; lossPercent: number; sentPps: number }> {
  const { j } = await runIperf(a, b, seconds, { udpBytes: bytes });
  const r = j.end.sum_received;
  const sent = j.end.sum_sent.packets ?? 0;
  return { pps: r.bytes / bytes / r.seconds, lossPercent: r.lost_percent ?? 0, sentPps: sent / r.seconds };
}

export interface IperfSeconds {
  /** Unix time (s) of the receiver's first interval. */
  startUnix: number;
  /** Mbit/s delivered in each second, as the receiver counted it. */
  mbps: number[];
}

interface IperfIntervals {
  start: { timestamp: { timesecs: number } };
  intervals: { sum: { bits_per_second: number } }[];
}

/** A long rate-limited TCP run (-b) reporting every second (-i 1) what the receiver got (bench soak). */
export async function iperfPerSecond(a: WgPeer, b: WgPeer, seconds: number, mbps: number): Promise<IperfSeconds> {
  const text = await iperfJson(a, b, ['-t', String(seconds), '-i', '1', '-b', `${mbps}M`, '--get-server-output']);
  const j = JSON.parse(text) as IperfIntervals & { server_output_json?: IperfIntervals };
  const receiver = j.server_output_json ?? j;
  return { startUnix: receiver.start.timestamp.timesecs, mbps: receiver.intervals.map((i) => round(i.sum.bits_per_second / 1e6, 1)) };
}
