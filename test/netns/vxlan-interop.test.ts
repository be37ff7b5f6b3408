/**
 * A ferry L3 VTEP and the kernel's vxlan device in one overlay, the kernel side
 * programmed exactly as flannel programs its peers (nolearning device, permanent
 * neighbour, FDB entry, onlink route). ferry's subnet is 10.244.1.0/24 (VTEP address
 * 10.244.1.0/32, fd00:1::1), the kernel's 10.244.2.0/24 (10.244.2.0/32, fd00:2::1).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { netns, requireHost, run, trackLink, uniqueName, vethPair, type Netns } from '../support/netns.js';
import { randomFile, tcpTransfer } from '../support/tcp-transfer.js';
import { ferryConfig, type FerryVtep, kernelVtep, linkCounters, programFlannelPeer, sendDatagram, startFerryVtep } from '../support/vxlan-host.js';

const FERRY_MAC = '02:f0:00:00:01:01';
const KERNEL_MAC = '02:4b:00:00:02:02';

interface Overlay {
  ferry: FerryVtep;
  nsF: Netns;
  nsK: Netns;
  kdev: string;
  kernelUnderlay: string;
  ferryUnderlay: string;
}

interface OverlayOptions {
  port?: number;
  ipv6Underlay?: boolean;
  /** Kernel side resolves ferry's VTEP address by ARP/ND through an all-zero FDB entry. */
  resolve?: boolean;
  /** ferry's VNI (the kernel's is 1). */
  ferryVni?: number;
  /** More options for the kernel's vxlan device. */
  kernelExtra?: string[];
}

function ping(ns: Netns, address: string, count = 3): string {
  return ns.run('ping', ['-c', String(count), '-i', '0.2', '-W', '3', address], { timeout: 30_000 });
}

async function overlay(t: TestContext, o: OverlayOptions = {}): Promise<Overlay> {
  const port = o.port ?? 8472;
  const nsF = netns(t, 'fyxf');
  const nsK = netns(t, 'fyxk');
  const [ferryUnderlay, kernelUnderlay] = o.ipv6Underlay ? ['fd99::1', 'fd99::2'] : ['10.203.0.1', '10.203.0.2'];
  const plen = o.ipv6Underlay ? 64 : 24;
  const { b: kveth } = vethPair(nsF, `${ferryUnderlay}/${plen}`, nsK, `${kernelUnderlay}/${plen}`);
  if (o.ipv6Underlay) {
    for (const ns of [nsF, nsK]) ns.run('sysctl', ['-qw', 'net.ipv6.conf.all.accept_dad=0']);
  }
  // A veth leaves the kernel VTEP's inner TCP/UDP checksums to "hardware" (CHECKSUM_PARTIAL),
  // so they would reach ferry's socket never filled in; a real NIC (or the kernel's software
  // fallback for one without encapsulation offloads) fills them in on the wire. Make the veth
  // behave like such a wire.
  nsK.run('ethtool', ['-K', kveth, 'tx', 'off']);
  const kdev = kernelVtep(nsK, { vni: 1, port, local: kernelUnderlay, dev: kveth, mac: KERNEL_MAC, addresses: ['10.244.2.0/32', 'fd00:2::1/128'], extra: o.kernelExtra });
  for (const [subnet, gateway] of [['10.244.1.0/24', '10.244.1.0'], ['fd00:1::/64', 'fd00:1::1']]) {
    programFlannelPeer(nsK, kdev, { subnet, gateway, mac: FERRY_MAC, remote: ferryUnderlay, staticNeighbor: !o.resolve });
  }
  const conf = ferryConfig({
    addresses: ['10.244.1.0/32', 'fd00:1::1/128'],
    vni: o.ferryVni ?? 1,
    port,
    local: ferryUnderlay,
    mac: FERRY_MAC,
    peers: [{ remote: kernelUnderlay, mac: KERNEL_MAC, subnets: ['10.244.2.0/24', 'fd00:2::/64'] }],
  });
  const ferry = await startFerryVtep(t, nsF, conf, { addresses: ['10.244.1.0/32', 'fd00:1::1/128'], routes: ['10.244.2.0/24', 'fd00:2::/64'] });
  return { ferry, nsF, nsK, kdev, kernelUnderlay, ferryUnderlay };
}

test('ferry and a flannel-programmed kernel VTEP (dstport 8472): ping both ways, IPv4 and IPv6 inner', async (t) => {
  if (!requireHost(t, ['ping', 'bridge', 'ethtool'])) return;
  const o = await overlay(t);
  assert.equal(o.ferry.mtu, 1450, 'inner MTU = underlay 1500 - 50');
  ping(o.nsF, '10.244.2.0');
  ping(o.nsK, '10.244.1.0');
  ping(o.nsF, 'fd00:2::1');
  ping(o.nsK, 'fd00:1::1');
  const s = await o.ferry.stats();
  assert.ok(s.peers[0].tx >= 12 && s.peers[0].rx >= 12, JSON.stringify(s.peers));
  assert.deepEqual(s.drops, {});
});

test('a 256 MiB TCP transfer each way arrives whole (sha256)', async (t) => {
  if (!requireHost(t, ['ping', 'bridge', 'ethtool', 'ncat', 'ss', 'sha256sum'])) return;
  const o = await overlay(t);
  const data = randomFile(t, 256 * 1024 * 1024);
  ping(o.nsF, '10.244.2.0', 1);
  const started = Date.now();
  assert.equal(await tcpTransfer(o.nsF, o.nsK, '10.244.2.0', 5201, data.path), data.sha256, 'ferry → kernel');
  const mid = Date.now();
  assert.equal(await tcpTransfer(o.nsK, o.nsF, '10.244.1.0', 5202, data.path), data.sha256, 'kernel → ferry');
  t.diagnostic(`256 MiB: ferry→kernel ${((mid - started) / 1000).toFixed(1)} s, kernel→ferry ${((Date.now() - mid) / 1000).toFixed(1)} s`);
  const s = await o.ferry.stats();
  assert.deepEqual(s.drops, {});
});

test('IANA port 4789 and an IPv6 underlay (inner MTU = 1500 - 70), the kernel sending zero UDP checksums', async (t) => {
  if (!requireHost(t, ['ping', 'bridge', 'ethtool'])) return;
  const o = await overlay(t, { port: 4789, ipv6Underlay: true, kernelExtra: ['udp6zerocsumtx'] });
  assert.equal(o.ferry.mtu, 1430);
  ping(o.nsF, '10.244.2.0');
  ping(o.nsK, 'fd00:1::1');
  // Full-size packets cross too (DF set, so nothing is fragmented on the way).
  ping(o.nsF, '10.244.2.0', 2);
  o.nsF.run('ping', ['-c', '2', '-i', '0.2', '-W', '3', '-M', 'do', '-s', String(1430 - 28), '10.244.2.0']);
  o.nsK.run('ping', ['-c', '2', '-i', '0.2', '-W', '3', '-s', String(1430 - 48), 'fd00:1::1']);
  const u = o.nsF.run('ss', ['-ulnH', 'sport = :4789']);
  assert.match(u, /\[?fd99::1\]?:4789/, 'ferry is bound to Local:Port');
});

test('a kernel side without static neighbours resolves ferry by ARP and neighbour solicitation through an all-zero FDB entry', async (t) => {
  if (!requireHost(t, ['ping', 'bridge', 'ethtool'])) return;
  const o = await overlay(t, { resolve: true });
  assert.match(o.nsK.run('bridge', ['fdb', 'show', 'dev', o.kdev]), /00:00:00:00:00:00 dst 10\.203\.0\.1/);
  assert.equal(o.nsK.run('ip', ['neigh', 'show', 'dev', o.kdev]).trim(), '', 'no neighbours before');
  ping(o.nsK, '10.244.1.0');
  ping(o.nsK, 'fd00:1::1');
  ping(o.nsF, '10.244.2.0');
  const neigh = o.nsK.run('ip', ['neigh', 'show', 'dev', o.kdev]);
  assert.match(neigh, new RegExp(`10\\.244\\.1\\.0 lladdr ${FERRY_MAC} (REACHABLE|STALE|DELAY|PROBE)`));
  assert.match(neigh, new RegExp(`fd00:1::1 lladdr ${FERRY_MAC} (REACHABLE|STALE|DELAY|PROBE)`));
  const s = await o.ferry.stats();
  assert.ok(s.arpReplies >= 1 && s.ndReplies >= 1, JSON.stringify(s));
});

/** A VXLAN datagram (hex) with an inner IPv4 UDP packet to dstIp from srcIp, Ethernet dst → src. */
function vxlanHex(vni: number, dstMac: string, srcMac: string, srcIp: number[], dstIp: number[], reservedByte7 = 0): string {
  const ip = [0x45, 0, 0, 36, 0, 0, 0x40, 0, 64, 17, 0, 0, ...srcIp, ...dstIp];
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (ip[i] << 8) | ip[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip[10] = (~sum >> 8) & 0xff;
  ip[11] = ~sum & 0xff;
  const udp = [0x30, 0x39, 0x30, 0x39, 0, 16, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
  const mac = (m: string) => m.split(':').map((h) => parseInt(h, 16));
  const bytes = [0x08, 0, 0, 0, (vni >> 16) & 0xff, (vni >> 8) & 0xff, vni & 0xff, reservedByte7, ...mac(dstMac), ...mac(srcMac), 0x08, 0x00, ...ip, ...udp];
  return Buffer.from(bytes).toString('hex');
}

test('a wrong VNI and a set reserved bit are dropped and counted on both sides', async (t) => {
  if (!requireHost(t, ['ping', 'bridge', 'ethtool'])) return;
  const o = await overlay(t, { ferryVni: 2 });
  // ferry (VNI 2) ⇄ kernel (VNI 1): nothing crosses, each side drops the other's traffic.
  const kBefore = linkCounters(o.nsK, o.kdev);
  assert.equal(o.nsF.tryRun('ping', ['-c', '2', '-i', '0.2', '-w', '1', '10.244.2.0']), false);
  assert.equal(o.nsK.tryRun('ping', ['-c', '2', '-i', '0.2', '-w', '1', '10.244.1.0']), false);
  let s = await o.ferry.stats();
  assert.ok((s.drops.vxlan_unknown_vni ?? 0) >= 2, JSON.stringify(s.drops));
  assert.ok(s.peers[0].tx >= 2, 'ferry did send');
  const kAfter = linkCounters(o.nsK, o.kdev);
  assert.equal(kAfter.rxPackets, kBefore.rxPackets, 'the kernel delivered none of ferry\'s VNI 2 frames (it has no counter for an unknown VNI)');
  // A reserved bit, everything else right: the kernel counts a frame error, ferry a reserved-bits drop.
  const rb = linkCounters(o.nsK, o.kdev).rxFrameErrors;
  sendDatagram(o.nsF, o.kernelUnderlay, 8472, vxlanHex(1, KERNEL_MAC, FERRY_MAC, [10, 244, 1, 0], [10, 244, 2, 0], 0x01));
  sendDatagram(o.nsK, o.ferryUnderlay, 8472, vxlanHex(2, FERRY_MAC, KERNEL_MAC, [10, 244, 2, 0], [10, 244, 1, 0], 0x01));
  const until = Date.now() + 5000;
  while (linkCounters(o.nsK, o.kdev).rxFrameErrors === rb && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  assert.equal(linkCounters(o.nsK, o.kdev).rxFrameErrors, rb + 1, 'kernel: rx frame errors');
  s = await o.ferry.stats();
  assert.equal(s.drops.vxlan_reserved_bits, 1, JSON.stringify(s.drops));
  // And the same datagram without the reserved bit is delivered by ferry (the test datagram itself is right).
  const rx = s.stats.rxPackets;
  sendDatagram(o.nsK, o.ferryUnderlay, 8472, vxlanHex(2, FERRY_MAC, KERNEL_MAC, [10, 244, 2, 0], [10, 244, 1, 0]));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await o.ferry.stats()).stats.rxPackets, rx + 1);
});

/** Joins namespaces on one Ethernet segment: a bridge in its own namespace, a veth to each. */
function segment(t: TestContext): (ns: Netns, address: string) => string {
  const sw = netns(t, 'fyxs');
  sw.run('ip', ['link', 'add', 'br0', 'type', 'bridge']);
  sw.run('ip', ['link', 'set', 'br0', 'up']);
  return (ns, address) => {
    const a = uniqueName('fvn');
    const b = uniqueName('fvs');
    run('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    trackLink(a);
    run('ip', ['link', 'set', a, 'netns', ns.name]);
    run('ip', ['link', 'set', b, 'netns', sw.name]);
    sw.run('ip', ['link', 'set', b, 'master', 'br0']);
    sw.run('ip', ['link', 'set', b, 'up']);
    ns.run('ip', ['addr', 'add', address, 'dev', a]);
    ns.run('ip', ['link', 'set', a, 'up']);
    return a;
  };
}

test('three nodes, two ferry and one kernel, distinct subnets: every pair reaches the other both ways', async (t) => {
  if (!requireHost(t, ['ping', 'bridge', 'ethtool'])) return;
  const join = segment(t);
  const nodes = [
    { name: 'f1', underlay: '10.203.0.1', subnet: '10.244.1.0/24', vtep: '10.244.1.0', mac: '02:f0:00:00:01:01' },
    { name: 'k2', underlay: '10.203.0.2', subnet: '10.244.2.0/24', vtep: '10.244.2.0', mac: '02:4b:00:00:02:02' },
    { name: 'f3', underlay: '10.203.0.3', subnet: '10.244.3.0/24', vtep: '10.244.3.0', mac: '02:f0:00:00:03:03' },
  ].map((n) => ({ ...n, ns: netns(t, `fyx${n.name}`) }));
  const devs = nodes.map((n) => join(n.ns, `${n.underlay}/24`));
  const [f1, k2, f3] = nodes;
  devs.forEach((d, i) => nodes[i].ns.run('ethtool', ['-K', d, 'tx', 'off']));
  const kdev = kernelVtep(k2.ns, { vni: 1, port: 8472, local: k2.underlay, dev: devs[1], mac: k2.mac, addresses: [`${k2.vtep}/32`] });
  for (const f of [f1, f3]) programFlannelPeer(k2.ns, kdev, { subnet: f.subnet, gateway: f.vtep, mac: f.mac, remote: f.underlay });
  const ferries: FerryVtep[] = [];
  for (const f of [f1, f3]) {
    const others = nodes.filter((n) => n !== f);
    const conf = ferryConfig({ addresses: [`${f.vtep}/32`], local: f.underlay, mac: f.mac, peers: others.map((n) => ({ remote: n.underlay, mac: n.mac, subnets: [n.subnet] })) });
    ferries.push(await startFerryVtep(t, f.ns, conf, { addresses: [`${f.vtep}/32`], routes: others.map((n) => n.subnet) }));
  }
  for (const from of nodes) for (const to of nodes) if (from !== to) ping(from.ns, to.vtep, 2);
  for (const [i, v] of ferries.entries()) {
    const s = await v.stats();
    assert.equal(s.peers.length, 2);
    for (const p of s.peers) assert.ok(p.tx >= 4 && p.rx >= 4, `${nodes[i * 2].name}: ${JSON.stringify(p)}`);
    assert.deepEqual(s.drops, {});
  }
});

/** nft: every VXLAN datagram this namespace sends leaves with its outer ECN field set to CE (a congested underlay). */
function markOuterCe(ns: Netns): void {
  ns.run('nft', ['-f', '-'], { input: 'table inet fyecn {\n chain out {\n  type filter hook output priority 0;\n  udp dport 8472 ip ecn set ce\n  udp dport 8472 ip6 ecn set ce\n }\n}\n' });
}

/** nft counters of echo requests arriving with inner CE, per family. */
function countCe(ns: Netns): () => { v4: number; v6: number } {
  ns.run('nft', ['-f', '-'], { input: 'table inet fyce {\n chain in {\n  type filter hook input priority 0;\n  ip ecn ce icmp type echo-request counter\n  ip6 ecn ce icmpv6 type echo-request counter\n }\n}\n' });
  return () => {
    const counts = [...ns.run('nft', ['list', 'table', 'inet', 'fyce']).matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    return { v4: counts[0], v6: counts[1] };
  };
}

test('RFC 6040 both ways: outer CE over ECN-capable packets arrives as inner CE, over Not-ECT packets is dropped and counted', async (t) => {
  if (!requireHost(t, ['ping', 'bridge', 'ethtool', 'nft'])) return;
  const o = await overlay(t);
  // ferry → kernel: ferry copies ECT(0) out, the underlay marks CE, the kernel decapsulates it in.
  const kernelCe = countCe(o.nsK);
  markOuterCe(o.nsF);
  o.nsF.run('ping', ['-c', '3', '-i', '0.2', '-W', '3', '-Q', '2', '10.244.2.0']);
  o.nsF.run('ping', ['-c', '3', '-i', '0.2', '-W', '3', '-Q', '2', 'fd00:2::1']);
  assert.deepEqual(kernelCe(), { v4: 3, v6: 3 });
  const frameErrors = linkCounters(o.nsK, o.kdev).rxFrameErrors;
  assert.equal(o.nsF.tryRun('ping', ['-c', '2', '-i', '0.2', '-W', '1', '10.244.2.0']), false, 'Not-ECT under outer CE');
  assert.equal(linkCounters(o.nsK, o.kdev).rxFrameErrors, frameErrors + 2, 'the kernel drops them as frame errors');
  o.nsF.run('nft', ['delete', 'table', 'inet', 'fyecn']);
  // kernel → ferry: the same, decapsulated by ferry.
  const ferryCe = countCe(o.nsF);
  markOuterCe(o.nsK);
  o.nsK.run('ping', ['-c', '3', '-i', '0.2', '-W', '3', '-Q', '2', '10.244.1.0']);
  o.nsK.run('ping', ['-c', '3', '-i', '0.2', '-W', '3', '-Q', '2', 'fd00:1::1']);
  assert.deepEqual(ferryCe(), { v4: 3, v6: 3 });
  assert.equal(o.nsK.tryRun('ping', ['-c', '2', '-i', '0.2', '-W', '1', '10.244.1.0']), false, 'Not-ECT under outer CE');
  const s = await o.ferry.stats();
  assert.equal(s.drops.vxlan_ecn_not_ect, 2, JSON.stringify(s.drops));
});
