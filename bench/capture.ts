/**
 * npm run bench -- capture [--seconds 10] [--rounds 3]
 *
 * What a stalled `ferry capture` reader costs the tunnel (issue #11: at most 5 %). A
 * ferryd pair (compiled) carries iperf3 TCP, alternating: no capture, then a capture of
 * every point on the sending daemon whose reader never reads (its stdout a pipe nobody
 * drains), so the daemon's capture ring fills and every further packet is counted lost.
 * The anchor is the same tunnel without a capture, in the same run. Last line:
 * {"bench":"capture","metric":"tcp_throughput_stalled_reader","value":<with>,"unit":"Gbit/s","baseline":<without>,"ratio":…}
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { requireHost } from '../test/support/netns.js';
import { REPO, wgPair } from '../test/support/wg.js';
import { iperf } from './lib/iperf.js';
import { benchScope, numberOption, runBench } from './lib/bench-scope.js';
import { jsonLines, median, round } from './lib/json-lines.js';

const emit = jsonLines('capture');
const SECONDS = numberOption('seconds', 10);
const ROUNDS = numberOption('rounds', 3);
const { scope, cleanup } = benchScope();

/** Starts a capture of every point whose stdout nobody reads; stop() drains it, ends it and returns its "N packets captured, M lost" line. */
async function stalledCapture(ifname: string): Promise<{ stop(): Promise<string> }> {
  const child = spawn(process.execPath, [join(REPO, 'dist/cli/ferry.js'), 'capture', ifname, '-w', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pause(); // never read: the pipe fills, the client stops reading the control socket
  let err = '';
  child.stderr?.on('data', (d) => (err += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  await new Promise((r) => setTimeout(r, 1500)); // attached, and the pipe already full of the ping's packets
  return {
    async stop() {
      // Drain now, so the client can end and print what it captured and what was lost while stalled.
      child.stdout?.on('data', () => {});
      child.stdout?.resume();
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      return err.trim();
    },
  };
}

async function main(): Promise<void> {
  if (!requireHost({ skip: (m) => { throw new Error(`capture bench ${m}`); } }, ['wg', 'iperf3', 'ping'])) return;
  execFileSync('npm', ['run', '--silent', 'build:ts'], { stdio: 'inherit' });
  const { a, b } = await wgPair(scope, { left: 'ferry', right: 'ferry', compiled: true });
  a.ns.run('ping', ['-c', '2', '-i', '0.2', '-W', '5', b.inner4]);
  emit({ setup: 'ferryd pair up', seconds: SECONDS, rounds: ROUNDS, machine: { cores: 2, kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(), node: process.version } });
  const without: number[] = [];
  const withStalled: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const plain = await iperf(a, b, SECONDS);
    without.push(plain.gbps);
    emit({ run: 'no capture', round: r, gbps: round(plain.gbps, 3), cpu_s_per_gb: round(plain.cpuSecondsPerGB, 2) });
    const cap = await stalledCapture(a.ifname);
    const stalled = await iperf(a, b, SECONDS);
    const summary = await cap.stop();
    withStalled.push(stalled.gbps);
    emit({ run: 'stalled capture', round: r, gbps: round(stalled.gbps, 3), cpu_s_per_gb: round(stalled.cpuSecondsPerGB, 2), capture: summary });
  }
  await cleanup();
  const value = median(withStalled);
  const baseline = median(without);
  emit({ metric: 'tcp_throughput_stalled_reader', value: round(value, 3), unit: 'Gbit/s', baseline: round(baseline, 3), ratio: round(value / baseline, 3) });
}

runBench('capture', main, cleanup);
