import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { blake2s } from '@noble/hashes/blake2.js';
import { DropReason } from '../stats/drop-reasons.js';
import { encodeEndpoint } from '../io/endpoint.js';
import { CookieChecker, CookieGenerator, checkMac1, deriveMacKeys, writeMac1 } from './cookie.js';
import { initCrypto, isZero } from './crypto.js';
import { createStaticIdentity, type StaticIdentity } from './handshake.js';
import { readU32LE, writeInitiationHeader, writeResponseHeader } from './messages.js';

let responder: StaticIdentity;
let other: StaticIdentity;
before(async () => {
  await initCrypto();
  responder = createStaticIdentity(new Uint8Array(32).fill(0x21));
  other = createStaticIdentity(new Uint8Array(32).fill(0x42));
});

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
let nextSender = 1;
/** A handshake-shaped message with random body; MACs are filled by the generator. */
function initiation(): Uint8Array {
  const m = new Uint8Array(148);
  for (let i = 8; i < 116; i++) m[i] = (i * 31 + nextSender * 7) & 0xff;
  writeInitiationHeader(m, 0, nextSender++);
  return m;
}
function source(port: number): Uint8Array {
  const s = new Uint8Array(24);
  encodeEndpoint({ family: 4, address: '192.0.2.7', port }, s, 0);
  return s;
}
const SRC = source(51820);

test('mac keys are HASH(label || static public)', () => {
  const keys = deriveMacKeys(responder.publicKey);
  assert.equal(toHex(keys.mac1Key), createHash('blake2s256').update('mac1----').update(responder.publicKey).digest('hex'));
  assert.equal(toHex(keys.cookieKey), createHash('blake2s256').update('cookie--').update(responder.publicKey).digest('hex'));
  assert.deepEqual(responder.mac1Key, keys.mac1Key);
  assert.deepEqual(responder.cookieKey, keys.cookieKey);
});

test('mac1 = MAC(HASH("mac1----" || receiver public), msg up to mac1); verifies and fails when tampered', () => {
  const gen = new CookieGenerator(responder.publicKey);
  const checker = new CookieChecker(responder);
  const m = initiation();
  gen.addMacs(m, 0, 148, 0);
  const expected = blake2s(m.subarray(0, 116), { key: responder.mac1Key, dkLen: 16 });
  assert.equal(toHex(m.subarray(116, 132)), toHex(expected));
  assert.ok(isZero(m, 132, 16), 'mac2 is zero without a cookie');
  assert.ok(checker.checkMac1(m, 0, 148));
  for (let i = 0; i < 132; i++) {
    const bad = Uint8Array.from(m);
    bad[i] ^= 0x01;
    assert.equal(checker.checkMac1(bad, 0, 148), false, `byte ${i}`);
  }
  const bad = Uint8Array.from(m);
  bad[140] ^= 1;
  assert.equal(checker.checkMac1(bad, 0, 148), true, 'mac2 is outside mac1');
  assert.equal(new CookieChecker(other).checkMac1(m, 0, 148), false, 'mac1 is bound to the receiver key');
});

test('mac1 works at an offset inside a larger buffer and for responses', () => {
  const buf = new Uint8Array(200).fill(0x77);
  writeResponseHeader(buf, 13, 5, 6);
  writeMac1(responder.mac1Key, buf, 13, 92);
  assert.ok(checkMac1(responder.mac1Key, buf, 13, 92));
  assert.equal(buf[12], 0x77);
  assert.equal(buf[13 + 92], 0x77);
  assert.equal(checkMac1(responder.mac1Key, buf, 14, 92), false);
  assert.equal(checkMac1(responder.mac1Key, buf, 150, 92), false, 'out of range is false, not a throw');
});

test('cookie reply round trip: under load the next initiation carries a mac2 the responder accepts', () => {
  const gen = new CookieGenerator(responder.publicKey);
  const checker = new CookieChecker(responder);
  const t = 1_000_000;
  const m1 = initiation();
  gen.addMacs(m1, 0, 148, t);
  assert.ok(checker.checkMac1(m1, 0, 148));
  assert.equal(checker.checkMac2(m1, 0, 148, SRC, 0, 24, t), false, 'no mac2 yet');

  const reply = new Uint8Array(70);
  checker.createReply(m1, 0, 148, SRC, 0, 24, t, reply, 3);
  assert.deepEqual([...reply.subarray(3, 7)], [3, 0, 0, 0]);
  assert.equal(readU32LE(reply, 7), readU32LE(m1, 4), 'receiver = sender index of the message answered');
  assert.equal(gen.consumeReply(reply, 3, 64, t + 10), DropReason.None);

  const m2 = initiation();
  gen.addMacs(m2, 0, 148, t + 20);
  assert.equal(isZero(m2, 132, 16), false);
  assert.ok(checker.checkMac1(m2, 0, 148));
  assert.ok(checker.checkMac2(m2, 0, 148, SRC, 0, 24, t + 30));
  // mac2 = MAC(cookie, msg up to mac2); the cookie is bound to the source.
  assert.equal(checker.checkMac2(m2, 0, 148, source(51821), 0, 24, t + 30), false);
  for (const i of [0, 4, 60, 120, 131, 140, 147]) {
    const bad = Uint8Array.from(m2);
    bad[i] ^= 0x10;
    assert.equal(checker.checkMac2(bad, 0, 148, SRC, 0, 24, t + 30), false, `byte ${i}`);
  }
});

test('a cookie reply is accepted once, only for the last mac1 sent, and only untampered', () => {
  const checker = new CookieChecker(responder);
  const gen = new CookieGenerator(responder.publicKey);
  const reply = new Uint8Array(64);
  const m1 = initiation();
  checker.createReply(m1, 0, 148, SRC, 0, 24, 0, reply, 0);
  assert.equal(gen.consumeReply(reply, 0, 64, 0), DropReason.WgCookieInvalid, 'nothing sent yet');

  gen.addMacs(m1, 0, 148, 0);
  checker.createReply(m1, 0, 148, SRC, 0, 24, 0, reply, 0);
  for (const i of [8, 20, 32, 50, 63]) {
    const bad = Uint8Array.from(reply);
    bad[i] ^= 1;
    assert.equal(gen.consumeReply(bad, 0, 64, 0), DropReason.WgCookieInvalid, `byte ${i}`);
  }
  const m2 = initiation();
  gen.addMacs(m2, 0, 148, 0);
  assert.equal(gen.consumeReply(reply, 0, 64, 0), DropReason.WgCookieInvalid, 'reply to an older mac1');
  checker.createReply(m2, 0, 148, SRC, 0, 24, 0, reply, 0);
  assert.equal(new CookieGenerator(other.publicKey).consumeReply(reply, 0, 64, 0), DropReason.WgCookieInvalid, 'sealed under the responder key');
  assert.equal(gen.consumeReply(reply, 0, 64, 0), DropReason.None);
  assert.equal(gen.consumeReply(reply, 0, 64, 0), DropReason.WgCookieInvalid, 'replayed reply');
  assert.equal(gen.consumeReply(reply, 0, 63, 0), DropReason.WgBadMessageLength);
  reply[0] = 1;
  assert.equal(gen.consumeReply(reply, 0, 64, 0), DropReason.WgUnknownMessageType);
});

test('cookie expiry: the initiator uses a cookie for 120 s - 5 s after receiving it', () => {
  const checker = new CookieChecker(responder);
  const gen = new CookieGenerator(responder.publicKey);
  const m1 = initiation();
  gen.addMacs(m1, 0, 148, 0);
  const reply = new Uint8Array(64);
  checker.createReply(m1, 0, 148, SRC, 0, 24, 0, reply, 0);
  const t = 50_000;
  assert.equal(gen.consumeReply(reply, 0, 64, t), DropReason.None);
  assert.ok(gen.hasFreshCookie(t + 115_000));
  const m2 = initiation();
  gen.addMacs(m2, 0, 148, t + 115_000);
  assert.equal(isZero(m2, 132, 16), false);
  assert.equal(gen.hasFreshCookie(t + 115_001), false);
  const m3 = initiation();
  m3.fill(0xff, 132, 148); // stale bytes in a reused buffer must be cleared
  gen.addMacs(m3, 0, 148, t + 115_001);
  assert.ok(isZero(m3, 132, 16));
});

test('secret rotation: cookies stop validating 120 s after the secret was made; a new reply rotates it', () => {
  const checker = new CookieChecker(responder);
  const early = new CookieGenerator(responder.publicKey);
  const late = new CookieGenerator(responder.publicKey);
  const reply = new Uint8Array(64);
  const t0 = 10_000;

  const a = initiation();
  early.addMacs(a, 0, 148, t0);
  checker.createReply(a, 0, 148, SRC, 0, 24, t0, reply, 0);
  assert.equal(early.consumeReply(reply, 0, 64, t0), DropReason.None);
  const withOld = initiation();
  early.addMacs(withOld, 0, 148, t0 + 1);
  assert.ok(checker.checkMac2(withOld, 0, 148, SRC, 0, 24, t0 + 120_000));
  assert.equal(checker.checkMac2(withOld, 0, 148, SRC, 0, 24, t0 + 120_001), false, 'secret too old');

  // A reply within 120 s reuses the secret: the same cookie again.
  const b = initiation();
  late.addMacs(b, 0, 148, t0 + 60_000);
  checker.createReply(b, 0, 148, SRC, 0, 24, t0 + 60_000, reply, 0);
  assert.equal(late.consumeReply(reply, 0, 64, t0 + 60_000), DropReason.None);
  const c = initiation();
  late.addMacs(c, 0, 148, t0 + 60_001);
  assert.equal(toHex(c.subarray(132)), toHex(macWithSameCookie(early, c)));

  // After 120 s the next reply draws a new secret: the old cookie is dead, the new one works.
  const tRot = t0 + 120_001;
  const d = initiation();
  late.addMacs(d, 0, 148, tRot);
  checker.createReply(d, 0, 148, SRC, 0, 24, tRot, reply, 0);
  assert.equal(late.consumeReply(reply, 0, 64, tRot), DropReason.None);
  const fresh = initiation();
  late.addMacs(fresh, 0, 148, tRot + 1);
  assert.ok(checker.checkMac2(fresh, 0, 148, SRC, 0, 24, tRot + 1));
  const stale = initiation();
  early.addMacs(stale, 0, 148, t0 + 100_000); // early's cookie is still "fresh" by its own clock
  assert.equal(checker.checkMac2(stale, 0, 148, SRC, 0, 24, tRot + 1), false);
  assert.ok(checker.checkMac2(fresh, 0, 148, SRC, 0, 24, tRot + 120_000));
});

/** mac2 that generator g computes for a copy of msg (same body), to compare cookies. */
function macWithSameCookie(g: CookieGenerator, msg: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(msg);
  g.addMacs(copy, 0, 148, 10_000 + 60_001);
  return copy.subarray(132);
}

test('setKeys forgets the secret and switches the mac1 key', () => {
  const checker = new CookieChecker(responder);
  const gen = new CookieGenerator(responder.publicKey);
  const m = initiation();
  gen.addMacs(m, 0, 148, 0);
  const reply = new Uint8Array(64);
  checker.createReply(m, 0, 148, SRC, 0, 24, 0, reply, 0);
  gen.consumeReply(reply, 0, 64, 0);
  const m2 = initiation();
  gen.addMacs(m2, 0, 148, 1);
  assert.ok(checker.checkMac2(m2, 0, 148, SRC, 0, 24, 1));
  checker.setKeys(other);
  assert.equal(checker.checkMac1(m2, 0, 148), false);
  assert.equal(checker.checkMac2(m2, 0, 148, SRC, 0, 24, 1), false);
});

test('random input never throws', () => {
  const checker = new CookieChecker(responder);
  const gen = new CookieGenerator(responder.publicKey);
  gen.addMacs(initiation(), 0, 148, 0);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 160 }), fc.integer({ min: -2, max: 160 }), fc.integer({ min: -2, max: 160 }), (b, off, len) => {
      assert.equal(typeof checker.checkMac1(b, off, len), 'boolean');
      assert.equal(typeof checker.checkMac2(b, off, len, SRC, 0, 24, 0), 'boolean');
      assert.equal(typeof gen.consumeReply(b, off, len, 0), 'number');
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 60, maxLength: 60 }), (body) => {
      const reply = new Uint8Array(64);
      reply[0] = 3;
      reply.set(body, 4);
      assert.equal(gen.consumeReply(reply, 0, 64, 0), DropReason.WgCookieInvalid);
    }),
    { numRuns: 300 },
  );
});
