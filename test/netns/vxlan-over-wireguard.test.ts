/**
 * VXLAN inside WireGuard, both ways ferry offers it: a VXLAN interface whose underlay is
 * routed through a ferry WireGuard interface, and one interface running both planes (a
 * private key and [FerryVxlan]). Traffic flows, the MTU leaves room for both headers, and
 * the wire between the hosts carries WireGuard only: nft counts no VXLAN datagram on it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { netns, requireHost, uniqueName, vethPair, type Netns } from '../support/netns.js';
import { ferry, type Workspace, workspace } from '../support/quick-workspace.js';
import { genKey } from '../support/wg.js';

const TOOLS = ['ping', 'wg', 'bash', 'nft'];
const MAC = ['02:f0:00:00:07:01', '02:f0:00:00:07:02'];

interface Host {
  ns: Netns;
  underlay: string;
  veth: string;
  wgAddress: string;
  vtep: string;
  subnet: string;
  listenPort: number;
  keys: { privateKey: string; publicKey: string };
}

function hosts(t: TestContext): [Host, Host] {
  const a = netns(t, 'fywa');
  const b = netns(t, 'fywb');
  const { a: va, b: vb } = vethPair(a, '10.207.0.1/24', b, '10.207.0.2/24');
  return [
    { ns: a, underlay: '10.207.0.1', veth: va, wgAddress: '10.99.0.1', vtep: '10.244.1.0', subnet: '10.244.1.0/24', listenPort: 51841, keys: genKey() },
    { ns: b, underlay: '10.207.0.2', veth: vb, wgAddress: '10.99.0.2', vtep: '10.244.2.0', subnet: '10.244.2.0/24', listenPort: 51842, keys: genKey() },
  ];
}

function wgSections(self: Host, other: Host): string {
  return `[Interface]\nPrivateKey = ${self.keys.privateKey}\nListenPort = ${self.listenPort}\nAddress = ${self.wgAddress}/24\n\n[Peer]\nPublicKey = ${other.keys.publicKey}\nAllowedIPs = ${other.wgAddress}/32\nEndpoint = ${other.underlay}:${other.listenPort}\n`;
}

function vxlanSections(self: Host, other: Host, i: number): string {
  return `\n[FerryVxlan]\nLocal = ${self.wgAddress}\nVtepMAC = ${MAC[i]}\n\n[FerryVxlanPeer]\nRemote = ${other.wgAddress}\nVtepMAC = ${MAC[1 - i]}\nSubnets = ${other.subnet}\n`;
}

/** nft counters of UDP on the host's wire, by destination port: [VXLAN, WireGuard]. */
function wireCounters(h: Host, other: Host): () => [number, number] {
  h.ns.run('nft', ['-f', '-'], {
    input: `table inet fywire {\n chain out {\n  type filter hook postrouting priority 0;\n  oifname "${h.veth}" udp dport 8472 counter\n  oifname "${h.veth}" udp dport ${other.listenPort} counter\n }\n chain in {\n  type filter hook prerouting priority 0;\n  iifname "${h.veth}" udp dport 8472 counter\n }\n}\n`,
  });
  return () => {
    const c = [...h.ns.run('nft', ['list', 'table', 'inet', 'fywire']).matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    return [c[0] + c[2], c[1]];
  };
}

function up(ws: Workspace, h: Host, ifname: string, text: string): void {
  ws.track(h.ns, ifname);
  const r = ferry(h.ns, 'up', ws.config(ifname, text), { FERRYD: ws.ferryd });
  assert.equal(r.status, 0, r.stderr);
}

/** Pings between the VTEP addresses (the overlay's own: with both planes on one interface the host would pick its WireGuard address). */
function traffic(a: Host, b: Host): void {
  a.ns.run('ping', ['-c', '3', '-i', '0.2', '-W', '3', '-I', a.vtep, b.vtep]);
  b.ns.run('ping', ['-c', '3', '-i', '0.2', '-W', '3', '-I', b.vtep, a.vtep]);
  // Full-size inner packets, DF set: they fit both headers without fragmentation.
  a.ns.run('ping', ['-c', '2', '-i', '0.2', '-W', '3', '-M', 'do', '-s', String(1370 - 28), '-I', a.vtep, b.vtep]);
}

test('a VXLAN interface whose underlay runs through a ferry WireGuard interface', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const [a, b] = hosts(t);
  const ws = workspace(t);
  const wire = wireCounters(a, b);
  for (const [i, [self, other]] of [[a, b], [b, a]].entries()) {
    up(ws, self, uniqueName('fywg'), wgSections(self, other));
    const vx = uniqueName('fywx');
    up(ws, self, vx, `[Interface]\nAddress = ${self.vtep}/32\n${vxlanSections(self, other, i)}`);
    assert.match(self.ns.run('ip', ['link', 'show', 'dev', vx]), /mtu 1370 /, 'the path to the peer (WireGuard, MTU 1420) minus 50');
  }
  traffic(a, b);
  const [vxlanOnWire, wgOnWire] = wire();
  assert.equal(vxlanOnWire, 0, 'no VXLAN datagram on the wire');
  assert.ok(wgOnWire >= 8, `WireGuard carried it (${wgOnWire} datagrams)`);
});

test('one interface running WireGuard and VXLAN (a private key and [FerryVxlan])', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const [a, b] = hosts(t);
  const ws = workspace(t);
  const wire = wireCounters(a, b);
  for (const [i, [self, other]] of [[a, b], [b, a]].entries()) {
    const ifname = uniqueName('fywv');
    up(ws, self, ifname, `${wgSections(self, other).replace(`Address = ${self.wgAddress}/24`, `Address = ${self.wgAddress}/24, ${self.vtep}/32`)}${vxlanSections(self, other, i)}`);
    assert.match(self.ns.run('ip', ['link', 'show', 'dev', ifname]), /mtu 1420 /, 'WireGuard\'s MTU');
    const vxlanRoute = new RegExp(`^${other.subnet.replace(/\./g, '\\.')} .*mtu 1370`, 'm');
    assert.match(self.ns.run('ip', ['route', 'show', 'dev', ifname]), vxlanRoute, 'the VXLAN subnet\'s route leaves room for VXLAN inside WireGuard');
  }
  traffic(a, b);
  const [vxlanOnWire, wgOnWire] = wire();
  assert.equal(vxlanOnWire, 0, 'no VXLAN datagram on the wire');
  assert.ok(wgOnWire >= 8, `WireGuard carried it (${wgOnWire} datagrams)`);
});
