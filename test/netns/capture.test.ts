/**
 * `ferry capture` against real peers in namespaces, read back by tshark:
 *  - ferry ↔ wireguard-go, a ping each way: the ICMP echo at tun and inner, WireGuard
 *    messages at outer (tshark's wg dissector), the same packets decrypted by tshark from
 *    the secrets block in the file alone (no key on its command line; a capture without
 *    --keys beside it stays opaque), and a packet from outside the peer's allowed IPs at
 *    drop with its reason; Ctrl-C ends the capture with status 0 and the summary;
 *  - a VXLAN interface beside a kernel VTEP: decoded VXLAN at outer, -c ends it;
 *  - a reader that stops reading: the tunnel goes on, the capture counts what it lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readPcapng } from '../../src/capture/pcapng-read.js';
import { netns, requireHost, run, trackLink, uniqueName, type Netns } from '../support/netns.js';
import { ferry, waitFor, workspace } from '../support/quick-workspace.js';
import { kernelVtep, programFlannelPeer } from '../support/vxlan-host.js';
import { ping, REPO, wgPair } from '../support/wg.js';

const FERRY_CLI = join(REPO, 'src/cli/ferry.ts');

interface Capture {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

/** `ferry capture ARGS…` as a user runs it (its own process, Ctrl-C is SIGINT). */
function capture(t: TestContext, args: string[], stdout: 'ignore' | 'pipe' = 'ignore'): Capture {
  const child = spawn(process.execPath, ['--import', 'tsx', FERRY_CLI, 'capture', ...args], { cwd: REPO, stdio: ['ignore', stdout, 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  let err = '';
  child.stderr?.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, stderr: () => err, exited };
}

function tmp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-capture-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** tshark's fields for every frame of FILE, as rows of columns. */
function tshark(file: string, fields: string[], extra: string[] = []): string[][] {
  const out = run('tshark', ['-r', file, ...extra, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])], { timeout: 60_000 });
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('|'));
}

/** Waits until the capture has written its header blocks (it is attached). */
async function started(file: string): Promise<void> {
  await waitFor(() => {
    try {
      return statSync(file).size > 0;
    } catch {
      return false;
    }
  }, 'the capture to start', 30_000);
}

test('ferry ↔ wireguard-go: tun, inner, outer (decrypted from the file\'s own secrets) and drop, read by tshark', async (t) => {
  if (!requireHost(t, ['wireguard-go', 'wg', 'ping', 'tshark'])) return;
  const dir = tmp(t);
  // ferryd appends the same secrets to FERRY_KEYLOG_FILE (set for the daemons this test starts only).
  const keyLog = join(dir, 'ferry.keys');
  const saved = process.env.FERRY_KEYLOG_FILE;
  process.env.FERRY_KEYLOG_FILE = keyLog;
  let pair;
  try {
    pair = await wgPair(t, { left: 'ferry', right: 'wireguard-go', psk: true });
  } finally {
    if (saved === undefined) delete process.env.FERRY_KEYLOG_FILE;
    else process.env.FERRY_KEYLOG_FILE = saved;
  }
  const { a, b, psk } = pair;
  const withKeys = join(dir, 'keys.pcapng');
  const without = join(dir, 'plain.pcapng');
  const c1 = capture(t, [a.ifname, '-w', withKeys, '--keys']);
  const c2 = capture(t, [a.ifname, '-w', without]);
  await Promise.all([started(withKeys), started(without)]);

  // wireguard-go initiates (ferry answers), then ferry pings back on the same session.
  ping(b, a.inner4, 3);
  ping(a, b.inner4, 3);
  // From wireguard-go's side, a source ferry does not allow for that peer.
  b.ns.run('ip', ['addr', 'add', '10.77.0.99/32', 'dev', b.ifname]);
  b.ns.tryRun('ping', ['-c', '1', '-W', '1', '-I', '10.77.0.99', a.inner4]);
  await new Promise((r) => setTimeout(r, 500));
  for (const c of [c1, c2]) c.child.kill('SIGINT');
  assert.equal(await c1.exited, 0, c1.stderr());
  assert.equal(await c2.exited, 0, c2.stderr());
  const summary = /^(\d+) packets captured, (\d+) lost\n$/.exec(c1.stderr());
  assert.ok(summary, c1.stderr());
  assert.equal(summary[2], '0');
  const file = readPcapng(readFileSync(withKeys));
  assert.equal(file.trailing, 0);
  assert.equal(file.packets.length, Number(summary[1]), 'the summary counts what the file holds');
  assert.deepEqual(file.interfaces.map((i) => i.name), ['tun', 'inner', 'outer', 'drop']);

  const rows = tshark(withKeys, ['frame.interface_name', 'frame.p2p_dir', 'icmp.type', 'wg.type', 'wg.static', 'frame.comment', 'ip.src']);
  const at = (point: string) => rows.filter((r) => r[0] === point);
  for (const point of ['tun', 'inner']) {
    const types = at(point).map((r) => r[2]);
    assert.ok(types.filter((x) => x === '8').length >= 6 && types.filter((x) => x === '0').length >= 6, `${point}: 6 echo requests and 6 replies, got ${JSON.stringify(types)}`);
  }
  assert.ok(at('inner').every((r) => r[5].includes(`peer=${b.publicKey}`)), 'inner packets name the peer');
  const outer = at('outer');
  const wgTypes = new Set(outer.map((r) => r[3]));
  for (const type of ['1', '2', '4']) assert.ok(wgTypes.has(type), `outer: wg message type ${type} in ${[...wgTypes].join(',')}`);
  // Decrypted by tshark from the secrets block: the initiator's static key, and ICMP inside transport data.
  const initiation = outer.find((r) => r[3] === '1');
  assert.equal(initiation?.[4], b.publicKey, 'the initiation\'s encrypted static key, decrypted');
  const decryptedIcmp = outer.filter((r) => r[3] === '4' && (r[2] === '8' || r[2] === '0'));
  assert.ok(decryptedIcmp.length >= 12, `ICMP inside ${decryptedIcmp.length} transport messages`);
  const drop = at('drop').find((r) => r[5].includes('reason=wg_source_not_allowed'));
  assert.ok(drop, JSON.stringify(at('drop')));
  assert.match(drop[6], /10\.77\.0\.99/);
  assert.ok(drop[5].includes(`peer=${b.publicKey}`));

  // The capture without --keys: the same WireGuard messages, nothing decrypted.
  const plain = tshark(without, ['frame.interface_name', 'icmp.type', 'wg.type', 'wg.static']).filter((r) => r[0] === 'outer');
  assert.ok(plain.some((r) => r[2] === '4'));
  assert.ok(plain.every((r) => r[1] === '' && r[3] === ''), 'no secrets, no plaintext');
  assert.equal(readPcapng(readFileSync(without)).secrets.length, 0);

  // The key log file: one handshake's four lines (ours: ferry answered), mode 0600, and
  // with it tshark decrypts the capture that carries no secrets.
  const logged = readFileSync(keyLog, 'utf8');
  assert.match(logged, new RegExp(`^LOCAL_STATIC_PRIVATE_KEY = ${a.privateKey.replace(/[+/]/g, '\\$&')}\nREMOTE_STATIC_PUBLIC_KEY = ${b.publicKey.replace(/[+/]/g, '\\$&')}\nLOCAL_EPHEMERAL_PRIVATE_KEY = [A-Za-z0-9+/]{43}=\nPRESHARED_KEY = ${(psk as string).replace(/[+/]/g, '\\$&')}\n$`));
  assert.equal(statSync(keyLog).mode & 0o777, 0o600);
  const opened = tshark(without, ['frame.interface_name', 'icmp.type', 'wg.type'], ['-o', `wg.keylog_file:${keyLog}`]).filter((r) => r[0] === 'outer' && r[2] === '4' && r[1] !== '');
  assert.ok(opened.length >= 12, `decrypted with the key log file: ${opened.length}`);
  t.diagnostic(`${file.packets.length} packets in the --keys capture, ${decryptedIcmp.length} ICMP decrypted at outer from its secrets, ${opened.length} with the key log file`);
});

const F = { underlay: '10.207.0.1', vtep: '10.245.1.0', subnet: '10.245.1.0/24', mac: '02:f0:00:00:07:01' };
const K = { underlay: '10.207.0.2', vtep: '10.245.2.0', subnet: '10.245.2.0/24', mac: '02:4b:00:00:07:02' };

function vxlanTopology(t: TestContext): { nsF: Netns; nsK: Netns } {
  const nsF = netns(t, 'fycf');
  const nsK = netns(t, 'fyck');
  const a = uniqueName('fcva');
  const b = uniqueName('fcvb');
  run('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  trackLink(a);
  run('ip', ['link', 'set', a, 'netns', nsF.name]);
  run('ip', ['link', 'set', b, 'netns', nsK.name]);
  for (const [ns, dev, addr] of [[nsF, a, F.underlay], [nsK, b, K.underlay]] as const) {
    ns.run('ip', ['addr', 'add', `${addr}/24`, 'dev', dev]);
    ns.run('ip', ['link', 'set', dev, 'up']);
    ns.run('ethtool', ['-K', dev, 'tx', 'off']);
  }
  const vx = kernelVtep(nsK, { vni: 1, port: 8472, local: K.underlay, dev: b, mac: K.mac, addresses: [`${K.vtep}/32`] });
  programFlannelPeer(nsK, vx, { subnet: F.subnet, gateway: F.vtep, mac: F.mac, remote: F.underlay });
  return { nsF, nsK };
}

test('VXLAN: the outer point carries VXLAN that tshark decodes; -c ends the capture with status 0', async (t) => {
  if (!requireHost(t, ['ping', 'ethtool', 'bridge', 'wg', 'bash', 'tshark'])) return;
  const { nsF } = vxlanTopology(t);
  const ws = workspace(t);
  const ifname = uniqueName('fycx');
  ws.track(nsF, ifname);
  const conf = `[Interface]\nAddress = ${F.vtep}/32\n\n[FerryVxlan]\nLocal = ${F.underlay}\nVtepMAC = ${F.mac}\n\n[FerryVxlanPeer]\nRemote = ${K.underlay}\nVtepMAC = ${K.mac}\nSubnets = ${K.subnet}\n`;
  const up = ferry(nsF, 'up', ws.config(ifname, conf), { FERRYD: ws.ferryd });
  assert.equal(up.status, 0, up.stderr);
  const file = join(tmp(t), 'vxlan.pcapng');
  // --seconds: a bound, should the count never be reached.
  const c = capture(t, [ifname, '-w', file, '--point', 'outer', '-c', '4', '--seconds', '60', '--vtep', K.underlay, 'udp']);
  await started(file);
  assert.ok(nsF.tryRun('ping', ['-c', '3', '-i', '0.2', '-W', '2', K.vtep]));
  assert.equal(await c.exited, 0, c.stderr());
  assert.equal(c.stderr(), '4 packets captured, 0 lost\n');
  const rows = tshark(file, ['frame.interface_name', 'vxlan.vni', 'icmp.type', 'frame.comment', 'udp.dstport'], ['-d', 'udp.port==8472,vxlan']);
  assert.equal(rows.length, 4);
  for (const r of rows) {
    assert.equal(r[0], 'outer');
    assert.equal(r[1], '1', 'VNI 1, decoded');
    assert.match(r[2], /^(8|0)$/, 'the ICMP echo inside');
    assert.equal(r[3], `plane=vxlan vtep=${K.underlay}`);
  }
});

test('a reader that stops reading: the tunnel carries on, the capture counts its losses', async (t) => {
  if (!requireHost(t, ['wireguard-go', 'wg', 'ping'])) return;
  const { a, b } = await wgPair(t, { left: 'ferry', right: 'wireguard-go' });
  ping(a, b.inner4, 1);
  const c = capture(t, [a.ifname, '-w', '-'], 'pipe');
  const out = c.child.stdout!;
  // The header arrives; then nobody reads: the pipe, the client and the socket fill up.
  await new Promise((r) => out.once('readable', r));
  const flood = a.ns.run('ping', ['-q', '-c', '1500', '-i', '0.002', '-s', '1200', '-W', '2', b.inner4], { timeout: 120_000 });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(flood);
  assert.ok(m, flood);
  assert.ok(Number(m[2]) >= Number(m[1]) * 0.95, `the tunnel carried on while the reader stalled: ${m[0]}`);
  // Now read everything and stop.
  const chunks: Buffer[] = [];
  out.on('data', (d: Buffer) => chunks.push(d));
  await new Promise((r) => setTimeout(r, 300));
  c.child.kill('SIGINT');
  assert.equal(await c.exited, 0, c.stderr());
  const s = /^(\d+) packets captured, (\d+) lost\n$/.exec(c.stderr());
  assert.ok(s, c.stderr());
  assert.ok(Number(s[2]) > 0, `a stalled reader loses packets: ${c.stderr()}`);
  t.diagnostic(`stalled reader: ${m[0]}; ${c.stderr().trim()}`);
  const file = readPcapng(Buffer.concat(chunks));
  assert.equal(file.trailing, 0, 'whole blocks only');
  assert.equal(file.packets.length, Number(s[1]));
});
