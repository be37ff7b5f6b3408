import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../buffer/pool.js';
import { Datapath } from '../datapath/datapath.js';
import { DropReason } from '../stats/drop-reasons.js';
import { FakeClock } from '../../test/fakes/fake-clock.js';
import { FakeTun } from '../../test/fakes/fake-tun.js';
import { FakeNetwork, FakeUdp, type Datagram } from '../../test/fakes/fake-udp.js';
import { frame, ipv4Udp, mac, vxlan } from '../../test/support/vxlan-frames.js';
import { VxlanL2Plane, type VxlanL2PlaneOptions } from './l2-plane.js';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 40; i++) await new Promise<void>((r) => setImmediate(r));
};

const VTEP = mac('02:00:00:00:0a:01');
const HOST_A = mac('0a:00:00:00:00:0a');
const HOST_B = mac('0a:00:00:00:00:0b');
const HOST_C = mac('0a:00:00:00:00:0c');
const BROADCAST = mac('ff:ff:ff:ff:ff:ff');
const LOCAL = { family: 4 as const, address: '192.0.2.1', port: 8472 };
const B = { family: 4 as const, address: '192.0.2.2', port: 8472 };
const C = { family: 4 as const, address: '192.0.2.3', port: 8472 };

function node(options: Partial<VxlanL2PlaneOptions> = {}) {
  const net = new FakeNetwork();
  net.logEnabled = true;
  const clock = new FakeClock(1_000_000);
  const pool = new BufferPool({ slotCount: 512 });
  const tap = new FakeTun('l2', pool, 16);
  const udp = new FakeUdp(net, LOCAL, pool, 16);
  const dp = new Datapath({ pool, tun: tap, tickIntervalMs: 0, device: 'tap', now: clock.now });
  const plane = new VxlanL2Plane({ mac: VTEP, learning: true, ...options });
  dp.addPlane(plane, udp);
  dp.setL2Plane(plane);
  dp.start();
  const remotes = [B, C].map((ep) => new FakeUdp(net, ep, pool, 1));
  return {
    net,
    clock,
    pool,
    tap,
    dp,
    plane,
    /** A datagram from a remote VTEP (from a flow-hash source port, as the kernel sends). */
    from(remote: typeof B, data: Uint8Array, tos = 0) {
      net.send({ from: { ...remote, port: 40123 }, to: LOCAL, data, tos });
    },
    sentTo(remote: typeof B): Datagram[] {
      return net.log.filter((d) => d.to.address === remote.address && d.from.address === LOCAL.address);
    },
    close() {
      dp.close();
      for (const r of remotes) r.close();
      pool.assertNoLeaks();
    },
  };
}

const payload = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 5) & 0xff);

test('flooding: broadcast and unknown unicast go to every all-zero entry, a copy each, byte for byte; with none they are dropped', async () => {
  const n = node();
  const bcast = frame(BROADCAST, HOST_A, 0x0806, payload(28));
  n.tap.inject(bcast);
  await settle();
  assert.equal(n.net.log.length, 0);
  assert.equal(n.plane.drops.get(DropReason.VxlanNoFdbEntry), 1, 'no remote for it');

  n.plane.addPeer({ remote: B.address, mac: null });
  n.plane.addPeer({ remote: C.address, mac: null });
  const unknown = frame(HOST_B, HOST_A, 0x88b5, payload(100));
  n.tap.inject(bcast);
  n.tap.inject(unknown);
  await settle();
  for (const r of [B, C]) {
    assert.deepEqual(n.sentTo(r).map((d) => d.data), [vxlan(1, bcast), vxlan(1, unknown)], `to ${r.address}`);
    assert.deepEqual(n.sentTo(r)[0].to, r, 'to the overlay port');
  }
  assert.equal(n.plane.flooded, 2);
  assert.equal(n.plane.stats.txPackets, 4);
  n.close();
});

test('learning: a source MAC from a VTEP sends frames to it to that VTEP alone; the frame reaches the TAP whatever its destination', async () => {
  const n = node();
  n.plane.addPeer({ remote: B.address, mac: null });
  n.plane.addPeer({ remote: C.address, mac: null });
  const fromB = frame(HOST_A, HOST_B, 0x88b5, payload(60));
  const toSomeoneElse = frame(HOST_C, HOST_B, 0x88b5, payload(60));
  n.from(B, vxlan(1, fromB));
  n.from(B, vxlan(1, toSomeoneElse));
  await settle();
  assert.deepEqual(n.tap.written, [fromB, toSomeoneElse], 'delivered as they came, the bridge decides');
  assert.deepEqual(n.plane.fdb.list(n.clock.now()).filter((e) => !e.static).map((e) => [e.mac, e.address, e.port]), [['0a:00:00:00:00:0b', B.address, 8472]]);

  const reply = frame(HOST_B, HOST_A, 0x88b5, payload(80));
  n.tap.inject(reply);
  await settle();
  assert.deepEqual(n.sentTo(B).map((d) => d.data), [vxlan(1, reply)]);
  assert.deepEqual(n.sentTo(C), [], 'a known MAC is not flooded');
  // The MAC moves: now it is behind C.
  n.from(C, vxlan(1, fromB));
  await settle();
  n.tap.inject(reply);
  await settle();
  assert.equal(n.sentTo(C).length, 1);
  assert.equal(n.plane.stats.rxPackets, 3);
  n.close();
});

test('static entries: a peer with a MAC pins it; the same MAC from another VTEP is dropped (vxlan_static_mac_moved)', async () => {
  const n = node();
  n.plane.addPeer({ remote: B.address, mac: HOST_B });
  n.plane.addPeer({ remote: C.address, mac: null });
  const toB = frame(HOST_B, HOST_A, 0x88b5, payload(20));
  n.tap.inject(toB);
  await settle();
  assert.deepEqual(n.sentTo(B).map((d) => d.data), [vxlan(1, toB)]);
  assert.equal(n.sentTo(C).length, 0);
  n.from(C, vxlan(1, frame(HOST_A, HOST_B, 0x88b5, payload(20))));
  await settle();
  assert.equal(n.plane.drops.get(DropReason.VxlanStaticMacMoved), 1);
  assert.equal(n.tap.written.length, 0);
  const entries = n.plane.fdb.list(n.clock.now());
  assert.deepEqual(entries.map((e) => [e.mac, e.address, e.static]), [['0a:00:00:00:00:0b', B.address, true], ['00:00:00:00:00:00', B.address, true], ['00:00:00:00:00:00', C.address, true]]);
  n.close();
});

test('ageing on a fake clock: a learned MAC is gone 300 s after its last frame, and its frames flood again', async () => {
  const n = node();
  n.plane.addPeer({ remote: B.address, mac: null });
  n.plane.addPeer({ remote: C.address, mac: null });
  n.from(B, vxlan(1, frame(HOST_A, HOST_B, 0x88b5, payload(20))));
  await settle();
  assert.equal(n.plane.fdb.size, 1);
  n.clock.advance(299_000);
  n.dp.tick(n.clock.now());
  assert.equal(n.plane.fdb.size, 1, 'still there at 299 s');
  n.clock.advance(1_000);
  n.dp.tick(n.clock.now());
  assert.equal(n.plane.fdb.size, 0, 'aged out at 300 s');
  n.tap.inject(frame(HOST_B, HOST_A, 0x88b5, payload(20)));
  await settle();
  assert.equal(n.sentTo(B).length + n.sentTo(C).length, 2, 'flooded again');
  n.close();
});

test('a full FDB learns nothing new and counts vxlan_fdb_full; the frame is still delivered', async () => {
  const n = node({ fdbSize: 2 });
  for (const [i, m] of [HOST_A, HOST_B, HOST_C].entries()) n.from(B, vxlan(1, frame(BROADCAST, m, 0x88b5, payload(10 + i))));
  await settle();
  assert.equal(n.plane.fdb.size, 2);
  assert.equal(n.plane.drops.get(DropReason.VxlanFdbFull), 1);
  assert.equal(n.tap.written.length, 3);
  n.close();
});

test('received frames: wrong VNI, a multicast or zero source MAC, our own VTEP MAC and a truncated frame are drops with reasons; without Learning nothing is learned', async () => {
  const n = node({ learning: false, vni: 7 });
  n.from(B, vxlan(1, frame(HOST_A, HOST_B, 0x88b5, payload(20))));
  n.from(B, vxlan(7, frame(HOST_A, mac('01:00:5e:00:00:01'), 0x88b5, payload(20))));
  n.from(B, vxlan(7, frame(HOST_A, mac('00:00:00:00:00:00'), 0x88b5, payload(20))));
  n.from(B, vxlan(7, frame(HOST_A, VTEP, 0x88b5, payload(20))));
  n.from(B, vxlan(7, new Uint8Array(13)));
  n.from(B, vxlan(7, frame(HOST_A, HOST_B, 0x88b5, payload(20))));
  await settle();
  assert.deepEqual(n.plane.drops.snapshot(), { truncated: 1, vxlan_unknown_vni: 1, vxlan_loop: 1, vxlan_bad_source_mac: 2 });
  assert.equal(n.tap.written.length, 1);
  assert.equal(n.plane.fdb.size, 0, 'Learning = false');
  n.close();
});

test('ECN (RFC 6040) for IP frames: outer copies inner on send; outer CE marks an ECT inner packet on receive', async () => {
  const n = node();
  n.plane.addPeer({ remote: B.address, mac: null });
  n.tap.inject(frame(BROADCAST, HOST_A, 0x0800, ipv4Udp('10.0.0.1', '10.0.0.2', 10, 0x02)));
  await settle();
  assert.equal(n.sentTo(B)[0].tos, 2, 'ECT(0) outside');
  n.from(B, vxlan(1, frame(HOST_A, HOST_B, 0x0800, ipv4Udp('10.0.0.2', '10.0.0.1', 10, 0x02))), 0x03);
  n.from(B, vxlan(1, frame(HOST_A, HOST_B, 0x0800, ipv4Udp('10.0.0.2', '10.0.0.1', 10, 0x00))), 0x03);
  await settle();
  assert.equal(n.tap.written.length, 1);
  assert.equal(n.tap.written[0][14 + 1] & 3, 3, 'inner CE');
  assert.equal(n.plane.drops.get(DropReason.VxlanEcnNotEct), 1);
  n.close();
});

test('reload helpers: a new port retargets every entry; Learning off forgets what was learned', async () => {
  const n = node();
  n.plane.addPeer({ remote: B.address, mac: HOST_B });
  n.from(C, vxlan(1, frame(HOST_A, HOST_C, 0x88b5, payload(20))));
  await settle();
  n.plane.setOverlayPort(4789);
  assert.deepEqual(n.plane.fdb.list(0).map((e) => e.port), [4789, 4789, 4789]);
  n.plane.setLearning(false);
  assert.deepEqual(n.plane.fdb.list(0).map((e) => e.mac), ['0a:00:00:00:00:0b', '00:00:00:00:00:00']);
  const [peer] = n.plane.peers.list();
  n.plane.removePeer(peer);
  assert.deepEqual(n.plane.fdb.list(0), []);
  n.close();
});

test('per-VTEP drops: a configured or learned VTEP\'s bad datagrams count against it, an unknown source\'s only for the plane; a send failure against the VTEP the FDB chose', async () => {
  const n = node({ learning: true, vni: 7 });
  n.plane.addPeer({ remote: B.address, mac: null });
  n.from(B, vxlan(1, frame(HOST_A, HOST_B, 0x88b5, payload(20))));
  n.from(B, vxlan(7, frame(HOST_A, VTEP, 0x88b5, payload(20))));
  n.from(C, vxlan(1, frame(HOST_A, HOST_C, 0x88b5, payload(20))));
  await settle();
  assert.deepEqual(n.plane.drops.snapshot(), { vxlan_unknown_vni: 2, vxlan_loop: 1 });
  assert.deepEqual(n.plane.vteps.withDrops().map((v) => [v.remote, v.drops.snapshot()]), [[B.address, { vxlan_unknown_vni: 1, vxlan_loop: 1 }]]);
  assert.equal(n.plane.vteps.size, 1, 'C, unknown, made no row');
  // C becomes known by learning: its next bad datagram is its own.
  n.from(C, vxlan(7, frame(HOST_A, HOST_C, 0x88b5, payload(20))));
  n.from(C, vxlan(1, frame(HOST_A, HOST_C, 0x88b5, payload(20))));
  await settle();
  assert.deepEqual(n.plane.vteps.dropsOf(C.address)?.snapshot(), { vxlan_unknown_vni: 1 });
  // A frame to HOST_C goes to C alone; the socket refuses it.
  const udp = n.dp.portOf(n.plane) as FakeUdp;
  udp.failNextSends(0, 101, 1);
  n.tap.inject(frame(HOST_C, HOST_A, 0x88b5, payload(20)));
  await settle();
  assert.deepEqual(n.plane.vteps.dropsOf(C.address)?.snapshot(), { vxlan_unknown_vni: 1, udp_send_failed: 1 });
  assert.deepEqual(n.plane.vteps.dropsOf(B.address)?.snapshot(), { vxlan_unknown_vni: 1, vxlan_loop: 1 }, 'B has nothing new');
  // Learning off forgets C: its row goes with its last entry.
  n.plane.setLearning(false);
  assert.equal(n.plane.vteps.dropsOf(C.address), null);
  assert.equal(n.plane.vteps.size, 1);
  n.close();
});
