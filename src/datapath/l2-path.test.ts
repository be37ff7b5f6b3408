import assert from 'node:assert/strict';
import test from 'node:test';
import { BufferPool } from '../buffer/pool.js';
import { ErrorCode } from '../errors.js';
import { DropReason } from '../stats/drop-reasons.js';
import { parsePrefix } from '../table/prefix-trie.js';
import { FakeTun } from '../../test/fakes/fake-tun.js';
import { FakeNetwork, FakeUdp } from '../../test/fakes/fake-udp.js';
import { TestPlane } from '../../test/support/test-plane.js';
import { Datapath } from './datapath.js';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
};

const FAR = { family: 4 as const, address: '192.0.2.77', port: 7777 };

function setup(device: 'tun' | 'tap') {
  const net = new FakeNetwork();
  net.logEnabled = true;
  const pool = new BufferPool({ slotCount: 256 });
  const tun = new FakeTun('t0', pool, 16);
  const dp = new Datapath({ pool, tun, tickIntervalMs: 0, device });
  const far = new FakeUdp(net, FAR, pool, 8);
  const port = (p: number) => new FakeUdp(net, { family: 4, address: '192.0.2.1', port: p }, pool, 8);
  return {
    net,
    pool,
    tun,
    dp,
    port,
    close() {
      dp.close();
      far.close();
      pool.assertNoLeaks();
    },
  };
}

/** An Ethernet frame (not an IP packet: the first nibble is no IP version). */
function ethernet(dst: number[], payload: number): Uint8Array {
  const f = new Uint8Array(14 + payload);
  f.set(dst, 0);
  f.set([0x02, 0, 0, 0, 0, 0x0a], 6);
  f.set([0x88, 0xb5], 12);
  for (let i = 0; i < payload; i++) f[14 + i] = i & 0xff;
  return f;
}

/** What the test plane sends for a frame: its 4-byte header and the frame. */
function wrapped(f: Uint8Array): Uint8Array {
  return Uint8Array.from([0x54, 0x53, 0x54, 0x50, ...f]);
}

test('on a TAP every frame goes to the L2 plane, whatever its bytes; no route table; runts, giants and frames with no L2 plane are counted drops', async () => {
  const s = setup('tap');
  const l2 = new TestPlane('l2', FAR);
  s.dp.addPlane(l2, s.port(6000));
  s.dp.start();
  s.tun.inject(ethernet([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 40));
  await settle();
  assert.equal(l2.encapsulated, 0, 'not the L2 plane yet: nothing takes frames');
  assert.equal(s.dp.drops.get(DropReason.NoRoute), 1);

  s.dp.setL2Plane(l2);
  const frames = [ethernet([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 40), ethernet([0x02, 1, 2, 3, 4, 5], 100), ethernet([0x45, 0, 0, 0, 0, 0], 0)];
  for (const f of frames) s.tun.inject(f);
  s.tun.inject(new Uint8Array(13));
  s.tun.inject(ethernet([2, 0, 0, 0, 0, 1], 1420 + 4 + 1));
  await settle();
  assert.equal(l2.encapsulated, 3);
  assert.deepEqual(l2.refs, [null, null, null], 'no route: no reference');
  assert.deepEqual(s.net.log.map((d) => d.data), frames.map(wrapped));
  assert.equal(s.dp.drops.get(DropReason.Truncated), 1, 'shorter than an Ethernet header');
  assert.equal(s.dp.drops.get(DropReason.TooBig), 1, 'beyond MTU + Ethernet header + one VLAN tag');
  assert.equal(s.dp.routes.size, 0);
  s.close();
});

test('on a TAP the L2 plane delivers frames to the device as they are; another plane\'s (IP) deliveries are dropped', async () => {
  const s = setup('tap');
  const l2 = new TestPlane('l2', FAR);
  const ip = new TestPlane('ip', FAR);
  s.dp.addPlane(l2, s.port(6000));
  s.dp.addPlane(ip, s.port(6001));
  s.dp.setL2Plane(l2);
  assert.throws(() => s.dp.setL2Plane(ip), /already carries plane l2/);
  s.dp.start();
  const f = ethernet([0x02, 0, 0, 0, 0, 0x0b], 30);
  // TestPlane needs 24 bytes or more after its header; the frame is 44.
  s.net.send({ from: FAR, to: { family: 4, address: '192.0.2.1', port: 6000 }, data: wrapped(f) });
  s.net.send({ from: FAR, to: { family: 4, address: '192.0.2.1', port: 6001 }, data: wrapped(f) });
  await settle();
  assert.deepEqual(s.tun.written, [f]);
  assert.equal(s.dp.drops.get(DropReason.TapIpPacket), 1);
  s.close();
});

test('a TUN has no L2 plane', () => {
  const s = setup('tun');
  const p = new TestPlane('p', FAR);
  s.dp.addPlane(p, s.port(6000));
  assert.equal(s.dp.l2, null);
  assert.throws(() => s.dp.setL2Plane(p), (e: { code: string }) => e.code === ErrorCode.InvalidArgument);
  s.close();
});

test('removePlane: routes released, port closed, plane closed, slots back; the others untouched; a plane of that name can come again', async () => {
  const s = setup('tun');
  const gone = new TestPlane('gone', FAR);
  const stays = new TestPlane('stays', FAR);
  let closed = 0;
  gone.close = () => void closed++;
  s.dp.addPlane(gone, s.port(6000));
  s.dp.addPlane(stays, s.port(6001));
  s.dp.routes.claim(parsePrefix('10.9.0.0/16'), gone, 'a');
  s.dp.routes.claim(parsePrefix('fd00:9::/64'), gone, 'b');
  s.dp.routes.claim(parsePrefix('10.8.0.0/16'), stays, 'c');
  s.dp.start();
  const toGone = Uint8Array.from([0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 9, 0, 5, 0, 1, 0, 2, 0, 8, 0, 0]);
  const toStays = Uint8Array.from(toGone);
  toStays[17] = 8;
  s.tun.inject(toGone);
  await settle();
  assert.equal(gone.encapsulated, 1);

  s.dp.removePlane(gone);
  assert.equal(closed, 1, 'the plane was closed');
  assert.deepEqual(s.dp.planes.map((p) => p.name), ['stays']);
  assert.equal(s.dp.routes.size, 1, 'its two routes went, the other plane\'s stayed');
  assert.throws(() => s.dp.portOf(gone), /not mounted/);
  s.net.send({ from: FAR, to: { family: 4, address: '192.0.2.1', port: 6000 }, data: wrapped(new Uint8Array(30)) });
  s.tun.inject(toGone);
  s.tun.inject(toStays);
  await settle();
  assert.equal(gone.decapsulated, 0, 'its port was closed: nothing arrives');
  assert.equal(gone.encapsulated, 1, 'nothing routed to it any more');
  assert.equal(s.dp.drops.get(DropReason.NoRoute), 1);
  assert.equal(stays.encapsulated, 1);

  // The same name, the same prefixes and the same address again (a reload that brings the
  // section back): the fake network refuses a second socket on an address still bound.
  const again = new TestPlane('gone', FAR);
  s.dp.addPlane(again, s.port(6000));
  s.dp.routes.claim(parsePrefix('10.9.0.0/16'), again, 'a');
  s.tun.inject(toGone);
  await settle();
  assert.equal(again.encapsulated, 1);
  s.close();
});

test('removePlane of a blocked lane lifts its backpressure; of the L2 plane leaves the TAP without one', async () => {
  const s = setup('tap');
  const l2 = new TestPlane('l2', FAR);
  const port = s.port(6000);
  s.dp.addPlane(l2, port);
  s.dp.setL2Plane(l2);
  s.dp.start();
  port.blockWrites();
  s.tun.inject(ethernet([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 40));
  await settle();
  assert.equal(s.dp.stats.sendBlocks, 1, 'the socket refused: the TAP is paused');
  s.dp.removePlane(l2);
  assert.equal(s.dp.l2?.plane, null);
  s.tun.inject(ethernet([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 40));
  await settle();
  assert.equal(s.dp.drops.get(DropReason.NoRoute), 1, 'the TAP is read again; with no L2 plane its frames are dropped');
  s.close();
});
