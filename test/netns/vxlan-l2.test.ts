/**
 * The L2 VTEP (Mode = l2) through `ferry up`: the interface is a TAP that the test puts in
 * a Linux bridge, with a veth to a "host" namespace behind it. Two ferry VTEPs carry ping
 * and a TCP transfer between their hosts and learn each other's host MACs (`ferry vxlan
 * fdb`); a ferry VTEP and a kernel vxlan device in bridge mode (learning, an all-zero
 * flood entry toward ferry) exchange frames too.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { run as ferryCli } from '../../src/cli/ferry.js';
import { MemoryIo } from '../../src/cli/wg/cli-io.js';
import { controlRequest } from '../../src/control/control-client.js';
import { netns, requireHost, run, trackLink, uniqueName, vethPair, type Netns } from '../support/netns.js';
import { alive, ferry, waitFor, workspace, type Workspace } from '../support/quick-workspace.js';
import { randomFile, tcpTransfer } from '../support/tcp-transfer.js';

const TOOLS = ['ping', 'bridge', 'ethtool', 'ncat', 'ss', 'sha256sum', 'bash'];
const A = { underlay: '10.207.0.1', host: '10.60.0.1', mac: '02:f1:00:00:07:01' };
const B = { underlay: '10.207.0.2', host: '10.60.0.2', mac: '02:f1:00:00:07:02' };

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = new MemoryIo({}, tmpdir());
  const code = await ferryCli(io, argv);
  return { code, out: io.stdout, err: io.stderr };
}

function l2Config(self: typeof A, remotes: string[]): string {
  let text = `[FerryVxlan]\nMode = l2\nLearning = true\nLocal = ${self.underlay}\nVtepMAC = ${self.mac}\n`;
  for (const r of remotes) text += `\n[FerryVxlanPeer]\nRemote = ${r}\n`;
  return text;
}

/** A bridge in `ns` with `port` in it, and a veth to a new "host" namespace holding `address`. Returns the host and its MAC. */
function bridgedHost(t: TestContext, ns: Netns, port: string, address: string): { host: Netns; mac: string } {
  ns.run('ip', ['link', 'add', 'br0', 'type', 'bridge']);
  ns.run('ip', ['link', 'set', port, 'master', 'br0']);
  ns.run('ip', ['link', 'set', port, 'up']);
  const host = netns(t, 'fylh');
  const h = uniqueName('fvh');
  const p = uniqueName('fvp');
  run('ip', ['link', 'add', h, 'type', 'veth', 'peer', 'name', p]);
  trackLink(h);
  run('ip', ['link', 'set', h, 'netns', host.name]);
  run('ip', ['link', 'set', p, 'netns', ns.name]);
  // The overlay's MTU (underlay 1500 - 50): a bridge does not fragment.
  host.run('ip', ['link', 'set', h, 'mtu', '1450', 'up']);
  host.run('ip', ['addr', 'add', `${address}/24`, 'dev', h]);
  ns.run('ip', ['link', 'set', p, 'mtu', '1450', 'master', 'br0', 'up']);
  ns.run('ip', ['link', 'set', 'br0', 'up']);
  const mac = /link\/ether ([0-9a-f:]{17})/.exec(host.run('ip', ['link', 'show', 'dev', h]))![1];
  return { host, mac };
}

async function upL2(ws: Workspace, ns: Netns, self: typeof A, remotes: string[]): Promise<{ ifname: string; path: string; pid: number }> {
  const ifname = uniqueName('fyl2');
  ws.track(ns, ifname);
  const path = ws.config(ifname, l2Config(self, remotes));
  const up = ferry(ns, 'up', path, { FERRYD: ws.ferryd });
  assert.equal(up.status, 0, up.stderr);
  assert.match(ns.run('ip', ['-d', 'link', 'show', 'dev', ifname]), /link\/ether .* tun type tap /s, 'the interface is a TAP');
  assert.match(ns.run('ip', ['link', 'show', 'dev', ifname]), /mtu 1450 /, 'MTU = underlay 1500 - 50');
  const pid = ((await controlRequest(ifname, 'status')) as { pid: number }).pid;
  return { ifname, path, pid };
}

test('two ferry L2 VTEPs, each TAP in a bridge: ping and a TCP transfer between the hosts behind them; learning seen in ferry vxlan fdb', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const nsA = netns(t, 'fyla');
  const nsB = netns(t, 'fylb');
  vethPair(nsA, `${A.underlay}/24`, nsB, `${B.underlay}/24`);
  const ws = workspace(t);
  const a = await upL2(ws, nsA, A, [B.underlay]);
  const b = await upL2(ws, nsB, B, [A.underlay]);
  const hostA = bridgedHost(t, nsA, a.ifname, A.host);
  const hostB = bridgedHost(t, nsB, b.ifname, B.host);

  assert.ok(hostA.host.tryRun('ping', ['-c', '3', '-i', '0.2', '-W', '2', B.host]), 'ping across the overlay');
  const data = randomFile(t, 16 * 1024 * 1024);
  assert.equal(await tcpTransfer(hostA.host, hostB.host, B.host, 5301, data.path), data.sha256, 'A → B, whole');
  assert.equal(await tcpTransfer(hostB.host, hostA.host, A.host, 5302, data.path), data.sha256, 'B → A, whole');

  // A learned B's host MAC behind B's underlay address (and B learned A's).
  const fdbA = await cli('vxlan', 'fdb', a.ifname);
  assert.equal(fdbA.code, 0, fdbA.err);
  assert.match(fdbA.out, new RegExp(`^${hostB.mac} dev ${a.ifname} dst ${B.underlay} port 8472 vni 1 self\\n`, 'm'), fdbA.out);
  assert.match(fdbA.out, new RegExp(`^00:00:00:00:00:00 dev ${a.ifname} dst ${B.underlay} port 8472 vni 1 self permanent\\n`, 'm'));
  const fdbB = (await controlRequest(b.ifname, 'vxlan-fdb')) as Array<{ mac: string; dst: string; state: string; ageMs: number }>;
  const learned = fdbB.find((e) => e.mac === hostA.mac);
  assert.ok(learned !== undefined && learned.dst === A.underlay && learned.state === 'learned' && learned.ageMs < 60_000, JSON.stringify(fdbB));

  const shown = await cli('vxlan', 'show', a.ifname);
  assert.match(shown.out, new RegExp(`^interface: ${a.ifname}\\n  vxlan: vni 1, port 8472, local ${A.underlay}, l2, learning\\n`));
  const status = (await controlRequest(a.ifname, 'status')) as { kind: string };
  assert.equal(status.kind, 'wireguard+vxlan');
  const drops = (await controlRequest(a.ifname, 'drops')) as { planes: Record<string, Record<string, number>> };
  assert.deepEqual(Object.keys(drops.planes.vxlan ?? {}).filter((k) => k !== 'vxlan_no_fdb_entry'), [], JSON.stringify(drops));

  for (const x of [{ ns: nsA, ...a }, { ns: nsB, ...b }]) {
    const down = ferry(x.ns, 'down', x.path);
    assert.equal(down.status, 0, down.stderr);
    await waitFor(() => !alive(x.pid), 'ferryd to exit');
  }
});

test('a ferry L2 VTEP and a kernel vxlan device in bridge mode (learning, an all-zero entry toward ferry) exchange frames', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const nsF = netns(t, 'flyf');
  const nsK = netns(t, 'flyk');
  const u = vethPair(nsF, `${A.underlay}/24`, nsK, `${B.underlay}/24`);
  // The kernel VTEP's inner checksums must be filled in on the "wire" (docs/vxlan.md).
  nsK.run('ethtool', ['-K', u.b, 'tx', 'off']);
  nsF.run('ethtool', ['-K', u.a, 'tx', 'off']);
  const ws = workspace(t);
  const f = await upL2(ws, nsF, A, [B.underlay]);
  const vx = uniqueName('kvl');
  nsK.run('ip', ['link', 'add', vx, 'type', 'vxlan', 'id', '1', 'dstport', '8472', 'local', B.underlay, 'dev', u.b, 'learning']);
  nsK.run('bridge', ['fdb', 'append', '00:00:00:00:00:00', 'dev', vx, 'dst', A.underlay]);
  const hostF = bridgedHost(t, nsF, f.ifname, A.host);
  const hostK = bridgedHost(t, nsK, vx, B.host);

  assert.ok(hostF.host.tryRun('ping', ['-c', '3', '-i', '0.2', '-W', '2', B.host]), 'ferry side → kernel side');
  assert.ok(hostK.host.tryRun('ping', ['-c', '3', '-i', '0.2', '-W', '2', A.host]), 'kernel side → ferry side');
  const data = randomFile(t, 16 * 1024 * 1024);
  assert.equal(await tcpTransfer(hostF.host, hostK.host, B.host, 5311, data.path), data.sha256, 'ferry → kernel, whole');
  assert.equal(await tcpTransfer(hostK.host, hostF.host, A.host, 5312, data.path), data.sha256, 'kernel → ferry, whole');

  // Each side learned the other's host behind the other's underlay address.
  assert.match(nsK.run('bridge', ['fdb', 'show', 'dev', vx]), new RegExp(`^${hostF.mac} dst ${A.underlay} self`, 'm'));
  assert.match((await cli('vxlan', 'fdb', f.ifname)).out, new RegExp(`^${hostK.mac} dev ${f.ifname} dst ${B.underlay} port 8472 vni 1 self\\n`, 'm'));
});
