/**
 * VXLAN in the daemon: `ferry up` with a VXLAN-only config file against kernel nodes
 * programmed as flannel does (the MTU and the subnets' routes set by ferry up, traffic
 * both ways), `ferry vxlan show|fdb|add-peer|del-peer` over the control socket, and a
 * SIGHUP reload that adds and removes peers without disturbing the unchanged one;
 * `ferry syncconf` with [Ferry…] sections, and [FerryVxlan] removed and back at run time.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { run as ferryCli } from '../../src/cli/ferry.js';
import { MemoryIo } from '../../src/cli/wg/cli-io.js';
import { controlRequest } from '../../src/control/control-client.js';
import { netns, requireHost, run, trackLink, uniqueName, type Netns } from '../support/netns.js';
import { alive, ferry, waitFor, workspace } from '../support/quick-workspace.js';
import { PEER_A, PEER_B } from '../support/test-keys.js';
import { kernelVtep, programFlannelPeer } from '../support/vxlan-host.js';

const TOOLS = ['ping', 'bridge', 'ethtool', 'wg', 'bash', 'python3'];
const HTTP = '127.0.0.1:9589';
const F = { underlay: '10.206.0.1', vtep: '10.244.1.0', subnet: '10.244.1.0/24', mac: '02:f0:00:00:06:01' };
const K1 = { underlay: '10.206.0.2', vtep: '10.244.2.0', subnet: '10.244.2.0/24', mac: '02:4b:00:00:06:02' };
const K2 = { underlay: '10.206.0.3', vtep: '10.244.3.0', subnet: '10.244.3.0/24', mac: '02:4b:00:00:06:03' };

/** `ferry ARGS…` in this process (the control socket is a path, whatever the namespace). */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = new MemoryIo();
  const code = await ferryCli(io, argv);
  return { code, out: io.stdout, err: io.stderr };
}

/** A VXLAN datagram with VNI 99 (ferry carries 1) from the namespace's underlay address to ferry's port. */
function sendWrongVni(ns: Netns, from: string): void {
  const script = `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('${from}', 0))\ns.sendto(bytes([8, 0, 0, 0, 0, 0, 99, 0]) + bytes(60), ('${F.underlay}', 8472))`;
  ns.run('python3', ['-c', script]);
}

/** /metrics from the namespace's loopback, with a node inside it. */
function metrics(ns: Netns): string {
  return ns.run(process.execPath, ['-e', `fetch('http://${HTTP}/metrics').then(async (r) => process.stdout.write(await r.text()))`]);
}

function ping(ns: Netns, address: string, count = 2): boolean {
  return ns.tryRun('ping', ['-c', String(count), '-i', '0.2', '-W', '2', address]);
}

/** Three namespaces on one segment: ferry's, and two kernel nodes programmed with ferry as their flannel peer. */
function topology(t: TestContext): { nsF: Netns; nsK1: Netns; nsK2: Netns } {
  const sw = netns(t, 'fyvs');
  sw.run('ip', ['link', 'add', 'br0', 'type', 'bridge']);
  sw.run('ip', ['link', 'set', 'br0', 'up']);
  const join = (ns: Netns, address: string): string => {
    const a = uniqueName('fvn');
    const b = uniqueName('fvs');
    run('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    trackLink(a);
    run('ip', ['link', 'set', a, 'netns', ns.name]);
    run('ip', ['link', 'set', b, 'netns', sw.name]);
    sw.run('ip', ['link', 'set', b, 'master', 'br0', 'up']);
    ns.run('ip', ['addr', 'add', `${address}/24`, 'dev', a]);
    ns.run('ip', ['link', 'set', a, 'up']);
    // A kernel VTEP's inner checksums must be filled in on the "wire" (docs/vxlan.md).
    ns.run('ethtool', ['-K', a, 'tx', 'off']);
    return a;
  };
  const nsF = netns(t, 'fyvf');
  join(nsF, F.underlay);
  const kernels = [K1, K2].map((k) => {
    const ns = netns(t, 'fyvk');
    const dev = join(ns, k.underlay);
    const vx = kernelVtep(ns, { vni: 1, port: 8472, local: k.underlay, dev, mac: k.mac, addresses: [`${k.vtep}/32`] });
    programFlannelPeer(ns, vx, { subnet: F.subnet, gateway: F.vtep, mac: F.mac, remote: F.underlay });
    return ns;
  });
  return { nsF, nsK1: kernels[0], nsK2: kernels[1] };
}

function config(peers: Array<typeof K1>, extra = ''): string {
  let text = `[Interface]\nAddress = ${F.vtep}/32\n\n[FerryVxlan]\nLocal = ${F.underlay}\nVtepMAC = ${F.mac}\n${extra}`;
  for (const p of peers) text += `\n[FerryVxlanPeer]\nRemote = ${p.underlay}\nVtepMAC = ${p.mac}\nSubnets = ${p.subnet}\n`;
  return text;
}

interface ShowPeer {
  remote: string;
  vtepMac: string;
  txPackets: number;
  rxPackets: number;
}

async function show(ifname: string): Promise<{ peers: ShowPeer[]; vni: number }> {
  return (await controlRequest(ifname, 'vxlan-show')) as { peers: ShowPeer[]; vni: number };
}

test('ferry up: a VXLAN-only interface beside kernel nodes (MTU, routes, traffic); ferry vxlan show, fdb, add-peer, del-peer', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const { nsF, nsK1, nsK2 } = topology(t);
  const ws = workspace(t);
  const ifname = uniqueName('fyvx');
  ws.track(nsF, ifname);
  const path = ws.config(ifname, config([K1]));
  const up = ferry(nsF, 'up', path, { FERRYD: ws.ferryd, FERRY_HTTP: HTTP });
  assert.equal(up.status, 0, up.stderr);
  assert.match(nsF.run('ip', ['link', 'show', 'dev', ifname]), /mtu 1450 /, 'MTU = underlay 1500 - 50, MTU not in the file');
  assert.match(nsF.run('ip', ['route', 'show', 'dev', ifname]), /^10\.244\.2\.0\/24 /m, 'the peer\'s subnet routed into the interface');
  assert.ok(ping(nsF, K1.vtep) && ping(nsK1, F.vtep), 'traffic both ways');

  const status = (await controlRequest(ifname, 'status')) as { kind: string; vxlan: { vni: number; peers: number } };
  assert.equal(status.kind, 'wireguard+vxlan');
  assert.deepEqual([status.vxlan.vni, status.vxlan.peers], [1, 1]);
  const shown = await cli('vxlan', 'show', ifname);
  assert.equal(shown.code, 0, shown.err);
  assert.match(shown.out, new RegExp(`^interface: ${ifname}\\n  vxlan: vni 1, port 8472, local ${F.underlay}\\n  vtep mac: ${F.mac}\\n`));
  assert.match(shown.out, /\npeer: 10\.206\.0\.2\n {2}vtep mac: 02:4b:00:00:06:02\n {2}subnets: 10\.244\.2\.0\/24\n {2}transfer: .+ received, .+ sent\n/);
  assert.equal((await cli('vxlan', 'fdb', ifname)).out, `${K1.mac} dev ${ifname} dst ${K1.underlay} port 8472 vni 1 self permanent\n`);

  // A bad datagram from a peer's address is that VTEP's drop; one from a stranger (K2, not a peer yet) only the plane's.
  sendWrongVni(nsK2, K2.underlay);
  sendWrongVni(nsK1, K1.underlay);
  type DropsView = { planes: Record<string, Record<string, number>>; vteps: Record<string, Record<string, number>> };
  await waitFor(async () => ((await controlRequest(ifname, 'drops')) as DropsView).planes.vxlan?.vxlan_unknown_vni === 2, 'both drops counted');
  const vtepDrops = (await controlRequest(ifname, 'drops')) as DropsView;
  assert.equal(vtepDrops.vteps[K1.underlay]?.vxlan_unknown_vni, 1, JSON.stringify(vtepDrops));
  assert.equal(vtepDrops.vteps[K2.underlay], undefined, 'no row for the stranger');
  const dropsOut = await cli('drops', ifname);
  assert.equal(dropsOut.code, 0, dropsOut.err);
  assert.match(dropsOut.out, /vteps/);
  assert.match(dropsOut.out, /10\.206\.0\.2/);
  assert.match((await cli('vxlan', 'show', ifname)).out, /\npeer: 10\.206\.0\.2\n(?: {2}.+\n)* {2}drops: 1 \(vxlan_unknown_vni 1\)\n/);
  const exposition = metrics(nsF);
  assert.match(exposition, new RegExp(`^ferry_vxlan_peer_drops_total\\{interface="${ifname}",vni="1",remote="10\\.206\\.0\\.2",reason="vxlan_unknown_vni"\\} 1$`, 'm'));
  assert.doesNotMatch(exposition, /ferry_vxlan_peer_drops_total\{[^}]*remote="10\.206\.0\.3"/, 'no row for the stranger');

  // A peer at run time (its route, as with wg set, is the operator's).
  const bad = await cli('vxlan', 'add-peer', ifname, K2.underlay, K2.mac, '10.244.2.0/24');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /subnet 10\.244\.2\.0\/24 is already peer 10\.206\.0\.2's/);
  assert.equal((await cli('vxlan', 'add-peer', ifname, K2.underlay, K2.mac, K2.subnet)).code, 0);
  nsF.run('ip', ['route', 'add', K2.subnet, 'dev', ifname]);
  assert.ok(ping(nsF, K2.vtep) && ping(nsK2, F.vtep), 'the added peer is reachable both ways');
  assert.equal((await show(ifname)).peers.length, 2);
  assert.equal((await cli('vxlan', 'del-peer', ifname, K2.mac)).code, 0);
  assert.equal(ping(nsF, K2.vtep, 1), false, 'gone with its peer');
  const drops = (await controlRequest(ifname, 'drops')) as { datapath: Record<string, number> };
  assert.ok((drops.datapath.no_route ?? 0) >= 1, JSON.stringify(drops));
  assert.deepEqual((await show(ifname)).peers.map((p) => p.remote), [K1.underlay]);

  const pid = ((await controlRequest(ifname, 'status')) as { pid: number }).pid;
  const down = ferry(nsF, 'down', path);
  assert.equal(down.status, 0, down.stderr);
  await waitFor(() => !alive(pid), 'ferryd to exit');
});

test('SIGHUP: a changed file adds and removes VXLAN peers, the unchanged one keeps its counters; a bad file changes nothing', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const { nsF, nsK1, nsK2 } = topology(t);
  const ws = workspace(t);
  const ifname = uniqueName('fyvh');
  ws.track(nsF, ifname);
  const path = ws.config(ifname, config([K1]));
  assert.equal(ferry(nsF, 'up', path, { FERRYD: ws.ferryd }).status, 0);
  const pid = ((await controlRequest(ifname, 'status')) as { pid: number }).pid;
  assert.ok(ping(nsF, K1.vtep, 3));
  const before = (await show(ifname)).peers[0];
  assert.ok(before.txPackets >= 3);

  ws.config(ifname, config([K1, K2]));
  process.kill(pid, 'SIGHUP');
  await waitFor(async () => (await show(ifname)).peers.length === 2, 'the reload to add K2');
  const k1 = (await show(ifname)).peers.find((p) => p.remote === K1.underlay)!;
  assert.ok(k1.txPackets >= before.txPackets, 'K1 is the same peer: its counters went on');
  nsF.run('ip', ['route', 'add', K2.subnet, 'dev', ifname]);
  assert.ok(ping(nsF, K2.vtep) && ping(nsK2, F.vtep) && ping(nsK1, F.vtep));

  // An error anywhere in the file: reported with file:line, nothing applied.
  ws.config(ifname, config([K2], 'VNI = 16777216\n'));
  process.kill(pid, 'SIGHUP');
  await waitFor(() => readFileSync(ws.log, 'utf8').includes('VNI \\"16777216\\" is invalid'), 'the reload error in the log');
  assert.match(readFileSync(ws.log, 'utf8'), new RegExp(`${ifname}\\.conf:7: VNI`));
  assert.equal((await show(ifname)).peers.length, 2, 'nothing changed');

  ws.config(ifname, config([K2]));
  process.kill(pid, 'SIGHUP');
  await waitFor(async () => (await show(ifname)).peers.length === 1, 'the reload to remove K1');
  assert.equal((await show(ifname)).peers[0].remote, K2.underlay);
  assert.equal(ping(nsF, K1.vtep, 1), false, 'K1 is gone');
  assert.ok(ping(nsF, K2.vtep));
  const down = ferry(nsF, 'down', path);
  assert.equal(down.status, 0, down.stderr);
  await waitFor(() => !alive(pid), 'ferryd to exit');
});

test('ferry syncconf carries [Ferry…] sections: a new peer applied, the unchanged one undisturbed; a bad file changes nothing; [FerryVxlan] removed and back without ferry down', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const { nsF, nsK1, nsK2 } = topology(t);
  const ws = workspace(t);
  const ifname = uniqueName('fyvy');
  ws.track(nsF, ifname);
  const path = ws.config(ifname, config([K1]));
  assert.equal(ferry(nsF, 'up', path, { FERRYD: ws.ferryd }).status, 0);
  const pid = ((await controlRequest(ifname, 'status')) as { pid: number }).pid;
  assert.ok(ping(nsF, K1.vtep, 3));
  const before = (await show(ifname)).peers[0];

  // The file gains K2; `ferry syncconf IF <(ferry strip IF)`, the strip's output in a file here.
  ws.config(ifname, config([K1, K2]));
  const stripped = ferry(nsF, 'strip', path);
  assert.equal(stripped.status, 0, stripped.stderr);
  assert.match(stripped.stdout, /^\[FerryVxlanPeer\]\nRemote = 10\.206\.0\.3\n/m, 'strip keeps the [Ferry…] sections');
  assert.doesNotMatch(stripped.stdout, /^Address/m, 'and drops wg-quick keys');
  const syncFile = `${ws.dir}/sync.conf`;
  // A WireGuard peer in the same file: the UAPI part is applied too.
  writeFileSync(syncFile, `${stripped.stdout}[Peer]\nPublicKey = ${PEER_B}\nAllowedIPs = 10.98.0.0/16\n`, { mode: 0o600 });
  const synced = await cli('syncconf', ifname, syncFile);
  assert.equal(synced.code, 0, synced.err);
  const wgPeers = await cli('show', ifname, 'peers');
  assert.equal(wgPeers.code, 0, wgPeers.err);
  assert.equal(wgPeers.out, `${PEER_B}\n`);
  const peers = (await show(ifname)).peers;
  assert.deepEqual(peers.map((p) => p.remote).sort(), [K1.underlay, K2.underlay]);
  assert.ok(peers.find((p) => p.remote === K1.underlay)!.txPackets >= before.txPackets, 'K1 is the same peer: its counters went on');
  nsF.run('ip', ['route', 'add', K2.subnet, 'dev', ifname]);
  assert.ok(ping(nsF, K2.vtep) && ping(nsK2, F.vtep), 'the new peer is reachable both ways');
  assert.ok(ping(nsK1, F.vtep), 'the unchanged one too');
  const addresses = ((await controlRequest(ifname, 'vxlan-show')) as { addresses: string[] }).addresses;
  assert.deepEqual(addresses, [`${F.vtep}/32`], 'syncconf leaves the addresses (not in a stripped file) as they were');

  // A bad [Ferry…] value and a WireGuard peer in one file: neither is applied.
  const bad = `${stripped.stdout.replace('[FerryVxlan]\n', '[FerryVxlan]\nVNI = 16777216\n')}[Peer]\nPublicKey = ${PEER_A}\nAllowedIPs = 10.99.0.0/16\n`;
  assert.notEqual(bad, stripped.stdout);
  writeFileSync(syncFile, bad, { mode: 0o600 });
  const refused = await cli('syncconf', ifname, syncFile);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /sync\.conf:\d+: VNI "16777216" is invalid/);
  assert.match(refused.err, /nothing was changed/);
  assert.equal((await show(ifname)).peers.length, 2, 'the VXLAN peers are as they were');
  assert.equal((await cli('show', ifname, 'peers')).out, `${PEER_B}\n`, 'the WireGuard peers are as they were: A not added, B not removed');

  // A file whose only [Ferry…] section is [Ferry]: VXLAN goes, without ferry down…
  writeFileSync(syncFile, '[Interface]\n\n[Ferry]\nHttp = 127.0.0.1:9586\n', { mode: 0o600 });
  const removed = await cli('syncconf', ifname, syncFile);
  assert.equal(removed.code, 0, removed.err);
  assert.equal(((await controlRequest(ifname, 'status')) as { kind: string }).kind, 'wireguard');
  const gone = await cli('vxlan', 'show', ifname);
  assert.equal(gone.code, 1);
  assert.match(gone.err, /has no VXLAN VTEP/);
  assert.equal(ping(nsF, K1.vtep, 1), false);
  // …and comes back with the daemon's own file (SIGHUP), on the same interface.
  ws.config(ifname, config([K1]));
  process.kill(pid, 'SIGHUP');
  await waitFor(async () => ((await controlRequest(ifname, 'status')) as { kind: string }).kind === 'wireguard+vxlan', 'VXLAN to be mounted again');
  assert.ok(ping(nsF, K1.vtep) && ping(nsK1, F.vtep), 'the VTEP is back');
  assert.ok(alive(pid), 'the same daemon throughout');
});
