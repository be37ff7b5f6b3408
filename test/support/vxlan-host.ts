/**
 * VXLAN hosts for integration tests and the benchmark: a ferry L3 VTEP (test/support/
 * vxlan-node.ts, run in a namespace) and a kernel vxlan device programmed exactly as
 * flannel programs its peers. Names are unique per process; the namespaces' deletion
 * takes the devices along.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { type Netns, type Scope, uniqueName } from './netns.js';

export const REPO = resolve(import.meta.dirname, '../..');
const RUNNER = join(REPO, 'test/support/vxlan-node.ts');

export interface FerryVtepStats {
  drops: Record<string, number>;
  datapathDrops: Record<string, number>;
  stats: { rxPackets: number; rxBytes: number; txPackets: number; txBytes: number; txErrors: number };
  arpReplies: number;
  ndReplies: number;
  peers: Array<{ remote: string; mac: string; tx: number; rx: number; txErrors: number }>;
  ioErrors: number;
}

export interface FerryVtep {
  ns: Netns;
  ifname: string;
  mac: string;
  mtu: number;
  pid: number;
  stats(): Promise<FerryVtepStats>;
}

/**
 * Starts a ferry VTEP in ns with the given config text (a ferry config file) and brings
 * its TUN up with `addresses` and a route for every prefix in `routes`, as `ferry up` does.
 */
export async function startFerryVtep(t: Scope, ns: Netns, conf: string, setup: { addresses: string[]; routes: string[] }): Promise<FerryVtep> {
  const ifname = uniqueName('fvx');
  const dir = mkdtempSync(join(tmpdir(), 'ferry-vxlan-'));
  chmodSync(dir, 0o700);
  const file = join(dir, `${ifname}.conf`);
  writeFileSync(file, conf, { mode: 0o600 });
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns.name, process.execPath, ...nodeArgs(), RUNNER, file, ifname], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout! });
  const waiting: Array<(line: string) => void> = [];
  const early: string[] = [];
  lines.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else early.push(line);
  });
  const nextLine = (what: string, ms = 20_000): Promise<string> =>
    new Promise((resolveLine, reject) => {
      const e = early.shift();
      if (e !== undefined) return resolveLine(e);
      const timer = setTimeout(() => reject(new Error(`ferry VTEP ${ifname}: no ${what} within ${ms} ms; stderr: ${stderr}`)), ms);
      const onExit = () => reject(new Error(`ferry VTEP ${ifname} exited (${child.exitCode}) waiting for ${what}: ${stderr}`));
      child.once('exit', onExit);
      waiting.push((line) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolveLine(line);
      });
    });
  t.after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin?.end();
      const kill = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(kill);
    }
    rmSync(dir, { recursive: true, force: true });
    if (process.env.FERRY_TEST_LOG) process.stderr.write(`--- ferry VTEP ${ifname} stderr:\n${stderr}\n`);
  });
  const ready = JSON.parse(await nextLine('ready line')) as { ready: boolean; mac: string; mtu: number };
  for (const a of setup.addresses) ns.run('ip', ['addr', 'add', a, 'dev', ifname, ...(a.includes(':') ? ['nodad'] : [])]);
  for (const r of setup.routes) ns.run('ip', ['route', 'replace', r, 'dev', ifname]);
  return {
    ns,
    ifname,
    mac: ready.mac,
    mtu: ready.mtu,
    pid: child.pid ?? 0,
    async stats() {
      child.stdin!.write('stats\n');
      return JSON.parse(await nextLine('stats line')) as FerryVtepStats;
    },
  };
}

/** Extra node flags for the runner (FERRYD_NODE_ARGS, e.g. '--cpu-prof'); tsx unless compiled. */
function nodeArgs(): string[] {
  return ['--import', 'tsx', ...(process.env.FERRYD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')];
}

export interface KernelVtepOptions {
  vni: number;
  port: number;
  /** Underlay address and device. */
  local: string;
  dev: string;
  mac: string;
  /** Addresses on the vxlan device (flannel: SUBNET.0/32). */
  addresses: string[];
  /** More `type vxlan` options (e.g. udp6zerocsumtx). */
  extra?: string[];
}

/** `ip link add … type vxlan id N dstport P local L dev D nolearning`, as flannel creates flannel.1. */
export function kernelVtep(ns: Netns, o: KernelVtepOptions): string {
  const name = uniqueName('kvx');
  ns.run('ip', ['link', 'add', name, 'address', o.mac, 'type', 'vxlan', 'id', String(o.vni), 'dstport', String(o.port), 'local', o.local, 'dev', o.dev, 'nolearning', ...(o.extra ?? [])]);
  for (const a of o.addresses) ns.run('ip', ['addr', 'add', a, 'dev', name, ...(a.includes(':') ? ['nodad'] : [])]);
  ns.run('ip', ['link', 'set', name, 'up']);
  return name;
}

export interface FlannelPeer {
  /** The peer's subnet and its gateway (SUBNET.0, flannel's VTEP address for it). */
  subnet: string;
  gateway: string;
  mac: string;
  /** Its underlay address. */
  remote: string;
  /** false: no static neighbour, the kernel ARPs (or solicits) through the all-zero FDB entry. */
  staticNeighbor?: boolean;
}

/**
 * Programs one peer the way flannel's vxlan backend does (neighbour, FDB, onlink route);
 * without the static neighbour, an all-zero FDB entry carries the kernel's ARP to the peer.
 */
export function programFlannelPeer(ns: Netns, dev: string, p: FlannelPeer): void {
  if (p.staticNeighbor !== false) {
    ns.run('ip', ['neigh', 'replace', p.gateway, 'lladdr', p.mac, 'dev', dev, 'nud', 'permanent']);
    ns.run('bridge', ['fdb', 'replace', p.mac, 'dev', dev, 'dst', p.remote, 'self', 'permanent']);
  } else {
    ns.run('bridge', ['fdb', 'append', '00:00:00:00:00:00', 'dev', dev, 'dst', p.remote, 'self', 'permanent']);
  }
  ns.run('ip', ['route', 'replace', p.subnet, 'via', p.gateway, 'dev', dev, 'onlink']);
}

/** A [FerryVxlan] config for a ferry VTEP. */
export function ferryConfig(o: { addresses: string[]; mtu?: number; vni?: number; port?: number; local?: string; mac: string; peers: Array<{ remote: string; mac: string; subnets: string[] }> }): string {
  const lines = ['[Interface]', ...o.addresses.map((a) => `Address = ${a}`)];
  if (o.mtu !== undefined) lines.push(`MTU = ${o.mtu}`);
  lines.push('', '[FerryVxlan]', `VNI = ${o.vni ?? 1}`, `Port = ${o.port ?? 8472}`, `VtepMAC = ${o.mac}`);
  if (o.local !== undefined) lines.push(`Local = ${o.local}`);
  for (const p of o.peers) lines.push('', '[FerryVxlanPeer]', `Remote = ${p.remote}`, `VtepMAC = ${p.mac}`, `Subnets = ${p.subnets.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** Sends one UDP datagram (hex payload) from inside ns, with node:dgram. */
export function sendDatagram(ns: Netns, to: string, port: number, hex: string): void {
  const family = to.includes(':') ? 'udp6' : 'udp4';
  ns.run(process.execPath, ['-e', `const s=require('dgram').createSocket('${family}');s.send(Buffer.from(process.argv[1],'hex'),Number(process.argv[3]),process.argv[2],(e)=>{s.close();if(e)throw e;})`, hex, to, String(port)]);
}

/** The kernel device's counters (ip -s -s -j link): rx/tx packets and rx frame errors. */
export function linkCounters(ns: Netns, dev: string): { rxPackets: number; txPackets: number; rxFrameErrors: number; rxErrors: number } {
  const j = JSON.parse(ns.run('ip', ['-s', '-s', '-j', 'link', 'show', dev]))[0] as { stats64: { rx: { packets: number; errors: number; frame_errors: number }; tx: { packets: number } } };
  return { rxPackets: j.stats64.rx.packets, txPackets: j.stats64.tx.packets, rxFrameErrors: j.stats64.rx.frame_errors, rxErrors: j.stats64.rx.errors };
}
