import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../buffer/pool.js';
import { Datapath } from '../datapath/datapath.js';
import { ErrorCode } from '../errors.js';
import type { Endpoint } from '../io/endpoint.js';
import { DropReason } from '../stats/drop-reasons.js';
import { parsePrefix } from '../table/prefix-trie.js';
import { FakeTun } from '../../test/fakes/fake-tun.js';
import { FakeNetwork, FakeUdp, type Datagram } from '../../test/fakes/fake-udp.js';
import { arpRequest, checksumOk, frame, ipv4Udp, ipv6Udp, mac, neighborSolicitation, vxlan } from '../../test/support/vxlan-frames.js';
import { VxlanPlane } from './l3-plane.js';

/** Lets the fakes' readiness callbacks run until every queue is drained. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 40; i++) await new Promise<void>((r) => setImmediate(r));
};

const MAC_A = mac('02:00:00:00:0a:01');
const MAC_B = mac('02:00:00:00:0b:02');

interface Node {
  pool: BufferPool;
  tun: FakeTun;
  udp: FakeUdp;
  dp: Datapath;
  plane: VxlanPlane;
  close(): void;
}

/** One ferry VTEP on the fake network: its own pool, TUN, port and datapath. */
function node(net: FakeNetwork, underlay: string, ourMac: Uint8Array, addresses: string[], options: { vni?: number; port?: number } = {}): Node {
  const pool = new BufferPool({ slotCount: 512 });
  const tun = new FakeTun('vx0', pool, 16);
  const family = underlay.includes(':') ? 6 : 4;
  const udp = new FakeUdp(net, { family, address: underlay, port: options.port ?? 8472 }, pool, 16);
  const dp = new Datapath({ pool, tun, tickIntervalMs: 0 });
  const plane = new VxlanPlane({ mac: ourMac, vni: options.vni, port: options.port, localAddresses: addresses.map(parsePrefix) });
  dp.addPlane(plane, udp);
  dp.start();
  return {
    pool,
    tun,
    udp,
    dp,
    plane,
    close() {
      dp.close();
      pool.assertNoLeaks();
    },
  };
}

/** A kernel VTEP played by the test: a bare socket on the fake network. */
function kernel(net: FakeNetwork, address: string, pool: BufferPool, port = 8472): { ep: Endpoint; send(to: Endpoint, data: Uint8Array, tos?: number): void } {
  const ep: Endpoint = { family: address.includes(':') ? 6 : 4, address, port };
  const sock = new FakeUdp(net, ep, pool, 1);
  return {
    ep,
    send(to, data, tos) {
      net.send({ from: { ...ep, port: 40000 + (data.length % 1000) }, to, data, tos });
      void sock;
    },
  };
}

function toB(net: FakeNetwork): Datagram[] {
  return net.log.filter((d) => d.to.address === '192.0.2.2');
}

test('encapsulation: inner Ethernet our MAC → the peer\'s, VXLAN VNI, to the peer at the overlay port, byte for byte', async () => {
  const net = new FakeNetwork();
  net.logEnabled = true;
  const a = node(net, '192.0.2.1', MAC_A, ['10.244.1.0/32']);
  a.plane.addPeer({ remote: '192.0.2.2', mac: MAC_B, subnets: [parsePrefix('10.244.2.0/24'), parsePrefix('fd00:2::/64')] });
  const p4 = ipv4Udp('10.244.1.5', '10.244.2.7', 100);
  const p6 = ipv6Udp('fd00:1::5', 'fd00:2::7', 60);
  a.tun.inject(p4);
  a.tun.inject(p6);
  await settle();
  // ECN-capable inner packets: the outer field copies ECT, and sends CE as ECT(0) (RFC 6040).
  a.tun.inject(ipv4Udp('10.244.1.5', '10.244.2.7', 10, 0xb8 | 2));
  a.tun.inject(ipv6Udp('fd00:1::5', 'fd00:2::7', 10, 0x03));
  await settle();
  const sent = toB(net);
  assert.equal(sent.length, 4);
  assert.deepEqual(sent.map((d) => d.tos ?? 0), [0, 0, 2, 2], 'outer ECN: Not-ECT, Not-ECT, ECT(0), CE as ECT(0)');
  assert.deepEqual(sent[0].from, { family: 4, address: '192.0.2.1', port: 8472 });
  assert.deepEqual(sent[0].to, { family: 4, address: '192.0.2.2', port: 8472 });
  assert.deepEqual(sent[0].data, Uint8Array.from([0x08, 0, 0, 0, 0, 0, 1, 0, ...MAC_B, ...MAC_A, 0x08, 0x00, ...p4]));
  assert.deepEqual(sent[1].data, Uint8Array.from([0x08, 0, 0, 0, 0, 0, 1, 0, ...MAC_B, ...MAC_A, 0x86, 0xdd, ...p6]));
  const peer = a.plane.peers.list()[0];
  assert.equal(peer.txPackets, 4);
  assert.equal(peer.txBytes, 14 * 4 + p4.length + p6.length + 38 + 58);
  assert.equal(a.plane.stats.txPackets, 4);
  a.close();
});

test('decapsulation delivers IPv4 and IPv6 to the TUN, trimmed to the IP length, from any source port', async () => {
  const net = new FakeNetwork();
  const a = node(net, '192.0.2.1', MAC_A, ['10.244.1.0/32']);
  const peer = a.plane.addPeer({ remote: '192.0.2.2', mac: MAC_B, subnets: [parsePrefix('10.244.2.0/24')] });
  const k = kernel(net, '192.0.2.2', a.pool);
  const p4 = ipv4Udp('10.244.2.7', '10.244.1.5', 10);
  const padded = new Uint8Array(46);
  padded.set(p4);
  k.send(a.udp.local, vxlan(1, frame(MAC_A, MAC_B, 0x0800, padded)));
  const p6 = ipv6Udp('fd00:2::7', 'fd00:1::5', 20);
  k.send(a.udp.local, vxlan(1, frame(MAC_A, MAC_B, 0x86dd, p6)));
  // Broadcast and multicast destinations are accepted too (the kernel floods those).
  k.send(a.udp.local, vxlan(1, frame(mac('33:33:00:00:00:02'), MAC_B, 0x86dd, p6)));
  await settle();
  assert.deepEqual(a.tun.written, [p4, p6, p6]);
  assert.equal(peer.rxPackets, 3);
  assert.equal(a.plane.drops.total(), 0);
  a.close();
});

test('ARP requests and neighbour solicitations for our addresses are answered to the asking VTEP\'s port', async () => {
  const net = new FakeNetwork();
  net.logEnabled = true;
  const a = node(net, '192.0.2.1', MAC_A, ['10.244.1.0/32', 'fd00:1::/128']);
  const k = kernel(net, '192.0.2.2', a.pool);
  const kmac = mac('0a:00:00:00:00:09');
  k.send(a.udp.local, vxlan(1, arpRequest(kmac, '10.244.2.0', '10.244.1.0')));
  k.send(a.udp.local, vxlan(1, neighborSolicitation(kmac, 'fd00:2::', 'fd00:1::')));
  // Not ours: no answer, counted.
  k.send(a.udp.local, vxlan(1, arpRequest(kmac, '10.244.2.0', '10.244.1.9')));
  k.send(a.udp.local, vxlan(1, neighborSolicitation(kmac, 'fd00:2::', 'fd00:1::9')));
  await settle();
  const replies = toB(net);
  assert.equal(replies.length, 2);
  for (const r of replies) {
    assert.deepEqual(r.to, { family: 4, address: '192.0.2.2', port: 8472 }, 'the overlay port, not the source port');
    assert.deepEqual(r.data.subarray(0, 8), Uint8Array.from([8, 0, 0, 0, 0, 0, 1, 0]));
    assert.deepEqual(r.data.subarray(8, 14), kmac, 'to the asker');
    assert.deepEqual(r.data.subarray(14, 20), MAC_A, 'from us');
  }
  const arp = replies[0].data.subarray(22);
  assert.equal(replies[0].data.length, 8 + 14 + 28);
  assert.deepEqual([arp[6], arp[7]], [0, 2], 'ARP reply');
  assert.deepEqual(arp.subarray(8, 14), MAC_A);
  assert.deepEqual([...arp.subarray(14, 18)], [10, 244, 1, 0]);
  assert.deepEqual(arp.subarray(18, 24), kmac);
  assert.deepEqual([...arp.subarray(24, 28)], [10, 244, 2, 0]);
  const na = replies[1].data.subarray(22);
  assert.equal(na[40], 136, 'neighbour advertisement');
  assert.deepEqual(na.subarray(66, 72), MAC_A, 'target link-layer address');
  let pseudo = 58 + 32;
  for (let i = 8; i < 40; i += 2) pseudo += (na[i] << 8) | na[i + 1];
  assert.ok(checksumOk(na, 40, 32, pseudo));
  assert.equal(a.plane.neighbors.arpReplies, 1);
  assert.equal(a.plane.neighbors.ndReplies, 1);
  assert.equal(a.plane.drops.get(DropReason.VxlanNeighborIgnored), 2);
  assert.equal(a.tun.written.length, 0);
  a.close();
});

test('every datagram not delivered is counted under its reason', async () => {
  const net = new FakeNetwork();
  const a = node(net, '192.0.2.1', MAC_A, ['10.244.1.0/32']);
  const k = kernel(net, '192.0.2.2', a.pool);
  const ok = frame(MAC_A, MAC_B, 0x0800, ipv4Udp('10.244.2.7', '10.244.1.5', 10));
  const reserved = vxlan(1, ok);
  reserved[7] = 1;
  const noFlag = vxlan(1, ok);
  noFlag[0] = 0;
  const badLen = ipv4Udp('10.244.2.7', '10.244.1.5', 10);
  badLen[3] += 1;
  const cases: Array<[string, Uint8Array, number, number?]> = [
    ['shorter than a VXLAN header', vxlan(1, ok).subarray(0, 7), DropReason.Truncated],
    ['no I flag', noFlag, DropReason.VxlanBadHeader],
    ['a reserved bit', reserved, DropReason.VxlanReservedBits],
    ['another VNI', vxlan(2, ok), DropReason.VxlanUnknownVni],
    ['no room for an Ethernet header', vxlan(1, ok.subarray(0, 13)), DropReason.Truncated],
    ['another host\'s MAC', vxlan(1, frame(mac('02:00:00:00:00:77'), MAC_B, 0x0800, ipv4Udp('10.244.2.7', '10.244.1.5'))), DropReason.VxlanNotForUs],
    ['our own source MAC', vxlan(1, frame(MAC_A, MAC_A, 0x0800, ipv4Udp('10.244.2.7', '10.244.1.5'))), DropReason.VxlanLoop],
    ['a VLAN tag', vxlan(1, frame(MAC_A, MAC_B, 0x8100, new Uint8Array(40))), DropReason.VxlanUnsupportedEtherType],
    ['IPv6 in an IPv4 EtherType', vxlan(1, frame(MAC_A, MAC_B, 0x0800, ipv6Udp('fd00::1', 'fd00::2'))), DropReason.BadVersion],
    ['a total length past the frame', vxlan(1, frame(MAC_A, MAC_B, 0x0800, badLen)), DropReason.BadTotalLength],
    ['a short IPv4 header', vxlan(1, frame(MAC_A, MAC_B, 0x0800, new Uint8Array(19).fill(0x45))), DropReason.Truncated],
    ['an ARP reply', (() => { const f = arpRequest(MAC_B, '10.244.2.0', '10.244.1.0'); f[21] = 2; return vxlan(1, f); })(), DropReason.VxlanNeighborIgnored],
    ['outer CE over a Not-ECT packet (RFC 6040)', vxlan(1, ok), DropReason.VxlanEcnNotEct, 0x03],
  ];
  for (const [what, data, reason, tos] of cases) {
    const before = a.plane.drops.get(reason);
    k.send(a.udp.local, data, tos);
    await settle();
    assert.equal(a.plane.drops.get(reason), before + 1, what);
  }
  assert.equal(a.plane.drops.total(), cases.length);
  assert.equal(a.tun.written.length, 0);
  a.close();
});

test('RFC 6040: outer CE marks an ECN-capable inner packet CE, outer ECT(1) upgrades ECT(0)', async () => {
  const net = new FakeNetwork();
  const a = node(net, '192.0.2.1', MAC_A, []);
  const k = kernel(net, '192.0.2.2', a.pool);
  k.send(a.udp.local, vxlan(1, frame(MAC_A, MAC_B, 0x0800, ipv4Udp('10.244.2.7', '10.244.1.5', 10, 0xb8 | 2))), 0x03);
  k.send(a.udp.local, vxlan(1, frame(MAC_A, MAC_B, 0x86dd, ipv6Udp('fd00:2::7', 'fd00:1::5', 10, 0x28 | 2))), 0x01);
  k.send(a.udp.local, vxlan(1, frame(MAC_A, MAC_B, 0x0800, ipv4Udp('10.244.2.7', '10.244.1.5', 10, 0))), 0x02);
  await settle();
  const [v4, v6, plain] = a.tun.written;
  assert.equal(v4[1], 0xb8 | 3, 'CE, DSCP kept');
  assert.ok(checksumOk(v4, 0, 20), 'IPv4 header checksum still valid');
  assert.equal(((v6[0] & 0x0f) << 4) | (v6[1] >> 4), 0x28 | 1, 'ECT(1), DSCP kept');
  assert.equal(plain[1], 0, 'outer ECT(0) over Not-ECT leaves it Not-ECT');
  a.close();
});

test('two ferry VTEPs exchange IPv4 and IPv6 both ways over an IPv6 underlay', async () => {
  const net = new FakeNetwork();
  const a = node(net, 'fd99::1', MAC_A, ['10.244.1.0/32']);
  const b = node(net, 'fd99::2', MAC_B, ['10.244.2.0/32']);
  a.plane.addPeer({ remote: 'fd99::2', mac: MAC_B, subnets: [parsePrefix('10.244.2.0/24'), parsePrefix('fd00:2::/64')] });
  b.plane.addPeer({ remote: 'fd99::1', mac: MAC_A, subnets: [parsePrefix('10.244.1.0/24'), parsePrefix('fd00:1::/64')] });
  const ab = [ipv4Udp('10.244.1.5', '10.244.2.7', 1000), ipv6Udp('fd00:1::5', 'fd00:2::7', 1200)];
  const ba = [ipv4Udp('10.244.2.7', '10.244.1.5', 300), ipv6Udp('fd00:2::7', 'fd00:1::5', 1)];
  for (let i = 0; i < 50; i++) for (const p of ab) a.tun.inject(p);
  for (const p of ba) b.tun.inject(p);
  await settle();
  assert.equal(b.tun.written.length, 100);
  assert.deepEqual(b.tun.written.slice(0, 2), ab);
  assert.deepEqual(a.tun.written, ba);
  assert.equal(a.plane.drops.total() + b.plane.drops.total() + a.dp.drops.total() + b.dp.drops.total(), 0);
  a.close();
  b.close();
});

test('a destination no peer owns is the datapath\'s no-route drop; a removed peer takes its routes along', async () => {
  const net = new FakeNetwork();
  net.logEnabled = true;
  const a = node(net, '192.0.2.1', MAC_A, []);
  const peer = a.plane.addPeer({ remote: '192.0.2.2', mac: MAC_B, subnets: [parsePrefix('10.244.2.0/24')] });
  a.tun.inject(ipv4Udp('10.244.1.5', '10.244.3.7'));
  a.tun.inject(ipv4Udp('10.244.1.5', '10.244.2.7'));
  await settle();
  assert.equal(a.dp.drops.get(DropReason.NoRoute), 1);
  assert.equal(toB(net).length, 1);
  assert.equal(a.plane.removePeer(peer), true);
  assert.equal(a.dp.routes.size, 0);
  a.tun.inject(ipv4Udp('10.244.1.5', '10.244.2.7'));
  await settle();
  assert.equal(a.dp.drops.get(DropReason.NoRoute), 2);
  a.close();
});

test('a subnet another plane routes is a RouteConflict and leaves both planes as they were', () => {
  const net = new FakeNetwork();
  const a = node(net, '192.0.2.1', MAC_A, []);
  const other = { name: 'wireguard' } as VxlanPlane;
  a.dp.routes.claim(parsePrefix('10.244.2.0/24'), other, 'some peer');
  assert.throws(
    () => a.plane.addPeer({ remote: '192.0.2.2', mac: MAC_B, subnets: [parsePrefix('10.244.3.0/24'), parsePrefix('10.244.2.0/24')] }),
    (err: Error & { code?: string }) => err.code === ErrorCode.RouteConflict && /10\.244\.2\.0\/24 is already routed to wireguard/.test(err.message),
  );
  assert.equal(a.plane.peers.size, 0);
  assert.equal(a.dp.routes.size, 1, 'the first subnet was not claimed either');
  a.plane.addPeer({ remote: '192.0.2.2', mac: MAC_B, subnets: [parsePrefix('10.244.3.0/24')] });
  assert.throws(() => a.dp.routes.claim(parsePrefix('10.244.3.0/24'), other, 'some peer'), (err: Error & { code?: string }) => err.code === ErrorCode.RouteConflict);
  a.close();
});

test('the peer table refuses our own MAC, a MAC or a subnet twice, and non-unicast MACs', () => {
  const net = new FakeNetwork();
  const a = node(net, '192.0.2.1', MAC_A, []);
  a.plane.addPeer({ remote: '192.0.2.2', mac: MAC_B, subnets: [parsePrefix('10.244.2.0/24')] });
  const bad: Array<[Uint8Array, string, RegExp]> = [
    [MAC_A, '10.244.3.0/24', /this VTEP's own/],
    [MAC_B, '10.244.3.0/24', /already peer 192\.0\.2\.2's/],
    [mac('02:00:00:00:00:03'), '10.244.2.1/24', /subnet 10\.244\.2\.0\/24 is already peer/],
    [mac('01:00:5e:00:00:01'), '10.244.4.0/24', /not a unicast/],
    [mac('00:00:00:00:00:00'), '10.244.4.0/24', /not a unicast/],
  ];
  for (const [m, subnet, message] of bad) {
    assert.throws(() => a.plane.addPeer({ remote: '192.0.2.3', mac: m, subnets: [parsePrefix(subnet)] }), message);
  }
  assert.equal(a.plane.peers.size, 1);
  assert.equal(a.dp.routes.size, 1);
  a.close();
});

test('peers join once the plane is mounted: their routes go through its PlaneIo', () => {
  const plane = new VxlanPlane({ mac: MAC_A });
  assert.throws(() => plane.addPeer({ remote: '192.0.2.2', mac: MAC_B, subnets: [parsePrefix('10.244.2.0/24')] }), /once the plane is mounted/);
  assert.equal(plane.peers.size, 0);
});

test('per-VTEP drops: a datagram from a peer\'s address with a bad VNI or header counts against that peer; an unknown source adds no row', async () => {
  const net = new FakeNetwork();
  const a = node(net, '192.0.2.1', MAC_A, ['10.244.1.0/32']);
  a.plane.addPeer({ remote: '192.0.2.2', mac: MAC_B, subnets: [parsePrefix('10.244.2.0/24')] });
  const known = kernel(net, '192.0.2.2', a.pool);
  const stranger = kernel(net, '192.0.2.9', a.pool);
  const ok = frame(MAC_A, MAC_B, 0x0800, ipv4Udp('10.244.2.7', '10.244.1.5', 10));
  const noFlag = vxlan(1, ok);
  noFlag[0] = 0;
  known.send(a.udp.local, vxlan(2, ok));
  known.send(a.udp.local, noFlag);
  known.send(a.udp.local, vxlan(1, frame(MAC_A, MAC_A, 0x0800, ipv4Udp('10.244.2.7', '10.244.1.5'))));
  stranger.send(a.udp.local, vxlan(2, ok));
  stranger.send(a.udp.local, noFlag);
  known.send(a.udp.local, vxlan(1, ok));
  await settle();
  assert.equal(a.tun.written.length, 1, 'the good one is delivered');
  assert.deepEqual(a.plane.drops.snapshot(), { vxlan_bad_header: 2, vxlan_unknown_vni: 2, vxlan_loop: 1 }, 'the plane counts every drop');
  assert.deepEqual(a.plane.vteps.withDrops().map((v) => [v.remote, v.drops.snapshot()]), [['192.0.2.2', { vxlan_bad_header: 1, vxlan_unknown_vni: 1, vxlan_loop: 1 }]]);
  assert.equal(a.plane.vteps.size, 1, 'the unknown source made no row');
  assert.equal(a.plane.vteps.dropsOf('192.0.2.9'), null);
  a.close();
});

test('per-VTEP drops on send: a datagram the socket refuses counts against the peer the route chose', async () => {
  const net = new FakeNetwork();
  const a = node(net, '192.0.2.1', MAC_A, []);
  const peer = a.plane.addPeer({ remote: '192.0.2.2', mac: MAC_B, subnets: [parsePrefix('10.244.2.0/24')] });
  a.plane.addPeer({ remote: '192.0.2.3', mac: mac('02:00:00:00:0c:03'), subnets: [parsePrefix('10.244.3.0/24')] });
  a.udp.failNextSends(0, 101, 1);
  a.tun.inject(ipv4Udp('10.244.1.5', '10.244.2.7'));
  await settle();
  assert.equal(peer.txErrors, 1);
  assert.equal(a.plane.drops.get(DropReason.UdpSendFailed), 1);
  assert.deepEqual(a.plane.vteps.dropsOf('192.0.2.2')?.snapshot(), { udp_send_failed: 1 });
  assert.equal(a.plane.vteps.dropsOf('192.0.2.3'), null, 'the other peer has none');
  a.close();
});

test('while a capture runs, a dropped datagram shows at the drop point whole, with its reason and its sender\'s record', async () => {
  const net = new FakeNetwork();
  const a = node(net, '192.0.2.1', MAC_A, []);
  const k = kernel(net, '192.0.2.2', a.pool);
  const seen: Array<{ reason: number; plane: string | null; data: Uint8Array; from: string }> = [];
  const ignore = (): void => {};
  a.dp.capture = {
    packet: ignore,
    datagram: ignore,
    drop(reason, _direction, slab, offset, length, plane, _ref, endpoints, epOffset) {
      seen.push({ reason, plane, data: Uint8Array.from(slab.subarray(offset, offset + length)), from: endpoints === null ? '' : endpoints.slice(epOffset + 4, epOffset + 8).join('.') });
    },
  };
  const bad = vxlan(2, frame(MAC_A, MAC_B, 0x0800, ipv4Udp('10.244.2.7', '10.244.1.5', 10)));
  k.send(a.udp.local, bad);
  await settle();
  assert.deepEqual(seen, [{ reason: DropReason.VxlanUnknownVni, plane: 'vxlan', data: bad, from: '192.0.2.2' }]);
  a.dp.capture = null;
  a.close();
});
