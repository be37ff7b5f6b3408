/**
 * WireGuard peers for integration tests: ferryd and wireguard-go in namespaces, both
 * configured with the real `wg` tool, joined by a veth underlay. Names are unique per
 * process; everything is torn down with the namespaces.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { controlRequest } from '../../src/control/control-client.js';
import { netns, run, uniqueName, vethPair, type Netns, type Scope } from './netns.js';

export type Implementation = 'ferry' | 'wireguard-go';

export const REPO = resolve(import.meta.dirname, '../..');
export const FERRYD = join(REPO, 'src/cli/ferryd.ts');
/** The compiled daemon (npm run build:ts), for benchmarks: what users run. */
export const FERRYD_DIST = join(REPO, 'dist/cli/ferryd.js');

export interface WgPeer {
  impl: Implementation;
  ns: Netns;
  ifname: string;
  /** The daemon's process id (for RSS readings). */
  pid: number;
  privateKey: string;
  publicKey: string;
  listenPort: number;
  /** Underlay address (IPv4 or IPv6, as PairOptions.underlay chose). */
  underlay: string;
  /** `address:port` of the underlay, bracketed for IPv6: what a peer's Endpoint says. */
  endpoint: string;
  inner4: string;
  inner6: string;
}

export function genKey(): { privateKey: string; publicKey: string } {
  const privateKey = execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
  const publicKey = execFileSync('wg', ['pubkey'], { input: privateKey, encoding: 'utf8' }).trim();
  return { privateKey, publicKey };
}

/** Extra node flags for ferryd, e.g. FERRYD_NODE_ARGS='--cpu-prof' when profiling. */
function nodeArgs(): string[] {
  return (process.env.FERRYD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * ferry's own [Interface] lines (e.g. `FerryOffload = off`) in a config file that ferryd
 * reads at start, as it does when `ferry up` starts it (FERRY_CONFIG_FILE); removed with the scope.
 */
function ferryConfigFile(t: Scope, interfaceLines: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-wgconf-'));
  const file = join(dir, 'ferryd.conf');
  writeFileSync(file, `[Interface]\n${interfaceLines.join('\n')}\n`, { mode: 0o600 });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return file;
}

/** Starts a WireGuard implementation on a new interface inside ns; resolves when its UAPI socket exists. */
export async function startDaemon(t: Scope, ns: Netns, impl: Implementation, ifname = uniqueName(impl === 'ferry' ? 'fyf' : 'fyg'), compiled = false, ferryInterface: readonly string[] = []): Promise<{ ifname: string; pid: number }> {
  const sock = `/var/run/wireguard/${ifname}.sock`;
  const configEnv = ferryInterface.length > 0 ? { FERRY_CONFIG_FILE: ferryConfigFile(t, ferryInterface) } : {};
  const child =
    impl === 'ferry'
      ? ns.spawn(process.execPath, [...nodeArgs(), ...(compiled ? [FERRYD_DIST] : ['--import', 'tsx', FERRYD]), '-f', ifname], { cwd: REPO, env: { ...process.env, ...configEnv, LOG_LEVEL: process.env.FERRY_TEST_LOG ?? 'warn' } })
      : ns.spawn('wireguard-go', ['-f', ifname], { env: { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1', LOG_LEVEL: 'error' } });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  t.after(() => {
    child.kill('SIGTERM');
    rmSync(sock, { force: true });
    rmSync(`/run/ferry/${ifname}.sock`, { force: true });
    if (process.env.FERRY_TEST_LOG) process.stderr.write(`--- ${impl} ${ifname} output:\n${output}\n`);
  });
  // ferryd through tsx takes seconds to start, many on a loaded machine.
  await waitFor(() => existsSync(sock) || exited, `${impl} ${ifname} to create its socket`, 30_000);
  if (exited) throw new Error(`${impl} ${ifname} exited during startup: ${output}`);
  return { ifname, pid: child.pid ?? 0 };
}

/** Applies a wg(8) config with `wg setconf` inside the peer's namespace. */
export function setconf(peer: Pick<WgPeer, 'ns' | 'ifname'>, config: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-wgconf-'));
  const file = join(dir, 'wg.conf');
  writeFileSync(file, config, { mode: 0o600 });
  try {
    peer.ns.run('wg', ['setconf', peer.ifname, file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PairOptions {
  left: Implementation;
  right: Implementation;
  psk?: boolean;
  /** Persistent keepalive on both sides (seconds). */
  keepalive?: number;
  /** Run ferryd from dist/ (compiled) instead of src/ through tsx. */
  compiled?: boolean;
  /** Inner MTU set with `ip link set mtu` on both tunnel interfaces (default: each implementation's own, 1420). */
  mtu?: number;
  /** Underlay family: 4 (10.201.0.1-2/24, the default) or 6 (fd20:201::1-2/64, endpoints in brackets). */
  underlay?: 4 | 6;
  /** Extra [Interface] lines for ferry peers (ferry's own keys, e.g. `FerryOffload = off`), read by ferryd at start. */
  ferryInterface?: readonly string[];
}

/** The inner MTU the daemon works with: ferryd's control socket for ferry, the link for wireguard-go. */
export async function daemonMtu(peer: Pick<WgPeer, 'impl' | 'ns' | 'ifname'>): Promise<number> {
  if (peer.impl === 'ferry') return ((await controlRequest(peer.ifname, 'status')) as { mtu: number }).mtu;
  return linkMtu(peer);
}

/** The MTU of the peer's tunnel interface as the kernel has it. */
export function linkMtu(peer: Pick<WgPeer, 'ns' | 'ifname'>): number {
  const m = / mtu (\d+) /.exec(peer.ns.run('ip', ['-o', 'link', 'show', 'dev', peer.ifname]));
  if (!m) throw new Error(`no MTU for ${peer.ifname}`);
  return Number(m[1]);
}

/**
 * `ip link set mtu` on the peer's tunnel interface, then waits until the daemon works
 * with it (ferryd checks the link every second), so no packet meets the old MTU after.
 * Resolves with how long ferryd took to follow, in ms.
 */
export async function setMtu(peer: Pick<WgPeer, 'impl' | 'ns' | 'ifname'>, mtu: number): Promise<number> {
  const start = Date.now();
  peer.ns.run('ip', ['link', 'set', 'dev', peer.ifname, 'mtu', String(mtu)]);
  await waitFor(async () => (await daemonMtu(peer)) === mtu, `${peer.impl} ${peer.ifname} to follow MTU ${mtu}`, 5_000);
  return Date.now() - start;
}

/**
 * Two namespaces joined by a veth (underlay 10.201.0.1 / .2, or fd20:201::1 / ::2), each
 * running one implementation, configured as each other's peer with inner 10.77.0.1-2/24
 * and fd77::1-2/64.
 */
export async function wgPair(t: Scope, options: PairOptions): Promise<{ a: WgPeer; b: WgPeer; psk: string | null }> {
  const nsA = netns(t, 'fya');
  const nsB = netns(t, 'fyb');
  const veth = vethPair(nsA, '10.201.0.1/24', nsB, '10.201.0.2/24');
  const v6 = options.underlay === 6;
  if (v6) {
    nsA.run('ip', ['-6', 'addr', 'add', 'fd20:201::1/64', 'dev', veth.a, 'nodad']);
    nsB.run('ip', ['-6', 'addr', 'add', 'fd20:201::2/64', 'dev', veth.b, 'nodad']);
  }
  // ferryd asks for 4 MiB socket buffers itself; wireguard-go (0.0.20220316) takes the
  // namespace default, 208 KiB, and then drops bursts at its socket. Give both the same.
  for (const ns of [nsA, nsB]) ns.run('sysctl', ['-qw', 'net.core.rmem_default=4194304', 'net.core.wmem_default=4194304']);
  const psk = options.psk ? execFileSync('wg', ['genpsk'], { encoding: 'utf8' }).trim() : null;
  const mk = async (ns: Netns, impl: Implementation, n: 1 | 2): Promise<WgPeer> => {
    const { ifname, pid } = await startDaemon(t, ns, impl, undefined, options.compiled, impl === 'ferry' ? options.ferryInterface : undefined);
    const listenPort = 51820 + n;
    const underlay = v6 ? `fd20:201::${n}` : `10.201.0.${n}`;
    const endpoint = v6 ? `[${underlay}]:${listenPort}` : `${underlay}:${listenPort}`;
    return { impl, ns, ifname, pid, ...genKey(), listenPort, underlay, endpoint, inner4: `10.77.0.${n}`, inner6: `fd77::${n}` };
  };
  const [a, b] = await Promise.all([mk(nsA, options.left, 1), mk(nsB, options.right, 2)]);
  // Before the links come up, so no packet meets the old MTU.
  if (options.mtu !== undefined) await Promise.all([a, b].map((p) => setMtu(p, options.mtu as number)));
  for (const [self, other] of [
    [a, b],
    [b, a],
  ] as const) {
    const lines = [
      '[Interface]',
      `PrivateKey = ${self.privateKey}`,
      `ListenPort = ${self.listenPort}`,
      '',
      '[Peer]',
      `PublicKey = ${other.publicKey}`,
      `AllowedIPs = ${other.inner4}/32, ${other.inner6}/128`,
      `Endpoint = ${other.endpoint}`,
    ];
    if (psk) lines.push(`PresharedKey = ${psk}`);
    if (options.keepalive) lines.push(`PersistentKeepalive = ${options.keepalive}`);
    setconf(self, `${lines.join('\n')}\n`);
    self.ns.run('ip', ['addr', 'add', `${self.inner4}/24`, 'dev', self.ifname]);
    self.ns.run('ip', ['-6', 'addr', 'add', `${self.inner6}/64`, 'dev', self.ifname, 'nodad']);
    self.ns.run('ip', ['link', 'set', self.ifname, 'up']);
  }
  return { a, b, psk };
}

/** ping -c N from a peer's namespace; throws with ping's output when any reply is missing. */
export function ping(from: WgPeer | Netns, address: string, count = 3): string {
  const ns = 'ns' in from ? from.ns : from;
  return ns.run('ping', ['-c', String(count), '-i', '0.2', '-W', '5', address], { timeout: 30_000 });
}

/** `wg show IF dump` parsed: [interface fields, ...peer field arrays]. */
export function wgDump(peer: WgPeer): string[][] {
  return peer.ns
    .run('wg', ['show', peer.ifname, 'dump'])
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
}

export { run };

/** Random bytes in a file, made once and sent as often as needed, with their sha256. */
export interface TransferData {
  path: string;
  mib: number;
  sha256: string;
}

/** Makes `mib` MiB of random bytes in /dev/shm (visible in every namespace), removed when the scope ends. */
export function randomData(t: Scope, mib: number): TransferData {
  const data = makeRandomFile(mib);
  t.after(() => rmSync(data.path, { force: true }));
  return data;
}

function makeRandomFile(mib: number): TransferData {
  const path = `/dev/shm/ferry-xfer-${uniqueName('d')}`;
  try {
    run('sh', ['-c', `head -c ${mib}M /dev/urandom > ${path}`], { timeout: 120_000 });
    return { path, mib, sha256: run('sha256sum', [path], { timeout: 120_000 }).split(/\s+/)[0] };
  } catch (err) {
    rmSync(path, { force: true });
    throw err;
  }
}

export interface TransferResult {
  /** sha256 of what was sent and of what arrived. */
  sent: string;
  received: string;
  /** Seconds from connect to the sender's end (making and hashing the bytes excluded). */
  seconds: number;
}

/**
 * Sends random bytes from one peer to the other over TCP (ncat), to the receiver's inner
 * IPv4 address unless `address` says otherwise; returns both sha256 sums. `data` is a
 * size in MiB (fresh bytes, made and removed here) or a file from randomData.
 */
export async function transfer(from: WgPeer, to: WgPeer, data: number | TransferData, address = to.inner4): Promise<TransferResult> {
  const file = typeof data === 'number' ? makeRandomFile(data) : data;
  try {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const receiver = to.ns.spawn('sh', ['-c', `ncat -l --recv-only ${address} ${port} | sha256sum`]);
    let received = '';
    receiver.stdout?.on('data', (d) => (received += d));
    // 'close', not 'exit': the hash may still be in the pipe when the process has exited.
    const receiverDone = new Promise<void>((resolve) => receiver.on('close', () => resolve()));
    await waitFor(() => to.ns.run('ss', ['-ltnH', `sport = :${port}`]).trim() !== '', `ncat to listen on ${address} port ${port}`);
    const script = ['s=$(date +%s%N)', `ncat --send-only ${address} ${port} < ${file.path}; rc=$?`, 'e=$(date +%s%N)', 'echo $((e - s))', 'exit $rc'].join('\n');
    const ns = from.ns.run('sh', ['-c', script], { timeout: 180_000 }).trim();
    await Promise.race([receiverDone, new Promise((r) => setTimeout(r, 30_000).unref())]);
    return { sent: file.sha256, received: received.trim().split(/\s+/)[0], seconds: Number(ns) / 1e9 };
  } finally {
    if (file !== data) rmSync(file.path, { force: true });
  }
}
