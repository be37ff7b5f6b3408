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

export interface IperfResult {
  gbps: number;
  retransmits: number;
  /** Both daemons' CPU time per GB delivered: less sensitive than Gbit/s to other load on the machine. */
  cpuSecondsPerGB: number;
  rssMaxMiB?: number;
}

export async function iperf(a: WgPeer, b: WgPeer, seconds: number, watchPid?: number): Promise<IperfResult> {
  const server = b.ns.spawn('iperf3', ['-s', '-1', '-B', b.inner4]);
  await new Promise((r) => setTimeout(r, 300));
  const cpu0 = cpuSeconds(a.pid) + cpuSeconds(b.pid);
  let rssMax = 0;
  const timer = watchPid ? setInterval(() => (rssMax = Math.max(rssMax, rssMiB(watchPid))), 250) : undefined;
  const text = await new Promise<string>((resolve, reject) => {
    const c = a.ns.spawn('iperf3', ['-c', b.inner4, '-t', String(seconds), '-J']);
    let out = '';
    c.stdout?.on('data', (d) => (out += d));
    c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`iperf3 exited ${code}: ${out.slice(0, 500)}`))));
  });
  const cpu = cpuSeconds(a.pid) + cpuSeconds(b.pid) - cpu0;
  if (timer) clearInterval(timer);
  server.kill();
  const j = JSON.parse(text) as { end: { sum_received: { bits_per_second: number; bytes: number }; sum_sent: { retransmits?: number } } };
  return {
    gbps: j.end.sum_received.bits_per_second / 1e9,
    retransmits: j.end.sum_sent.retransmits ?? 0,
    cpuSecondsPerGB: cpu / (j.end.sum_received.bytes / 1e9),
    ...(watchPid ? { rssMaxMiB: round(rssMax, 1) } : {}),
  };
}

