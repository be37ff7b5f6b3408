import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DropReason } from '../stats/drop-reasons.js';
import { PacketBatch } from '../buffer/batch.js';
import { type BatchAead, nativeBatchAead, referenceBatchAead, referenceBatchAeadReady } from './batch-aead.js';
import { MESSAGE_INITIATION_SIZE, MESSAGE_RESPONSE_SIZE, MessageType } from './constants.js';
import { initCrypto } from './crypto.js';
import { generatePresharedKey, generatePrivateKey } from './keys.js';
import { advance, assertDelivered, closeAndCheck, handshake, ipv4Packet, ipv6Packet, isTransport, makePair, sentBy, settle } from '../../test/support/wg-device-harness.js';

before(async () => {
  await initCrypto();
  await referenceBatchAeadReady();
});

const combos: Array<[string, BatchAead, BatchAead]> = [
  ['native/native', nativeBatchAead, nativeBatchAead],
  ['reference/reference', referenceBatchAead, referenceBatchAead],
  ['native/reference', nativeBatchAead, referenceBatchAead],
];

for (const [name, aeadA, aeadB] of combos) {
  test(`two devices (${name}): A initiates, IPv4 and IPv6 both ways, then B initiates`, async () => {
    const p = makePair({ aeadA, aeadB });
    const { a, b, net } = p;
    const seenA: boolean[] = [];
    a.dev.on('handshake', (_peer, initiator) => seenA.push(initiator));

    const p1 = await handshake(p, 'hello over v4');
    assertDelivered(b, [p1]);
    // Wire format: initiation (148, type 1) first, the response (92), then transport.
    assert.equal(net.log[0].data.length, MESSAGE_INITIATION_SIZE);
    assert.equal(net.log[0].data[0], MessageType.Initiation);
    assert.deepEqual([...net.log[0].data.subarray(1, 4)], [0, 0, 0]);
    assert.equal(net.log[1].data.length, MESSAGE_RESPONSE_SIZE);
    assert.equal(net.log[1].data[0], MessageType.Response);
    for (const d of net.log.filter(isTransport)) assert.equal((d.data.length - 32) % 16, 0, `transport datagram of ${d.data.length} bytes`);
    assert.deepEqual(seenA, [true]);

    const v6AtoB = ipv6Packet(a.v6, b.v6, 'hello over v6');
    const v4BtoA = ipv4Packet(b.v4, a.v4, 'reply v4');
    const v6BtoA = ipv6Packet(b.v6, a.v6, 'reply v6, a little longer than the others');
    a.tun.inject(v6AtoB);
    b.tun.inject(v4BtoA);
    b.tun.inject(v6BtoA);
    await settle(p);
    assertDelivered(b, [p1, v6AtoB]);
    assertDelivered(a, [v4BtoA, v6BtoA]);
    assert.equal(net.log.filter((d) => d.data[0] === MessageType.Initiation).length, 1, 'one handshake');
    assert.ok(a.peer.lastHandshakeWallMs > 0 && b.peer.lastHandshakeWallMs > 0, 'both roles record the handshake');
    assert.equal(a.peer.txBytes, b.peer.rxBytes);
    assert.equal(b.peer.txBytes, a.peer.rxBytes);
    assert.equal(a.dev.drops.total(), 0, JSON.stringify(a.dev.drops.snapshot()));
    assert.equal(b.dev.drops.total(), 0, JSON.stringify(b.dev.drops.snapshot()));

    // Down and up zeroes every key; now B speaks first and initiates.
    a.dev.stop();
    b.dev.stop();
    assert.equal(a.dev.keyTable.size + b.dev.keyTable.size, 0, 'keys zeroed when down');
    a.dev.start();
    b.dev.start();
    const before = net.log.length;
    const p2 = ipv4Packet(b.v4, a.v4, 'B speaks first');
    b.tun.inject(p2);
    await settle(p);
    const fresh = net.log.slice(before);
    assert.equal(fresh[0].data[0], MessageType.Initiation);
    assert.equal(fresh[0].from.port, b.local.port, 'B sent the initiation');
    assertDelivered(a, [v4BtoA, v6BtoA, p2]);
    const p3 = ipv4Packet(a.v4, b.v4, 'and A answers');
    a.tun.inject(p3);
    await settle(p);
    assertDelivered(b, [p1, v6AtoB, p3]);
    assert.equal(seenA.length, 2);
    assert.equal(seenA[1], false, 'A was responder the second time');
    closeAndCheck(p);
  });
}

test('preshared key: same PSK gives a session, a different one none', async () => {
  const psk = generatePresharedKey();
  const ok = makePair();
  ok.a.dev.setPresharedKey(ok.a.peer, psk);
  ok.b.dev.setPresharedKey(ok.b.peer, psk);
  assert.deepEqual(ok.a.peer.presharedKey, psk);
  const pk = await handshake(ok, 'with psk');
  assertDelivered(ok.b, [pk]);
  closeAndCheck(ok);

  const bad = makePair();
  bad.a.dev.setPresharedKey(bad.a.peer, psk);
  bad.b.dev.setPresharedKey(bad.b.peer, generatePresharedKey());
  await handshake(bad, 'wrong psk');
  assertDelivered(bad.b, []);
  assert.equal(bad.a.dev.drops.get(DropReason.WgHandshakeFailed), 1, 'the response fails to authenticate at A');
  assert.equal(bad.a.peer.keypairs.current, null);
  assert.equal(bad.a.peer.staged.count, 1, 'the packet still waits');
  closeAndCheck(bad);
});

test('cookie round trip under load: cookie reply, retransmission with mac2, session', async () => {
  const p = makePair({ optsB: { underLoadThreshold: 0 } });
  const { a, b } = p;
  const pkt = await handshake(p, 'under load');
  assertDelivered(b, []);
  assert.equal(b.dev.drops.get(DropReason.WgCookieRequired), 1, 'first initiation has no mac2: a cookie is required, not a bad mac2');
  assert.equal(b.dev.drops.get(DropReason.WgBadMac2), 0);
  assert.equal(sentBy(p, b, MessageType.CookieReply).length, 1, 'B answered with a cookie reply');
  assert.equal(sentBy(p, b, MessageType.CookieReply)[0].data.length, 64);
  assert.equal(a.peer.cookieGenerator.hasFreshCookie(p.clock.now()), true, 'A took the cookie');
  // A retries after REKEY_TIMEOUT + jitter, this time with mac2.
  await advance(p, 5400);
  const inits = sentBy(p, a, MessageType.Initiation);
  assert.equal(inits.length, 2);
  assert.ok(inits[1].data.subarray(132, 148).some((x) => x !== 0), 'mac2 set');
  assert.ok(inits[0].data.subarray(132, 148).every((x) => x === 0), 'mac2 zero before the cookie');
  assertDelivered(b, [pkt]);
  assert.equal(b.dev.drops.get(DropReason.WgCookieRequired), 1);
  assert.equal(b.dev.drops.get(DropReason.WgBadMac2), 0);
  closeAndCheck(p);
});

test('staged packets wait for the handshake, in order; the queue keeps the newest 128', async () => {
  const p = makePair();
  const { a, b } = p;
  const pkts = [0, 1, 2].map((i) => ipv4Packet(a.v4, b.v4, `staged ${i}`));
  for (const x of pkts) a.tun.inject(x);
  await settle(p);
  assertDelivered(b, pkts);
  closeAndCheck(p);

  const q = makePair();
  let blocked = true;
  q.net.filter = (d) => !(blocked && d.data[0] === MessageType.Response);
  const many = Array.from({ length: 130 }, (_, i) => ipv4Packet(q.a.v4, q.b.v4, `p${i}`));
  for (const x of many) q.a.tun.inject(x);
  await settle(q);
  assert.equal(q.a.peer.staged.count, 128);
  assert.equal(q.a.dev.drops.get(DropReason.WgStagedQueueFull), 2);
  blocked = false;
  await advance(q, 5400);
  assertDelivered(q.b, many.slice(2));
  assert.ok(q.net.dropped >= 1, 'the first response was blocked');
  closeAndCheck(q);
});

test('source check and routing: foreign source dropped at A, unknown destination dropped at B', async () => {
  const p = makePair();
  const { a, b } = p;
  await handshake(p);
  const spoofed = ipv4Packet('10.9.9.9', a.v4, 'not from B');
  const good = ipv4Packet(b.v4, a.v4, 'from B');
  // B routes by destination only, so it sends the spoofed one; A checks the source.
  b.tun.inject(spoofed);
  b.tun.inject(good);
  await settle(p);
  assertDelivered(a, [good]);
  assert.equal(a.dev.drops.get(DropReason.WgSourceNotAllowed), 1);

  const nowhere = ipv4Packet(b.v4, '172.16.0.1', 'no route');
  const nowhere6 = ipv6Packet(b.v6, 'fd99::1', 'no route');
  b.tun.inject(nowhere);
  b.tun.inject(nowhere6);
  b.tun.inject(new Uint8Array([0x45, 0, 0]));
  b.tun.inject(new Uint8Array(30).fill(0x20));
  await settle(p);
  // Routing is the datapath's: it counts what no plane claims and what is not IP.
  assert.equal(b.dp.drops.get(DropReason.NoRoute), 2);
  assert.equal(b.dp.drops.get(DropReason.Truncated), 1);
  assert.equal(b.dp.drops.get(DropReason.BadVersion), 1);

  // A peer without an endpoint cannot be reached.
  a.dev.setEndpoint(a.peer, null);
  a.tun.inject(ipv4Packet(a.v4, b.v4, 'no endpoint'));
  await settle(p);
  assert.equal(a.dev.drops.get(DropReason.WgNoEndpoint), 1);
  closeAndCheck(p);
});

test('roaming: after B moves, A answers at the new endpoint', async () => {
  const p = makePair();
  const { a, b, net } = p;
  await handshake(p);
  const moved = { family: 4 as const, address: '198.51.100.7', port: 50000 };
  let roamed = 0;
  a.dev.on('endpoint', () => roamed++);
  net.rebind(b.udp, moved);
  const fromNew = ipv4Packet(b.v4, a.v4, 'from the new place');
  b.tun.inject(fromNew);
  await settle(p);
  assertDelivered(a, [fromNew]);
  assert.deepEqual(a.peer.getEndpoint(), moved);
  assert.equal(roamed, 1);
  const back = ipv4Packet(a.v4, b.v4, 'reply to the new place');
  a.tun.inject(back);
  await settle(p);
  assert.deepEqual(b.tun.written.at(-1), back);
  assert.deepEqual(net.log.at(-1)?.to, moved);
  closeAndCheck(p);
});

test('config: own key refused as peer, setPrivateKey restarts sessions, removePeer frees everything', async () => {
  const p = makePair();
  const { a, b } = p;
  assert.throws(() => a.dev.addPeer(a.dev.publicKey as Uint8Array), /own public key/);
  assert.equal(a.dev.addPeer(b.dev.publicKey as Uint8Array), a.peer, 'adding an existing key selects it');
  await handshake(p);
  assert.ok(a.dev.indexTable.size > 0);
  assert.deepEqual(a.dev.allowedIpsOf(a.peer).length, 2);

  // Same key again: nothing happens. A new key: sessions stop sending and B no longer knows A.
  a.dev.setPrivateKey(a.dev.getPrivateKey());
  assert.notEqual(a.peer.keypairs.current, null);
  const oldPublic = a.dev.publicKey as Uint8Array;
  a.dev.setPrivateKey(generatePrivateKey());
  const p2 = ipv4Packet(a.v4, b.v4, 'after the key change');
  a.tun.inject(p2);
  await settle(p);
  assert.equal(b.tun.written.length, 1, 'not delivered under the old session');
  assert.equal(b.dev.drops.get(DropReason.WgHandshakeFailed), 1, 'B does not know the new key');
  // B learns A's new key; A's retry then gets through and the staged packet follows.
  b.dev.removePeer(oldPublic);
  const pb = b.dev.addPeer(a.dev.publicKey as Uint8Array);
  b.dev.addAllowedIp(pb, '10.0.0.1/32');
  await advance(p, 5400);
  assert.deepEqual(b.tun.written.at(-1), p2);
  b.peer = pb;

  // B removes A: everything of A at B goes.
  assert.equal(b.dev.removePeer(b.peer), true);
  assert.equal(b.dev.removePeer(b.peer), false);
  assert.equal(b.dev.indexTable.size, 0);
  assert.equal(b.dev.keyTable.size, 0);
  assert.equal(b.dev.allowedIps.size, 0);
  assert.equal(b.dev.peerCount, 0);
  closeAndCheck(p);
});

test('a packet routed to WireGuard while the device is down is a wg_device_down drop, captured, its slot returned', () => {
  const p = makePair();
  const { a } = p;
  const batch = new PacketBatch(4);
  const slot = a.pool.acquire();
  const pkt = ipv4Packet(a.v4, p.b.v4, 'while down');
  a.pool.slab.set(pkt, a.pool.dataOffset(slot));
  batch.push(slot, a.pool.dataOffset(slot), pkt.length);
  const seen: Array<[number, Uint8Array, unknown]> = [];
  const ignore = (): void => {};
  a.dp.capture = { packet: ignore, datagram: ignore, drop: (reason, _dir, slab, off, len, _plane, ref) => void seen.push([reason, Uint8Array.from(slab.subarray(off, off + len)), ref]) };
  a.dev.up = false;
  a.dev.encapsulate(batch, [a.peer]);
  assert.equal(a.dev.drops.get(DropReason.WgDeviceDown), 1);
  assert.equal(batch.count, 0);
  assert.equal(a.pool.isInUse(slot), false, 'the slot went back to the pool');
  assert.deepEqual(seen, [[DropReason.WgDeviceDown, Uint8Array.from(pkt), a.peer]], 'shown at the drop capture point, with its peer');
  a.dp.capture = null;
  a.dev.up = true;
  closeAndCheck(p);
});
