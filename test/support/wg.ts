/**
 * WireGuard peers for integration tests: ferryd and wireguard-go in namespaces, both
 * configured with the real `wg` tool, joined by a veth underlay. Names are unique per
 * process; everything is torn down with the namespaces.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
  underlay: string;
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

async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a WireGuard implementation on a new interface inside ns; resolves when its UAPI socket exists. */
export async function startDaemon(t: Scope, ns: Netns, impl: Implementation, ifname = uniqueName(impl === 'ferry' ? 'fyf' : 'fyg'), compiled = false): Promise<{ ifname: string; pid: number }> {
  const sock = `/var/run/wireguard/${ifname}.sock`;
  const child =
    impl === 'ferry'
      ? ns.spawn(process.execPath, [...nodeArgs(), ...(compiled ? [FERRYD_DIST] : ['--import', 'tsx', FERRYD]), '-f', ifname], { cwd: REPO, env: { ...process.env, LOG_LEVEL: process.env.FERRY_TEST_LOG ?? 'warn' } })
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
  await waitFor(() => existsSync(sock) || exited, `${impl} ${ifname} to create its socket`);
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
}

/**
 * Two namespaces joined by a veth (underlay 10.201.0.1 / .2), each running one
 * implementation, configured as each other's peer with inner 10.77.0.1-2/24 and fd77::1-2/64.
 */
export async function wgPair(t: Scope, options: PairOptions): Promise<{ a: WgPeer; b: WgPeer; psk: string | null }> {
  const nsA = netns(t, 'fya');
  const nsB = netns(t, 'fyb');
  vethPair(nsA, '10.201.0.1/24', nsB, '10.201.0.2/24');
  // ferryd asks for 4 MiB socket buffers itself; wireguard-go (0.0.20220316) takes the
  // namespace default, 208 KiB, and then drops bursts at its socket. Give both the same.
  for (const ns of [nsA, nsB]) ns.run('sysctl', ['-qw', 'net.core.rmem_default=4194304', 'net.core.wmem_default=4194304']);
  const psk = options.psk ? execFileSync('wg', ['genpsk'], { encoding: 'utf8' }).trim() : null;
  const mk = async (ns: Netns, impl: Implementation, n: 1 | 2): Promise<WgPeer> => {
    const { ifname, pid } = await startDaemon(t, ns, impl, undefined, options.compiled);
    return { impl, ns, ifname, pid, ...genKey(), listenPort: 51820 + n, underlay: `10.201.0.${n}`, inner4: `10.77.0.${n}`, inner6: `fd77::${n}` };
  };
  const a = await mk(nsA, options.left, 1);
  const b = await mk(nsB, options.right, 2);
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
      `Endpoint = ${other.underlay}:${other.listenPort}`,
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
