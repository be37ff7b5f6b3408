/**
 * The handshake-flood defence (docs/security.md): under load an initiation without a valid
 * mac2 costs a cookie reply and no DH; cookie replies are limited per source and in total;
 * a real initiator that took its cookie gets through; the handshake queue is served under a
 * time budget on the device's clock while data keeps flowing. DHs are counted by wrapping
 * the one DH function noise.ts calls (useDh).
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { DropReason } from '../stats/drop-reasons.js';
import { MessageType } from './constants.js';
import { type DhFunction, initCrypto, useDh } from './crypto.js';
import { assertDelivered, closeAndCheck, handshake, ipv4Packet, makePair, sentBy, settle, type Pair } from '../../test/support/wg-device-harness.js';
import type { Endpoint } from '../io/endpoint.js';

let realDh: DhFunction;
let dhCalls = 0;
/** Fake milliseconds each DH costs (advances the pair's clock), 0 unless a test sets it. */
let dhCostMs = 0;
let clockOfDh: Pair | null = null;

before(async () => {
  await initCrypto();
  realDh = useDh((out, priv, pub) => {
    dhCalls++;
    if (clockOfDh !== null && dhCostMs > 0) clockOfDh.clock.advance(dhCostMs);
    return realDh(out, priv, pub);
  });
});

after(() => {
  useDh(realDh);
});

beforeEach(() => {
  dhCalls = 0;
  dhCostMs = 0;
  clockOfDh = null;
});

function source(i: number): Endpoint {
  return { family: 4, address: `198.51.100.${i}`, port: 2000 + i };
}

/** A's first initiation (a valid mac1 for B, no mac2), held back from B. */
async function capturedInitiation(p: Pair): Promise<Uint8Array> {
  let held: Uint8Array | undefined;
  p.net.filter = (d) => {
    if (d.data[0] !== MessageType.Initiation || held !== undefined) return true;
    held = Uint8Array.from(d.data);
    return false;
  };
  p.a.tun.inject(ipv4Packet(p.a.v4, p.b.v4, 'first'));
  await settle(p);
  p.net.filter = undefined;
  assert.ok(held !== undefined, 'A sent an initiation');
  assert.ok(held.subarray(132, 148).every((x) => x === 0), 'without mac2');
  return held;
}

async function immediates(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

test('under load: an initiation without mac2 gets exactly one cookie reply and costs no DH; its retry with mac2 completes the handshake', async () => {
  const p = makePair({ optsB: { underLoadThreshold: 0 } });
  const { a, b } = p;
  const init = await capturedInitiation(p);
  dhCalls = 0;
  p.net.send({ from: a.local, to: b.local, data: init });
  await settle(p);
  assert.equal(dhCalls, 0, 'no Diffie-Hellman for a message without mac2');
  assert.equal(sentBy(p, b, MessageType.CookieReply).length, 1);
  assert.equal(sentBy(p, b, MessageType.Response).length, 0);
  assert.equal(b.dev.drops.get(DropReason.WgCookieRequired), 1);
  assert.equal(a.peer.cookieGenerator.hasFreshCookie(p.clock.now()), true, 'A took the cookie as a real initiator does');

  // A retries after REKEY_TIMEOUT (+ jitter); B is still under load; mac2 gets it through.
  for (let t = 0; t < 54 && a.peer.keypairs.current === null; t++) {
    p.clock.advance(100);
    a.dp.tick();
    b.dp.tick();
    await settle(p);
  }
  const inits = sentBy(p, a, MessageType.Initiation);
  assert.equal(inits.length, 2);
  assert.ok(inits[1].data.subarray(132, 148).some((x) => x !== 0), 'the retry carries mac2');
  assert.ok(b.dev.isUnderLoad(p.clock.now()), 'still under load');
  assert.ok(dhCalls > 0, 'the retry was worth a DH');
  assert.equal(sentBy(p, b, MessageType.Response).length, 1);
  assert.notEqual(a.peer.keypairs.current, null, 'A has a session');
  assertDelivered(b, [ipv4Packet(a.v4, b.v4, 'first')]);
  assert.equal(sentBy(p, b, MessageType.CookieReply).length, 1, 'one cookie reply in all');
  closeAndCheck(p);
});

test('cookie replies stop at the per-source limit: a burst of 5, then suppressed and counted; no DH for any', async () => {
  const p = makePair({ optsB: { underLoadThreshold: 0 } });
  const { b } = p;
  const init = await capturedInitiation(p);
  dhCalls = 0;
  for (let i = 0; i < 20; i++) p.net.send({ from: source(1), to: b.local, data: init });
  await settle(p);
  assert.equal(sentBy(p, b, MessageType.CookieReply).length, 5);
  assert.equal(b.dev.drops.get(DropReason.WgCookieRequired), 5);
  assert.equal(b.dev.drops.get(DropReason.WgCookieReplyLimited), 15);
  // 20 a second: after 100 ms two more.
  p.clock.advance(100);
  for (let i = 0; i < 5; i++) p.net.send({ from: source(1), to: b.local, data: init });
  await settle(p);
  assert.equal(sentBy(p, b, MessageType.CookieReply).length, 7);
  assert.equal(b.dev.drops.get(DropReason.WgCookieReplyLimited), 18);
  assert.equal(dhCalls, 0);
  closeAndCheck(p);
});

test('under load, a source past its cookie-reply share is dropped before its MACs are computed', async () => {
  const p = makePair({ optsB: { underLoadThreshold: 0 } });
  const { b } = p;
  const init = await capturedInitiation(p);
  dhCalls = 0;
  const checker = b.dev.cookieChecker;
  const checkMac1 = checker.checkMac1.bind(checker);
  let mac1Checks = 0;
  checker.checkMac1 = (buf, off, len) => {
    mac1Checks++;
    return checkMac1(buf, off, len);
  };
  for (let i = 0; i < 20; i++) p.net.send({ from: source(1), to: b.local, data: init });
  // A wrong mac1 inside the source's share is still caught by mac1, and costs no reply.
  const forged = Uint8Array.from(init);
  forged[120] ^= 1;
  p.net.send({ from: source(2), to: b.local, data: forged });
  await settle(p);
  assert.equal(sentBy(p, b, MessageType.CookieReply).length, 5);
  assert.equal(b.dev.drops.get(DropReason.WgCookieReplyLimited), 15);
  assert.equal(b.dev.drops.get(DropReason.WgBadMac1), 1);
  assert.equal(mac1Checks, 6, 'mac1 computed for the 5 answered and the forged one only');
  assert.equal(dhCalls, 0);
  closeAndCheck(p);
});

test('under load, junk without the key spoofing a source spends none of its cookie replies', async () => {
  const p = makePair({ optsB: { underLoadThreshold: 0 } });
  const { b } = p;
  const init = await capturedInitiation(p);
  dhCalls = 0;
  const junk = Uint8Array.from(init);
  junk[120] ^= 1; // mac1 no longer matches: what a sender without B's public key sends
  for (let i = 0; i < 50; i++) p.net.send({ from: source(1), to: b.local, data: junk });
  await settle(p);
  assert.equal(b.dev.drops.get(DropReason.WgBadMac1), 50);
  assert.equal(b.dev.drops.get(DropReason.WgCookieReplyLimited), 0);
  assert.equal(sentBy(p, b, MessageType.CookieReply).length, 0);
  // The real sender at that address still gets its cookie.
  p.net.send({ from: source(1), to: b.local, data: init });
  await settle(p);
  assert.equal(sentBy(p, b, MessageType.CookieReply).length, 1);
  assert.equal(dhCalls, 0);
  closeAndCheck(p);
});

test('cookie replies stop at the total limit across sources', async () => {
  // 50 a second in all: bursts of a tenth of a second, 5 replies.
  const p = makePair({ optsB: { underLoadThreshold: 0, cookieRepliesPerSecond: 50 } });
  const { b } = p;
  const init = await capturedInitiation(p);
  dhCalls = 0;
  for (let i = 0; i < 30; i++) p.net.send({ from: source(i + 1), to: b.local, data: init });
  await settle(p);
  assert.equal(sentBy(p, b, MessageType.CookieReply).length, 5);
  assert.equal(b.dev.drops.get(DropReason.WgCookieReplyLimited), 25);
  p.clock.advance(40);
  for (let i = 30; i < 40; i++) p.net.send({ from: source(i + 1), to: b.local, data: init });
  await settle(p);
  assert.equal(sentBy(p, b, MessageType.CookieReply).length, 7, '40 ms later two more');
  assert.equal(dhCalls, 0);
  closeAndCheck(p);
});

test('not under load, a source is still limited before its DH: 5 at once, the rest dropped without one', async () => {
  const p = makePair();
  const { a, b } = p;
  await handshake(p);
  const init = sentBy(p, a, MessageType.Initiation)[0].data;
  dhCalls = 0;
  // Replays from one source: each let through costs B one DH (es) before the timestamp check fails.
  for (let i = 0; i < 12; i++) p.net.send({ from: source(1), to: b.local, data: init });
  await settle(p);
  assert.equal(b.dev.isUnderLoad(p.clock.now()), false);
  assert.equal(b.dev.drops.get(DropReason.WgRateLimited), 7);
  assert.equal(b.dev.drops.get(DropReason.WgReplayedTimestamp), 5);
  assert.equal(dhCalls, 5);
  closeAndCheck(p);
});

test('time budget: the queue is served until the device clock says the budget is spent; the rest waits, data still flows; out of time twice running is load', async () => {
  const p = makePair({ optsB: { underLoadThreshold: 1 << 16, handshakeTimeBudgetMs: 1 } });
  const { a, b } = p;
  await handshake(p);
  const init = sentBy(p, a, MessageType.Initiation)[0].data;
  // Park ten replays of A's initiation (each a valid mac1 from its own source) in B's queue.
  b.dev.handshakeBudget = 0;
  for (let i = 0; i < 10; i++) p.net.send({ from: source(i + 1), to: b.local, data: init });
  await immediates(10);
  assert.equal(b.dev.handshakeQueue.length, 10);
  b.dev.handshakeBudget = 64;
  // Each DH costs 0.6 ms of the clock B reads: the second message spends the 1 ms budget.
  clockOfDh = p;
  dhCostMs = 0.6;
  dhCalls = 0;
  assert.equal(b.dev.isUnderLoad(p.clock.now()), false);
  assert.equal(b.dev.poll(p.clock.now()), true, 'more waits');
  assert.equal(dhCalls, 2);
  assert.equal(b.dev.handshakeQueue.length, 8, 'two processed, eight left for the next wake');
  assert.equal(b.dev.isUnderLoad(p.clock.now()), false, 'out of time once: a few real handshakes may arrive together');
  assert.equal(b.dev.poll(p.clock.now()), true);
  assert.equal(dhCalls, 4);
  assert.equal(b.dev.handshakeQueue.length, 6);
  assert.equal(b.dev.isUnderLoad(p.clock.now()), true, 'out of time with work left twice running: under load for a second');
  // Data still flows; the rest of the queue is answered with cookie replies, no DH.
  const pkt = ipv4Packet(a.v4, b.v4, 'data during the flood');
  a.tun.inject(pkt);
  await settle(p);
  assert.deepEqual(b.tun.written.at(-1), pkt);
  assert.equal(b.dev.handshakeQueue.length, 0);
  assert.equal(dhCalls, 4);
  assert.equal(b.dev.drops.get(DropReason.WgCookieRequired), 6);
  closeAndCheck(p);
});

test('the count cap still applies when time is left', async () => {
  const p = makePair({ optsB: { underLoadThreshold: 1 << 16 } });
  const { b } = p;
  const init = await capturedInitiation(p);
  b.dev.handshakeBudget = 0;
  for (let i = 0; i < 10; i++) p.net.send({ from: source(i + 1), to: b.local, data: init });
  await immediates(10);
  b.dev.handshakeBudget = 3;
  assert.equal(b.dev.poll(p.clock.now()), true);
  assert.equal(b.dev.handshakeQueue.length, 7);
  assert.equal(b.dev.poll(p.clock.now()), true);
  assert.equal(b.dev.handshakeQueue.length, 4);
  assert.equal(b.dev.isUnderLoad(p.clock.now()), false, 'the count cap is fairness, not load');
  closeAndCheck(p);
});
