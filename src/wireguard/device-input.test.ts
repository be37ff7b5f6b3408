import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DropReason } from '../stats/drop-reasons.js';
import { MessageType } from './constants.js';
import { initCrypto } from './crypto.js';
import { writeU32LE } from './messages.js';
import { advance, assertDelivered, closeAndCheck, handshake, ipv4Packet, isTransport, makePair, sentBy, settle, type Pair } from '../../test/support/wg-device-harness.js';

before(async () => {
  await initCrypto();
});

const stranger = { family: 4 as const, address: '203.0.113.9', port: 999 };

function toA(p: Pair, data: Uint8Array, from = stranger): void {
  p.net.send({ from, to: p.a.local, data });
}

function message(type: number, len: number, fill = 0x5a): Uint8Array {
  const m = new Uint8Array(len).fill(fill);
  if (len > 0) m[0] = type;
  for (let i = 1; i < Math.min(4, len); i++) m[i] = 0;
  return m;
}

test('bad datagrams: each is counted under its reason, nothing throws, nothing leaks', async () => {
  const p = makePair();
  const { a, b } = p;
  await handshake(p);
  const d = a.dev.drops;
  const base = d.total();
  const kp = a.peer.keypairs.current!;

  // Truncated and malformed.
  for (const len of [0, 1, 3]) toA(p, message(MessageType.Transport, len));
  toA(p, message(MessageType.Transport, 31));
  toA(p, message(MessageType.Initiation, 147));
  toA(p, message(MessageType.Response, 93));
  toA(p, message(MessageType.CookieReply, 63));
  await settle(p);
  assert.equal(d.get(DropReason.WgBadMessageLength), 7);

  const reserved = message(MessageType.Transport, 64);
  reserved[2] = 1;
  toA(p, reserved);
  toA(p, message(5, 64));
  toA(p, message(0, 64));
  await settle(p);
  assert.equal(d.get(DropReason.WgUnknownMessageType), 3);

  // Forged receiver indices.
  const forged = message(MessageType.Transport, 64);
  writeU32LE(forged, 4, (kp.localIndex ^ 0x5555) >>> 0);
  toA(p, forged);
  const cookie = message(MessageType.CookieReply, 64);
  writeU32LE(cookie, 4, (kp.localIndex ^ 0x5555) >>> 0);
  toA(p, cookie);
  const resp = message(MessageType.Response, 92);
  writeU32LE(resp, 8, kp.localIndex); // a keypair's index is not a handshake's
  await settle(p);
  assert.equal(d.get(DropReason.WgUnknownIndex), 2);

  // Right index, wrong ciphertext; right index, counter past the limit.
  const garbage = message(MessageType.Transport, 80);
  writeU32LE(garbage, 4, kp.localIndex);
  toA(p, garbage);
  const exhausted = message(MessageType.Transport, 48);
  writeU32LE(exhausted, 4, kp.localIndex);
  writeU32LE(exhausted, 8, 0xffff_e000);
  writeU32LE(exhausted, 12, 0xffff_ffff);
  toA(p, exhausted);
  await settle(p);
  assert.equal(d.get(DropReason.WgDecryptFailed), 1);
  assert.equal(d.get(DropReason.WgKeyExpired), 1);

  // Handshake messages of the right size without a valid mac1.
  toA(p, message(MessageType.Initiation, 148));
  toA(p, resp);
  const cookieBad = message(MessageType.CookieReply, 64);
  writeU32LE(cookieBad, 4, kp.localIndex);
  toA(p, cookieBad);
  await settle(p);
  assert.equal(d.get(DropReason.WgBadMac1), 2);
  assert.equal(d.get(DropReason.WgCookieInvalid), 1, 'a cookie reply to an index we know, that does not decrypt');

  // A replayed transport packet (the network duplicates one).
  p.net.filter = (dg) => {
    if (dg.from.port === b.local.port && isTransport(dg)) {
      p.net.filter = undefined;
      p.net.send({ ...dg, data: Uint8Array.from(dg.data) });
    }
    return true;
  };
  const once = ipv4Packet(b.v4, a.v4, 'only once');
  b.tun.inject(once);
  await settle(p);
  assert.equal(d.get(DropReason.WgReplayed), 1);
  assertDelivered(a, [once]);

  assert.equal(d.total() - base, 7 + 3 + 2 + 2 + 2 + 1 + 1, JSON.stringify(d.snapshot()));
  // Still working.
  const after = ipv4Packet(a.v4, b.v4, 'still fine');
  a.tun.inject(after);
  await settle(p);
  assert.deepEqual(b.tun.written.at(-1), after);
  closeAndCheck(p);
});

test('random datagrams: every one is dropped under exactly one reason', async () => {
  const p = makePair();
  const { a } = p;
  await handshake(p);
  const kp = a.peer.keypairs.current!;
  const header = fc.oneof(
    fc.constant(null),
    fc.constantFrom(1, 2, 3, 4).map((t) => [t, 0, 0, 0]),
    fc.constantFrom(1, 2, 3, 4).map((t) => [t, 0, 0, 0, ...[0, 8, 16, 24].map((s) => (kp.localIndex >>> s) & 0xff)]),
  );
  const sizes = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.constantFrom(32, 48, 64, 92, 148, 1440));
  const arb = fc.array(
    fc.tuple(header, sizes, fc.uint8Array({ minLength: 1500, maxLength: 1500 })).map(([h, n, body]) => {
      const m = body.slice(0, n);
      if (h !== null) m.set(h.slice(0, n));
      return m;
    }),
    { minLength: 200, maxLength: 200 },
  );
  const batch = fc.sample(arb, { numRuns: 1, seed: 42 })[0];
  const before = a.dev.drops.total();
  for (const m of batch) toA(p, m);
  await settle(p);
  assert.equal(a.dev.drops.total() - before, batch.length, JSON.stringify(a.dev.drops.snapshot()));
  assert.equal(a.tun.written.length, 0);
  closeAndCheck(p);
});

test('handshake queue: bounded, full means dropped and counted', async () => {
  const p = makePair({ optsA: { handshakeQueueSize: 4 } });
  const { a } = p;
  for (let i = 0; i < 20; i++) toA(p, message(MessageType.Initiation, 148, i));
  await settle(p);
  assert.equal(a.dev.drops.get(DropReason.WgHandshakeQueueFull), 16);
  assert.equal(a.dev.drops.get(DropReason.WgBadMac1), 4);
  closeAndCheck(p);
});

test('under load: replayed initiations with a valid mac2 hit the per-source rate limit', async () => {
  const p = makePair({ optsB: { underLoadThreshold: 0 } });
  const { a, b } = p;
  await handshake(p);
  await advance(p, 5400);
  const withMac2 = sentBy(p, a, MessageType.Initiation)[1].data;
  assert.ok(withMac2.subarray(132).some((x) => x !== 0));
  const base = b.dev.drops.snapshot();
  for (let i = 0; i < 12; i++) p.net.send({ from: a.local, to: b.local, data: withMac2 });
  await settle(p);
  const rl = b.dev.drops.get(DropReason.WgRateLimited);
  const replayed = b.dev.drops.get(DropReason.WgReplayedTimestamp);
  assert.ok(rl >= 6, `rate limited: ${rl}`);
  assert.equal(rl + replayed, 12, JSON.stringify([base, b.dev.drops.snapshot()]));
  closeAndCheck(p);
});

test('closing with staged packets and queued handshakes returns every slot', async () => {
  const p = makePair();
  const { a } = p;
  p.net.filter = (d) => d.data[0] !== MessageType.Response;
  for (let i = 0; i < 10; i++) a.tun.inject(ipv4Packet(a.v4, p.b.v4, `s${i}`));
  await settle(p);
  assert.equal(a.peer.staged.count, 10);
  // Park handshakes in A's queue: with no budget they are read but never processed.
  a.dev.handshakeBudget = 0;
  for (let i = 0; i < 5; i++) toA(p, message(MessageType.Initiation, 148, i));
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  assert.equal(a.dev.handshakeQueue.length, 5);
  assert.ok(a.pool.inUse >= 15);
  closeAndCheck(p);
});

test('handshakes never starve data: a transport packet behind 100 initiations is delivered first', async () => {
  const p = makePair();
  const { a, b } = p;
  await handshake(p);
  // Hold A's next transport datagram, then deliver it behind a burst of initiations.
  let held: Uint8Array | undefined;
  p.net.filter = (d) => {
    if (d.from.port === a.local.port && isTransport(d) && held === undefined) {
      held = Uint8Array.from(d.data);
      return false;
    }
    return true;
  };
  const pkt = ipv4Packet(a.v4, b.v4, 'urgent');
  a.tun.inject(pkt);
  await settle(p);
  assert.ok(held !== undefined);
  p.net.filter = undefined;
  let queuedAtDelivery = -1;
  b.tun.onWrite = () => (queuedAtDelivery = b.dev.handshakeQueue.length);
  for (let i = 0; i < 100; i++) p.net.send({ from: stranger, to: b.local, data: message(MessageType.Initiation, 148, i) });
  p.net.send({ from: a.local, to: b.local, data: held });
  await settle(p);
  assert.deepEqual(b.tun.written.at(-1), pkt);
  assert.ok(queuedAtDelivery >= 50, `the data went out while ${queuedAtDelivery} handshakes still waited`);
  assert.equal(b.dev.drops.get(DropReason.WgBadMac1), 100, 'and all of them were processed later');
  closeAndCheck(p);
});
