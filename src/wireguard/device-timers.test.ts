import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DropReason } from '../stats/drop-reasons.js';
import { MAX_TIMER_HANDSHAKES, MessageType, REKEY_TIMEOUT_JITTER_MAX_MS } from './constants.js';
import { initCrypto } from './crypto.js';
import { readU32LE } from './messages.js';
import { advance, closeAndCheck, handshake, ipv4Packet, isKeepalive, isTransport, makePair, sentBy, settle } from '../../test/support/wg-device-harness.js';

before(async () => {
  await initCrypto();
});

test('keepalive: 10 s after one-way data the receiver sends one empty packet, once', async () => {
  const p = makePair();
  const { a, b } = p;
  await handshake(p);
  const t0 = p.clock.now();
  await advance(p, 9_900);
  assert.equal(sentBy(p, b).filter(isKeepalive).length, 0, 'not before 10 s');
  await advance(p, 200);
  const ka = sentBy(p, b).filter(isKeepalive);
  assert.equal(ka.length, 1, 'one keepalive at 10 s');
  assert.equal(ka[0].data.length, 32);
  await advance(p, 20_000);
  assert.equal(sentBy(p, b).filter(isKeepalive).length, 1, 'no data, no more keepalives');
  // The keepalive counted as "heard back": A did not start a new handshake at 15 s.
  assert.equal(sentBy(p, a, MessageType.Initiation).length, 1);
  assert.ok(p.clock.now() - t0 >= 30_000);
  closeAndCheck(p);
});

test('new handshake when data was sent and nothing came back for 15 s (+ jitter)', async () => {
  const p = makePair();
  const { a, b } = p;
  await handshake(p);
  const t0 = p.clock.now();
  // From now on B is silent (everything B sends is lost).
  p.net.filter = (d) => d.from.port !== b.local.port;
  await advance(p, 14_950, 50);
  assert.equal(sentBy(p, a, MessageType.Initiation).length, 1);
  await advance(p, REKEY_TIMEOUT_JITTER_MAX_MS + 100, 10);
  const inits = sentBy(p, a, MessageType.Initiation);
  assert.equal(inits.length, 2, 'a second initiation');
  closeAndCheck(p);
  assert.ok(p.clock.now() - t0 < 15_500);
});

test('rekey: the initiator sending with a keypair older than 120 s starts a new handshake', async () => {
  const p = makePair();
  const { a, b } = p;
  await handshake(p);
  const firstReceiver = readU32LE(sentBy(p, a).filter(isTransport)[0].data, 4);
  await advance(p, 119_000, 1000);
  a.tun.inject(ipv4Packet(a.v4, b.v4, 'at 119 s'));
  await settle(p);
  assert.equal(sentBy(p, a, MessageType.Initiation).length, 1, 'no rekey before 120 s');
  await advance(p, 2_000, 1000);
  const late = ipv4Packet(a.v4, b.v4, 'at 121 s');
  a.tun.inject(late);
  await settle(p);
  assert.equal(sentBy(p, a, MessageType.Initiation).length, 2, 'rekey after 120 s');
  assert.deepEqual(b.tun.written.at(-1), late, 'the packet itself still went out under the old keys');
  const after = ipv4Packet(a.v4, b.v4, 'new keys');
  a.tun.inject(after);
  await settle(p);
  assert.deepEqual(b.tun.written.at(-1), after);
  const lastReceiver = readU32LE(sentBy(p, a).filter(isTransport).at(-1)!.data, 4);
  assert.notEqual(lastReceiver, firstReceiver, 'sent under the new keypair');
  closeAndCheck(p);
});

test('reject after 180 s: an old keypair neither sends nor receives', async () => {
  const p = makePair();
  const { a, b } = p;
  await handshake(p);
  const captured = sentBy(p, a).filter(isTransport)[0];
  // No new handshake may complete.
  p.net.filter = (d) => d.data[0] !== MessageType.Initiation && d.data[0] !== MessageType.Response;
  await advance(p, 170_000, 1000);
  const at170 = ipv4Packet(a.v4, b.v4, 'at 170 s');
  a.tun.inject(at170);
  await settle(p);
  assert.deepEqual(b.tun.written.at(-1), at170, 'still usable at 170 s');
  await advance(p, 11_000, 1000);
  const transportsBefore = sentBy(p, a).filter(isTransport).length;
  const delivered = b.tun.written.length;
  a.tun.inject(ipv4Packet(a.v4, b.v4, 'at 181 s'));
  await settle(p);
  assert.equal(sentBy(p, a).filter(isTransport).length, transportsBefore, 'nothing sent under the expired keypair');
  assert.equal(a.peer.staged.count, 1, 'the packet waits for a new session');
  // The same keypair at B refuses packets now (checked before the replay window).
  p.net.send({ from: a.local, to: b.local, data: captured.data });
  await settle(p);
  assert.equal(b.dev.drops.get(DropReason.WgKeyExpired), 1);
  assert.equal(b.tun.written.length, delivered);
  closeAndCheck(p);
});

test('unreachable peer: initiation every 5 s + jitter, 20 in all, then give up and drop staged packets', async () => {
  const p = makePair();
  const { a } = p;
  const times: number[] = [];
  p.net.filter = (d) => {
    if (d.from.port === a.local.port && d.data[0] === MessageType.Initiation) times.push(p.clock.now());
    return false;
  };
  let gaveUp = 0;
  a.dev.on('handshakeGiveUp', () => gaveUp++);
  a.tun.inject(ipv4Packet(a.v4, p.b.v4, 'into the void'));
  await settle(p);
  await advance(p, 130_000, 20);
  // wireguard-go: the first + MAX_TIMER_HANDSHAKES + 1 retransmissions ("after 20 attempts, giving up").
  assert.equal(times.length, MAX_TIMER_HANDSHAKES + 2);
  for (let i = 1; i < times.length; i++) {
    const gap = times[i] - times[i - 1];
    assert.ok(gap >= 5_000 && gap < 5_000 + REKEY_TIMEOUT_JITTER_MAX_MS + 20, `gap ${i}: ${gap} ms`);
  }
  assert.equal(gaveUp, 1);
  assert.equal(a.peer.staged.count, 0);
  assert.equal(a.dev.drops.get(DropReason.WgStagedGaveUp), 1, 'the staged packet was dropped');
  await advance(p, 60_000, 1000);
  assert.equal(times.length, MAX_TIMER_HANDSHAKES + 2, 'no more tries');
  closeAndCheck(p);
});

test('key material is zeroed 540 s after the last session was derived', async () => {
  const p = makePair();
  const { a, b } = p;
  let zeroed = 0;
  a.dev.on('keysZeroed', () => zeroed++);
  await handshake(p);
  assert.ok(a.dev.keyTable.size > 0 && b.dev.keyTable.size > 0);
  await advance(p, 539_000, 1000);
  assert.ok(a.dev.keyTable.size > 0, 'still there at 539 s');
  assert.notEqual(a.peer.keypairs.current, null);
  await advance(p, 2_000, 1000);
  assert.equal(zeroed, 1);
  for (const s of [a, b]) {
    assert.equal(s.dev.keyTable.size, 0, `${s.name}: key slots freed`);
    assert.equal(s.dev.indexTable.size, 0, `${s.name}: indices freed`);
    assert.equal(s.peer.keypairs.current, null);
  }
  // A new packet simply starts a new session.
  const again = ipv4Packet(a.v4, b.v4, 'again');
  a.tun.inject(again);
  await settle(p);
  assert.deepEqual(b.tun.written.at(-1), again);
  closeAndCheck(p);
});

test('persistent keepalive every 25 s, starting when it is turned on', async () => {
  const p = makePair();
  const { a, b } = p;
  const kaTimes: number[] = [];
  p.net.filter = (d) => {
    if (d.from.port === a.local.port && isKeepalive(d)) kaTimes.push(p.clock.now());
    return true;
  };
  const t0 = p.clock.now();
  a.dev.setPersistentKeepalive(a.peer, 25);
  await settle(p);
  assert.equal(sentBy(p, a, MessageType.Initiation).length, 1, 'the first keepalive needed a session');
  await advance(p, 100_050, 50);
  assert.deepEqual(
    kaTimes.map((t) => t - t0),
    [0, 25_000, 50_000, 75_000, 100_000],
    'one at once, then every 25 s',
  );
  assert.equal(b.tun.written.length, 0, 'keepalives never reach the TUN');
  assert.equal(b.peer.rxBytes, 148 + 5 * 32);
  a.dev.setPersistentKeepalive(a.peer, 0);
  await advance(p, 60_000, 1000);
  assert.equal(kaTimes.length, 5, 'off means off');
  closeAndCheck(p);
});

test('long run with traffic both ways: a rekey every ~2 min, tables stay bounded', async () => {
  const p = makePair();
  const { a, b } = p;
  await handshake(p);
  let maxIndex = 0;
  let maxKeys = 0;
  let sentA = 1;
  let sentB = 0;
  for (let s = 0; s < 1_800; s++) {
    a.tun.inject(ipv4Packet(a.v4, b.v4, `a${s}`));
    b.tun.inject(ipv4Packet(b.v4, a.v4, `b${s}`));
    sentA++;
    sentB++;
    await advance(p, 1000, 1000);
    for (const x of [a, b]) {
      maxIndex = Math.max(maxIndex, x.dev.indexTable.size);
      maxKeys = Math.max(maxKeys, x.dev.keyTable.size);
    }
  }
  const inits = sentBy(p, a, MessageType.Initiation).length + sentBy(p, b, MessageType.Initiation).length;
  assert.ok(inits >= 14 && inits <= 17, `about one handshake per 120 s, got ${inits}`);
  assert.ok(maxIndex <= 4, `index table <= 3 keypairs + 1 handshake, got ${maxIndex}`);
  assert.ok(maxKeys <= 6, `key table <= 3 keypairs, got ${maxKeys}`);
  assert.equal(b.tun.written.length, sentA, 'every A packet arrived');
  assert.equal(a.tun.written.length, sentB, 'every B packet arrived');
  assert.equal(a.dev.drops.total() + b.dev.drops.total(), 0, JSON.stringify([a.dev.drops.snapshot(), b.dev.drops.snapshot()]));
  closeAndCheck(p);
});
