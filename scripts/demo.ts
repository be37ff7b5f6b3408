/**
 * npm run demo — ferry end to end on this machine, with nothing to configure:
 * two network namespaces joined by a veth, a WireGuard tunnel between them (ferryd on
 * one side; wireguard-go on the other when installed, else a second ferryd), real traffic
 * through it, then a VXLAN overlay between a ferry VTEP and the kernel's vxlan device
 * programmed as flannel programs it, then a load-balanced service over three backends
 * (scripts/demo-lb.ts), a readable account of what happened, and everything removed at
 * the end.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatShow } from '../src/cli/vxlan-verb.js';
import { lbNames, lbPart } from './demo-lb.js';
import { initCrypto } from '../src/wireguard/crypto.js';
import { formatKeyBase64, generatePrivateKey, publicKeyFromPrivate } from '../src/wireguard/keys.js';
import { formatEndpoint } from '../src/text/endpoint.js';
import { formatPrefix, parsePrefix } from '../src/text/prefix.js';
import { getDevice, setDevice } from '../src/uapi/client.js';
import { allowedIpsOf, newDevice, newPeer, prefixesOf } from '../src/uapi/model.js';
import { UAPI_DIR } from '../src/uapi/socket-path.js';
import { controlRequest } from '../src/control/control-client.js';

const REPO = resolve(import.meta.dirname, '..');
const tag = `${process.pid.toString(36)}`;
const NS_A = `ferry-demo-a-${tag}`;
const NS_B = `ferry-demo-b-${tag}`;
const IF_A = `fdemo${tag}a`.slice(0, 15);
const IF_B = `fdemo${tag}b`.slice(0, 15);
const IF_V = `fdemo${tag}v`.slice(0, 15);
const LB = lbNames(tag);
const CONF_DIR = mkdtempSync(join(tmpdir(), 'ferry-demo-'));
const children: ChildProcess[] = [];
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

function say(s: string): void {
  process.stdout.write(`${s}\n`);
}
function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}
function inNs(ns: string, cmd: string, args: string[]): string {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args]);
}
function has(cmd: string): boolean {
  try {
    sh('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

function cleanup(): void {
  for (const c of children) c.kill('SIGTERM');
  for (const ns of [NS_A, NS_B, ...LB.namespaces]) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      /* not made yet */
    }
  }
  for (const i of [IF_A, IF_B, IF_V, LB.ifname]) {
    rmSync(`/var/run/wireguard/${i}.sock`, { force: true });
    rmSync(`/run/ferry/${i}.sock`, { force: true });
  }
  rmSync(CONF_DIR, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

/** ferryd's opt-in HTTP port (probes and metrics), on the loopback of its namespace. */
const HTTP = '127.0.0.1:9586';

async function startDaemon(ns: string, ifname: string, impl: 'ferryd' | 'wireguard-go', opts: { http?: boolean; configFile?: string } = {}): Promise<void> {
  const args = impl === 'ferryd' ? [process.execPath, '--import', 'tsx', join(REPO, 'src/cli/ferryd.ts'), '-f', ifname] : ['wireguard-go', '-f', ifname];
  const child = spawn('ip', ['netns', 'exec', ns, ...args], {
    cwd: REPO,
    stdio: 'ignore',
    env: { ...process.env, LOG_LEVEL: 'silent', WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1', ...(opts.http ? { FERRY_HTTP: HTTP } : {}), ...(opts.configFile ? { FERRY_CONFIG_FILE: opts.configFile } : {}) },
  });
  children.push(child);
  const sock = `/var/run/wireguard/${ifname}.sock`;
  for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(sock)) throw new Error(`${impl} did not come up on ${ifname}`);
}

/** GET http://HTTP/path from inside a namespace: status and body. */
function httpGet(ns: string, path: string): { status: number; body: string } {
  const script = 'fetch(process.argv[1]).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })))';
  return JSON.parse(inNs(ns, process.execPath, ['-e', script, `http://${HTTP}${path}`])) as { status: number; body: string };
}

function runJson(ns: string, args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(REPO, 'scripts/demo-traffic.mjs'), ...args]);
    children.push(child);
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
      const line = text.split('\n').find((l) => l.startsWith('{') && !l.includes('"listening"'));
      if (line) resolvePromise(JSON.parse(line));
    });
    child.on('exit', (code) => (code ? reject(new Error(`${args[0]} exited with ${code}`)) : undefined));
  });
}

function waitListening(ns: string, args: string[]): Promise<ChildProcess> {
  return new Promise((resolvePromise) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(REPO, 'scripts/demo-traffic.mjs'), ...args]);
    children.push(child);
    child.stdout.once('data', () => resolvePromise(child));
  });
}

/** The kernel's count of UDP datagrams dropped because a socket's buffer was full. */
function udpRcvbufErrors(ns: string): number {
  const lines = inNs(ns, 'cat', ['/proc/net/snmp']).split('\n').filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return 0;
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')] ?? 0);
}

function ago(sec: string | undefined): string {
  const s = Number(sec ?? 0);
  return s === 0 ? 'never' : `${Math.max(0, Math.round(Date.now() / 1000 - s))} s ago`;
}

function fmtBytes(n: number): string {
  return n > 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n > 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    say('The demo creates network namespaces and TUN devices: run it as root (sudo npm run demo).');
    process.exit(1);
  }
  if (!has('ip')) {
    say('The demo needs iproute2 (the `ip` command): apt-get install iproute2');
    process.exit(1);
  }
  await initCrypto();
  const peerImpl = has('wireguard-go') ? 'wireguard-go' : 'ferryd';

  say(bold('1. Two hosts'));
  sh('ip', ['netns', 'add', NS_A]);
  sh('ip', ['netns', 'add', NS_B]);
  sh('ip', ['link', 'add', `${IF_A}v`, 'type', 'veth', 'peer', 'name', `${IF_B}v`]);
  sh('ip', ['link', 'set', `${IF_A}v`, 'netns', NS_A]);
  sh('ip', ['link', 'set', `${IF_B}v`, 'netns', NS_B]);
  for (const [ns, dev, addr] of [
    [NS_A, `${IF_A}v`, '10.210.0.1/24'],
    [NS_B, `${IF_B}v`, '10.210.0.2/24'],
  ]) {
    inNs(ns, 'ip', ['addr', 'add', addr, 'dev', dev]);
    inNs(ns, 'ip', ['link', 'set', dev, 'up']);
    inNs(ns, 'ip', ['link', 'set', 'lo', 'up']);
    // ferryd sizes its own socket buffers; give wireguard-go the same room.
    inNs(ns, 'sysctl', ['-qw', 'net.core.rmem_default=4194304', 'net.core.wmem_default=4194304']);
  }
  say(`   namespaces ${NS_A} (underlay 10.210.0.1) and ${NS_B} (10.210.0.2), joined by a veth`);

  say(bold('2. A WireGuard tunnel'));
  await startDaemon(NS_A, IF_A, 'ferryd', { http: true });
  await startDaemon(NS_B, IF_B, peerImpl);
  say(`   ${NS_A}: ferryd on ${IF_A}    ${NS_B}: ${peerImpl} on ${IF_B}${peerImpl === 'ferryd' ? ' (install wireguard-go to see ferry talk to it)' : ''}`);
  const keyA = generatePrivateKey();
  const keyB = generatePrivateKey();
  const pubA = publicKeyFromPrivate(keyA);
  const pubB = publicKeyFromPrivate(keyB);
  const configure = (ifname: string, privateKey: Uint8Array, listenPort: number, peerKey: Uint8Array, peerAddress: string, peerPort: number, allowed: string) =>
    setDevice(UAPI_DIR, ifname, {
      ...newDevice(),
      privateKey,
      listenPort,
      peers: [{ ...newPeer(peerKey), endpoint: { family: 4, address: peerAddress, port: peerPort }, allowedIps: allowedIpsOf([parsePrefix(allowed)]) }],
    });
  await configure(IF_A, keyA, 51821, pubB, '10.210.0.2', 51822, '10.211.0.2/32');
  await configure(IF_B, keyB, 51822, pubA, '10.210.0.1', 51821, '10.211.0.1/32');
  for (const [ns, dev, addr] of [
    [NS_A, IF_A, '10.211.0.1/24'],
    [NS_B, IF_B, '10.211.0.2/24'],
  ]) {
    inNs(ns, 'ip', ['addr', 'add', addr, 'dev', dev]);
    inNs(ns, 'ip', ['link', 'set', dev, 'up']);
  }
  say(`   configured over the UAPI socket (what wg(8) uses): keys, endpoints, allowed IPs; tunnel 10.211.0.1 <-> 10.211.0.2`);
  say(`   ferryd public key ${formatKeyBase64(pubA)}`);
  const notYet = httpGet(NS_A, '/readyz');
  say(`   ferryd's probe port (FERRY_HTTP=${HTTP}): /readyz ${notYet.status} ${notYet.body.trim()}`);

  say(bold('3. Traffic through the tunnel'));
  const echo = await waitListening(NS_B, ['udp-echo', '10.211.0.2', '7007']);
  const probe = await runJson(NS_A, ['udp-probe', '10.211.0.2', '7007', '200']);
  echo.kill();
  const rtts = (probe.rtts as number[]).slice(1).sort((x, y) => x - y);
  say(`   UDP echo: 200 round trips, first one ${(probe.rtts as number[])[0].toFixed(2)} ms (includes the handshake), then median ${rtts[Math.floor(rtts.length / 2)].toFixed(3)} ms`);
  const sink = await waitListening(NS_B, ['tcp-sink', '10.211.0.2', '7008']);
  const sinkPromise = new Promise<Record<string, unknown>>((resolvePromise) => {
    let text = '';
    sink.stdout?.on('data', (d: Buffer) => {
      text += d.toString();
      const line = text.split('\n').find((l) => l.includes('sha256'));
      if (line) resolvePromise(JSON.parse(line));
    });
  });
  const t0 = performance.now();
  const sent = await runJson(NS_A, ['tcp-source', '10.211.0.2', '7008', '64']);
  const got = await sinkPromise;
  const secs = (performance.now() - t0) / 1000;
  const ok = sent.sha256 === got.sha256 && sent.bytes === got.bytes;
  say(`   TCP: sent ${fmtBytes(sent.bytes as number)} in ${secs.toFixed(2)} s (${(((sent.bytes as number) * 8) / secs / 1e6).toFixed(0)} Mbit/s); sha256 ${ok ? 'matches on both ends' : 'DIFFERS'}`);

  say(bold('4. What the daemons report (UAPI get, as `wg show` reads it; ferryd\'s probes and metrics)'));
  for (const [name, ifname] of [
    ['ferryd', IF_A],
    [peerImpl, IF_B],
  ]) {
    const dev = await getDevice(UAPI_DIR, ifname);
    const peer = dev.peers[0];
    say(`   ${name} ${ifname}: listening port ${dev.listenPort}`);
    say(`     peer endpoint ${peer.endpoint ? formatEndpoint(peer.endpoint) : '(none)'}, allowed ips ${prefixesOf(peer).map(formatPrefix).join(',')}`);
    say(`     latest handshake ${ago(String(peer.lastHandshakeSec ?? 0n))}, transfer ${fmtBytes(Number(peer.rxBytes ?? 0n))} received, ${fmtBytes(Number(peer.txBytes ?? 0n))} sent`);
  }
  const ready = httpGet(NS_A, '/readyz');
  say(`   ferryd /readyz now: ${ready.status} ${ready.body.trim()}`);
  const metrics = httpGet(NS_A, '/metrics').body.split('\n');
  for (const name of ['ferry_packets_total', 'ferry_pool_in_use']) {
    const lines = metrics.filter((l) => l.startsWith(`${name}{`)).map((l) => l.replace(/interface="[^"]*",?/, '').replace('{}', ''));
    say(`   /metrics ${lines.join('  ')}`);
  }
  const drops = ((await controlRequest(IF_A, 'drops')) as { total: Record<string, number> }).total;
  const dropText = Object.entries(drops).map(([k, v]) => `${k} ${v}`).join(', ');
  say(`   ferryd drops (ferry drops ${IF_A}): ${dropText === '' ? 'none' : dropText}`);
  const rcvbufErrors = udpRcvbufErrors(NS_B);
  if (rcvbufErrors > 0) say(`   ${peerImpl}'s UDP socket overflowed ${rcvbufErrors} times (kernel RcvbufErrors in ${NS_B}): that is the gap between what ferryd sent and ${peerImpl} received; TCP resent those segments`);
  const vxlanOk = await vxlanPart();
  const lbOk = await lbPart({ nsA: NS_A, tag, confDir: CONF_DIR, say, bold, children });
  say(bold('9. Cleaning up'));
  cleanup();
  say(`   daemons stopped, namespaces ${[NS_A, NS_B, ...LB.namespaces].join(', ')} deleted`);
  if (!ok || !vxlanOk || !lbOk) process.exit(1);
}

/**
 * Steps 5 and 6: flannel's overlay with a ferry node in it. Namespace B runs the kernel's vxlan
 * device exactly as flannel programs flannel.1 for a peer; namespace A runs ferryd with a
 * [FerryVxlan] config file. Returns true when traffic crossed both ways.
 */
async function vxlanPart(): Promise<boolean> {
  const FERRY_MAC = '02:f0:de:00:00:01';
  const KERNEL_MAC = '02:4b:de:00:00:02';
  say(bold('5. A VXLAN overlay: a ferry node and a kernel (flannel-style) node'));
  const kdev = `fdemo${tag}k`.slice(0, 15);
  const cmds: string[][] = [
    ['ip', 'link', 'add', kdev, 'address', KERNEL_MAC, 'type', 'vxlan', 'id', '1', 'dstport', '8472', 'local', '10.210.0.2', 'dev', `${IF_B}v`, 'nolearning'],
    ['ip', 'addr', 'add', '10.244.2.0/32', 'dev', kdev],
    ['ip', 'link', 'set', kdev, 'up'],
    ['ip', 'neigh', 'replace', '10.244.1.0', 'lladdr', FERRY_MAC, 'dev', kdev, 'nud', 'permanent'],
    ['bridge', 'fdb', 'replace', FERRY_MAC, 'dev', kdev, 'dst', '10.210.0.1', 'self', 'permanent'],
    ['ip', 'route', 'replace', '10.244.1.0/24', 'via', '10.244.1.0', 'dev', kdev, 'onlink'],
  ];
  for (const c of cmds) inNs(NS_B, c[0], c.slice(1));
  say(`   ${NS_B}: the kernel's vxlan device ${kdev}, subnet 10.244.2.0/24, programmed as flannel does:`);
  for (const c of cmds.slice(3)) say(`     ${c.join(' ')}`);
  // On a veth the kernel leaves inner checksums to "hardware": make the veth behave like a wire.
  if (has('ethtool')) inNs(NS_B, 'ethtool', ['-K', `${IF_B}v`, 'tx', 'off']);
  const conf = join(CONF_DIR, `${IF_V}.conf`);
  const text = `[Interface]\nAddress = 10.244.1.0/32\n\n[FerryVxlan]\nVNI = 1\nPort = 8472\nLocal = 10.210.0.1\nVtepMAC = ${FERRY_MAC}\n\n[FerryVxlanPeer]\nRemote = 10.210.0.2\nVtepMAC = ${KERNEL_MAC}\nSubnets = 10.244.2.0/24\n`;
  writeFileSync(conf, text, { mode: 0o600 });
  await startDaemon(NS_A, IF_V, 'ferryd', { configFile: conf });
  inNs(NS_A, 'ip', ['addr', 'add', '10.244.1.0/32', 'dev', IF_V]);
  inNs(NS_A, 'ip', ['link', 'set', IF_V, 'mtu', '1450', 'up']);
  inNs(NS_A, 'ip', ['route', 'add', '10.244.2.0/24', 'dev', IF_V]);
  say(`   ${NS_A}: ferryd on ${IF_V} with this config (subnet 10.244.1.0/24; MTU 1500 - 50, the subnet routed in, as ferry up does):`);
  for (const l of text.trim().split('\n')) say(`     ${l}`);

  say(bold('6. Traffic through the overlay'));
  let ok = true;
  for (const [from, to, who] of [
    [NS_A, '10.244.2.0', 'ferry -> kernel'],
    [NS_B, '10.244.1.0', 'kernel -> ferry'],
  ]) {
    try {
      const out = inNs(from, 'ping', ['-c', '3', '-i', '0.2', '-W', '3', to]);
      say(`   ping ${who}: ${/(\d+) received/.exec(out)?.[1] ?? '?'} of 3 replies, ${/= [\d.]+\/([\d.]+)\//.exec(out)?.[1] ?? '?'} ms average`);
    } catch {
      say(`   ping ${who}: no reply`);
      ok = false;
    }
  }
  let show = (await controlRequest(IF_V, 'vxlan-show')) as Parameters<typeof formatShow>[1];
  // ferryd follows `ip link set mtu` within a second.
  for (let i = 0; i < 30 && show.mtu !== 1450; i++) {
    await new Promise((r) => setTimeout(r, 100));
    show = (await controlRequest(IF_V, 'vxlan-show')) as Parameters<typeof formatShow>[1];
  }
  say(`   ferry vxlan show ${IF_V}:`);
  for (const l of formatShow(IF_V, show).trimEnd().split('\n')) say(`     ${l}`);
  const k = JSON.parse(inNs(NS_B, 'ip', ['-s', '-j', 'link', 'show', kdev]))[0] as { stats64: { rx: { packets: number }; tx: { packets: number } } };
  say(`   the kernel's ${kdev}: ${k.stats64.rx.packets} packets received, ${k.stats64.tx.packets} sent; it cannot tell ferry from another flannel.1`);
  return ok;
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`demo failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
