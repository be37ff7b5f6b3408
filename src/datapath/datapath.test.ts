import assert from 'node:assert/strict';
import test from 'node:test';
import { ErrorCode } from '../errors.js';
import { DropReason } from '../stats/drop-reasons.js';
import { parsePrefix } from '../table/prefix-trie.js';
import { initCrypto } from '../wireguard/crypto.js';
import { FakeUdp } from '../../test/fakes/fake-udp.js';
import { assertDelivered, closeAndCheck, handshake, ipv4Packet, ipv6Packet, makePair, settle } from '../../test/support/wg-device-harness.js';
import { TestPlane } from '../../test/support/test-plane.js';
import { DeviceUapiBackend } from '../daemon/uapi-backend.js';
import { UapiError } from '../uapi/errors.js';

await initCrypto();

test('a test plane beside WireGuard: each gets its own packets, in both directions', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  const { a, b, net } = p;
  const remote = new FakeUdp(net, { family: 4, address: '192.0.2.77', port: 7777 }, a.pool, 8);
  t.after(() => remote.close());
  const plane = new TestPlane('test', { family: 4, address: '192.0.2.77', port: 7777 });
  const port = new FakeUdp(net, { family: 4, address: '192.0.2.1', port: 6666 }, a.pool, 16);
  a.dp.addPlane(plane, port);
  const ref = { vtep: 'far' };
  a.dp.routes.claim(parsePrefix('10.9.0.0/16'), plane, ref);

  const wgPacket = await handshake(p, 'to b over wireguard');
  const testPacket = ipv4Packet(a.v4, '10.9.0.5', 'to the test plane');
  a.tun.inject(testPacket);
  await settle(p);
  assertDelivered(b, [wgPacket]);
  assert.equal(plane.encapsulated, 1);
  assert.deepEqual(plane.refs, [ref], 'the route reference reaches the plane');
  const wire = net.log.filter((d) => d.to.port === 7777);
  assert.equal(wire.length, 1);
  assert.deepEqual([...wire[0].data.subarray(0, 4)], [0x54, 0x53, 0x54, 0x50]);
  assert.deepEqual(wire[0].data.subarray(4), testPacket);
  assert.equal(plane.sentOk, 1);
  assert.equal(a.dev.drops.total(), 0, 'WireGuard saw nothing of the test plane\'s packet');

  // Inbound: the test plane's datagram becomes an inner packet on A's TUN.
  const back = ipv4Packet('10.9.0.5', a.v4, 'from the test plane');
  const framed = new Uint8Array(back.length + 4);
  framed.set([0x54, 0x53, 0x54, 0x50]);
  framed.set(back, 4);
  net.send({ from: { family: 4, address: '192.0.2.77', port: 7777 }, to: { family: 4, address: '192.0.2.1', port: 6666 }, data: framed });
  await settle(p);
  assert.deepEqual(a.tun.written.at(-1), back);
  assert.equal(plane.decapsulated, 1);
});

test('routes of two planes do not leak, and a prefix two planes claim is refused', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  const { a, net } = p;
  const plane = new TestPlane('test', { family: 4, address: '192.0.2.77', port: 7777 });
  a.dp.addPlane(plane, new FakeUdp(net, { family: 4, address: '192.0.2.1', port: 6667 }, a.pool, 8));
  a.dp.routes.claim(parsePrefix('10.9.0.0/16'), plane, 'x');

  // WireGuard's allowed IPs and the test plane's prefix are distinct routes.
  assert.equal(a.dev.allowedIps.lookupV4At(new Uint8Array([10, 9, 0, 5]), 0), undefined);
  assert.equal(a.dp.routes.lookupV4(new Uint8Array([10, 0, 0, 2]), 0)?.plane, a.dev);
  assert.equal(a.dp.routes.lookupV4(new Uint8Array([10, 9, 0, 5]), 0)?.plane, plane);

  // The test plane cannot take a WireGuard prefix, nor WireGuard the test plane's.
  assert.throws(() => a.dp.routes.claim(parsePrefix('10.0.0.2/32'), plane, 'x'), (e: { code: string }) => e.code === ErrorCode.RouteConflict);
  assert.throws(() => a.dev.addAllowedIp(a.peer, '10.9.0.0/16'), (e: { code: string; message: string }) => e.code === ErrorCode.RouteConflict && /routed to test/.test(e.message));
  // A more specific prefix is no conflict: longest match decides.
  a.dev.addAllowedIp(a.peer, '10.9.1.0/24');
  assert.equal(a.dp.routes.lookupV4(new Uint8Array([10, 9, 1, 1]), 0)?.plane, a.dev);

  // Over UAPI the whole change is refused before anything is applied.
  const backend = new DeviceUapiBackend(a.dev, () => {
    throw new Error('unused');
  });
  const before = a.dev.allowedIpsOf(a.peer).length;
  assert.throws(
    () =>
      backend.set({
        replacePeers: false,
        peers: [{ publicKey: a.peer.publicKey, remove: false, updateOnly: false, replaceAllowedIps: false, allowedIps: [{ prefix: parsePrefix('10.77.0.0/16'), remove: false }, { prefix: parsePrefix('10.9.0.0/16'), remove: false }] }],
      }),
    (e) => e instanceof UapiError && /10\.9\.0\.0\/16 is already routed to test/.test(e.message),
  );
  assert.equal(a.dev.allowedIpsOf(a.peer).length, before, 'nothing of the refused change was applied');

  // Removing a peer takes its routes; a prefix nobody routes is a datapath drop.
  a.dev.removePeer(a.peer);
  assert.equal(a.dp.routes.lookupV4(new Uint8Array([10, 0, 0, 2]), 0), undefined);
  a.tun.inject(ipv4Packet(a.v4, p.b.v4, 'nowhere now'));
  await settle(p);
  assert.equal(a.dp.drops.get(DropReason.NoRoute), 1);
});

test('a packet over the MTU is dropped and answered with ICMP, IPv4 (DF) and IPv6', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  const { a, b } = p;
  a.dp.mtu = 1280;
  const big4 = ipv4Packet(a.v4, b.v4, new Uint8Array(1300));
  big4[6] |= 0x40; // DF
  a.tun.inject(big4);
  a.tun.inject(ipv6Packet(a.v6, b.v6, new Uint8Array(1300)));
  await settle(p);
  assert.equal(a.dp.drops.get(DropReason.TooBig), 2);
  const [icmp4, icmp6] = a.tun.written;
  assert.equal(icmp4[9], 1, 'ICMPv4');
  assert.deepEqual([icmp4[20], icmp4[21]], [3, 4], 'fragmentation needed');
  assert.equal((icmp4[26] << 8) | icmp4[27], 1280, 'next-hop MTU');
  assert.deepEqual([...icmp4.subarray(16, 20)], [10, 0, 0, 1], 'to the sender');
  assert.equal(icmp6[6], 58, 'ICMPv6');
  assert.equal(icmp6[40], 2, 'packet too big');
  assert.equal(new DataView(icmp6.buffer, icmp6.byteOffset).getUint32(44), 1280, 'the MTU');
  assert.equal(b.tun.written.length, 0);
});

test('a plane without a port: its datagrams are udp_send_failed drops, shown at the drop capture point with their endpoint', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  const { a } = p;
  const plane = new TestPlane('test', { family: 4, address: '192.0.2.77', port: 7777 });
  a.dp.addPlane(plane, null);
  a.dp.routes.claim(parsePrefix('10.9.0.0/16'), plane, 'x');
  const seen: Array<[number, string | null, number, string]> = [];
  const ignore = (): void => {};
  a.dp.capture = {
    packet: ignore,
    datagram: ignore,
    drop: (reason, _dir, _slab, _off, len, plane, _ref, eps, epOff) => void seen.push([reason, plane, len, eps === null ? '' : eps.subarray(epOff + 4, epOff + 8).join('.')]),
  };
  const packet = ipv4Packet(a.v4, '10.9.0.5', 'nowhere to go');
  a.tun.inject(packet);
  await settle(p);
  a.dp.capture = null;
  assert.equal(plane.drops.get(DropReason.UdpSendFailed), 1);
  assert.deepEqual(seen, [[DropReason.UdpSendFailed, 'test', packet.length + 4, '192.0.2.77']]);
});
