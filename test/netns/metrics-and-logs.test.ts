/**
 * What an operator reads of a running ferryd (issue #11): /metrics parsed as Prometheus
 * exposition with counters that match the traffic and what `wg show transfer` reports,
 * `ferry top` showing the peer and the traffic, and a whole session's logs at debug level
 * free of every key in base64 and hex.
 *
 * ferryd (A) talks to wireguard-go (B) with a preshared key; A serves FERRY_HTTP on its
 * namespace's loopback and logs at debug level to a pipe this test reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { netns, type Netns, requireHost, uniqueName, vethPair } from '../support/netns.js';
import { FERRYD, genKey, REPO, setconf, startDaemon } from '../support/wg.js';

const HTTP_PORT = 9586;
const PINGS = 20;

/** Fetches a path from the HTTP port on the namespace's loopback, with a node inside it. */
function httpGet(ns: Netns, path: string): { status: number; body: string } {
  const script = `fetch('http://127.0.0.1:${HTTP_PORT}${path}').then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })), () => process.stdout.write('{"status":0,"body":""}'))`;
  return JSON.parse(ns.run(process.execPath, ['-e', script])) as { status: number; body: string };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition format strictly: every sample belongs to a declared family. */
function parseExposition(text: string): Sample[] {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const declared = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$/.exec(line);
    if (type) {
      assert.ok(!declared.has(type[1]), `family ${type[1]} declared once`);
      declared.set(type[1], type[2]);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+]+|NaN|[+-]Inf)$/.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    assert.ok(declared.has(m[1]), `${m[1]} has a TYPE line before its samples`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    const value = Number(m[3]);
    if (declared.get(m[1]) === 'counter') assert.ok(value >= 0, `${line}: a counter is never negative`);
    samples.push({ name: m[1], labels, value });
  }
  return samples;
}

function one(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.equal(found.length, 1, `one ${name} ${JSON.stringify(labels)}`);
  return found[0].value;
}

function hex(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex');
}

test('ferryd against wireguard-go: /metrics match the traffic and wg show; a debug log of the session holds no key', async (t) => {
  if (!requireHost(t, ['wireguard-go', 'wg', 'ping'])) return;
  const nsA = netns(t, 'fma');
  const nsB = netns(t, 'fmb');
  vethPair(nsA, '10.203.0.1/24', nsB, '10.203.0.2/24');
  const ifname = uniqueName('fmf');
  const sock = `/var/run/wireguard/${ifname}.sock`;
  const ferryd = nsA.spawn(process.execPath, ['--import', 'tsx', FERRYD, '-f', ifname], {
    cwd: REPO,
    env: { ...process.env, LOG_LEVEL: 'debug', FERRY_HTTP: `127.0.0.1:${HTTP_PORT}` },
  });
  let log = '';
  ferryd.stdout?.on('data', (d) => (log += d));
  ferryd.stderr?.on('data', (d) => (log += d));
  const exited = new Promise<number | null>((resolve) => ferryd.on('exit', (code) => resolve(code)));
  t.after(() => {
    ferryd.kill('SIGKILL');
    rmSync(sock, { force: true });
    rmSync(`/run/ferry/${ifname}.sock`, { force: true });
  });
  for (let i = 0; !existsSync(sock); i++) {
    assert.ok(i < 600, `ferryd made no UAPI socket in 30 s: ${log}`);
    await sleep(50);
  }
  const b = await startDaemon(t, nsB, 'wireguard-go');

  const keyA = genKey();
  const keyB = genKey();
  const psk = execFileSync('wg', ['genpsk'], { encoding: 'utf8' }).trim();
  const side = (ns: Netns, dev: string, self: ReturnType<typeof genKey>, port: number, other: ReturnType<typeof genKey>, peerPort: number, n: number, m: number) => {
    setconf({ ns, ifname: dev }, `[Interface]\nPrivateKey = ${self.privateKey}\nListenPort = ${port}\n\n[Peer]\nPublicKey = ${other.publicKey}\nPresharedKey = ${psk}\nAllowedIPs = 10.78.0.${m}/32\nEndpoint = 10.203.0.${m}:${peerPort}\n`);
    ns.run('ip', ['addr', 'add', `10.78.0.${n}/24`, 'dev', dev]);
    ns.run('ip', ['link', 'set', dev, 'up']);
  };
  side(nsA, ifname, keyA, 51831, keyB, 51832, 1, 2);
  side(nsB, b.ifname, keyB, 51832, keyA, 51831, 2, 1);

  nsA.run('ping', ['-c', String(PINGS), '-i', '0.05', '-W', '2', '10.78.0.2']);
  // Packets the datapath has no route for: counted no_route drops (the kernel's own IPv6
  // link-local chatter on the interface may add a few of its own).
  const dropsBefore = one(parseExposition(httpGet(nsA, '/metrics').body), 'ferry_drops_total', { interface: ifname, reason: 'no_route' });
  nsA.run('ip', ['route', 'add', '10.79.0.0/24', 'dev', ifname]);
  nsA.tryRun('ping', ['-c', '5', '-i', '0.05', '-W', '1', '10.79.0.9']);

  const metrics = httpGet(nsA, '/metrics');
  assert.equal(metrics.status, 200);
  const samples = parseExposition(metrics.body);
  const peer = { interface: ifname, public_key: keyB.publicKey, allowed_ips: '10.78.0.2/32' };
  const [, , , , , rx, tx] = nsA.run('wg', ['show', ifname, 'dump']).trim().split('\n')[1].split('\t');
  assert.equal(one(samples, 'wireguard_sent_bytes_total', peer), Number(tx), 'sent bytes are what wg show transfer reports');
  assert.equal(one(samples, 'wireguard_received_bytes_total', peer), Number(rx), 'received bytes too');
  assert.ok(Number(tx) >= PINGS * (84 + 32), `${PINGS} echo requests and their headers went out (${tx} bytes)`);
  const handshake = one(samples, 'wireguard_latest_handshake_seconds', peer);
  assert.ok(Math.abs(handshake - Date.now() / 1000) < 120, `the handshake is a recent Unix time (${handshake})`);
  assert.ok(one(samples, 'ferry_packets_total', { interface: ifname, port: 'tun', direction: 'rx' }) >= PINGS + 1);
  assert.ok(one(samples, 'ferry_packets_total', { interface: ifname, port: 'tun', direction: 'tx' }) >= PINGS, 'the echo replies reached the host');
  const noRoute = one(samples, 'ferry_drops_total', { interface: ifname, reason: 'no_route' });
  assert.ok(noRoute - dropsBefore >= 5, `the 5 pings without a route were counted (${dropsBefore} → ${noRoute})`);
  assert.equal(one(samples, 'ferry_plane_drops_total', { interface: ifname, plane: 'datapath', reason: 'no_route' }), noRoute, 'all of them by the datapath');
  assert.equal(one(samples, 'ferry_ready', { interface: ifname }), 1);

  // ferry top, one frame, while a ping runs: the peer, its handshake, traffic moving.
  const pinger = nsA.spawn('ping', ['-c', '3000', '-i', '0.01', '10.78.0.2']);
  t.after(() => void pinger.kill('SIGKILL'));
  const frame = nsA.run(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/ferry.ts'), 'top', ifname, '--once', '--interval', '1'], { timeout: 30_000 });
  assert.match(frame, new RegExp(`^ferry top: ${ifname} \\(wireguard\\)  up `, 'm'));
  assert.match(frame, /^tun: from host [1-9]\d*\/s, to host [1-9]\d*\/s; /m, 'packets moved during the frame');
  assert.match(frame, new RegExp(`^  ${keyB.publicKey.slice(0, 8).replace(/[+/]/g, '\\$&')} +10\\.203\\.0\\.2:51832 +\\d+s ago +[1-9]`, 'm'), 'the peer, its endpoint, a recent handshake, bytes received');
  assert.match(frame, /^ {2}no_route +\S+ +[1-9]\d*$/m, 'the drop reason seen');

  ferryd.kill('SIGTERM');
  assert.equal(await exited, 0, log);
  assert.match(log, /"level":20,/, 'debug lines were written: the search below reads a real log');
  assert.match(log, /"level":30,[^\n]*handshake complete: session up/, 'the handshake was logged at info');
  for (const [what, key] of [
    ['A private key', keyA.privateKey],
    ['B private key', keyB.privateKey],
    ['preshared key', psk],
  ] as const) {
    assert.ok(!log.includes(key), `${what} (base64) is not in the log`);
    assert.ok(!log.toLowerCase().includes(hex(key)), `${what} (hex) is not in the log`);
  }
});
