import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENDPOINT_STRIDE, encodeEndpoint } from '../io/endpoint.js';
import { FerryError } from '../errors.js';
import { DEFAULT_RATELIMITER_CAPACITY, PACKETS_BURSTABLE, PACKETS_PER_SECOND, RateLimiter } from './ratelimiter.js';

/** Endpoint records for addresses, packed at stride 24 after 8 bytes of padding (odd offsets are fine too). */
function records(addresses: string[], port = 51820): { buf: Uint8Array; offsetOf: (i: number) => number } {
  const buf = new Uint8Array(8 + addresses.length * ENDPOINT_STRIDE);
  addresses.forEach((address, i) => encodeEndpoint({ address, port, family: address.includes(':') ? 6 : 4 }, buf, 8 + i * ENDPOINT_STRIDE));
  return { buf, offsetOf: (i) => 8 + i * ENDPOINT_STRIDE };
}

function one(address: string, port = 51820): Uint8Array {
  return records([address], port).buf.subarray(8);
}

/** IPv4 record for the address whose uint32 value is n. */
function v4(n: number): Uint8Array {
  return one(`${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`);
}

const NS = 1e-6; // one nanosecond in milliseconds

test('wireguard-go ratelimiter_test.go: allowed/denied sequence over 14 sources with a fake clock', () => {
  const cost = 1000 / PACKETS_PER_SECOND;
  const expected: Array<{ allowed: boolean; text: string; wait: number }> = [];
  for (let i = 0; i < PACKETS_BURSTABLE; i++) expected.push({ allowed: true, text: 'initial burst', wait: 0 });
  expected.push({ allowed: false, text: 'after burst', wait: 0 });
  expected.push({ allowed: true, text: 'filling tokens for single packet', wait: cost });
  expected.push({ allowed: false, text: 'not having refilled enough', wait: 0 });
  expected.push({ allowed: true, text: 'filling tokens for two packet burst', wait: 2 * cost });
  expected.push({ allowed: true, text: 'second packet in 2 packet burst', wait: 0 });
  expected.push({ allowed: false, text: 'packet following 2 packet burst', wait: 0 });

  const ips = [
    '127.0.0.1',
    '192.168.1.1',
    '172.167.2.3',
    '97.231.252.215',
    '248.97.91.167',
    '188.208.233.47',
    '104.2.183.179',
    '72.129.46.120',
    '2001:0db8:0a0b:12f0:0000:0000:0000:0001',
    'f5c2:818f:c052:655a:9860:b136:6894:25f0',
    'b2d7:15ab:48a7:b07c:a541:f144:a9fe:54fc',
    'a47b:786e:1671:a22b:d6f9:4ab0:abc7:c918',
    'ea1e:d155:7f7a:98fb:2bf5:9483:80f6:5445',
    '3f0e:54a2:f5b4:cd19:a21d:58e1:3746:84c4',
  ];
  const { buf, offsetOf } = records(ips);
  const rate = new RateLimiter();
  let now = 1_000_000;
  expected.forEach((res, step) => {
    now += res.wait + NS; // timeSleep: now = now.Add(d + 1); rate.cleanup()
    rate.gc(now);
    ips.forEach((ip, i) => assert.equal(rate.allow(buf, offsetOf(i), now), res.allowed, `${step}: ${res.text}: allow(${ip})`));
  });
  assert.equal(rate.size, ips.length);
});

test('kernel selftest/ratelimiter.c: timings test (v4, fresh v4, same /64, fresh /64)', () => {
  const cost = 1000 / PACKETS_PER_SECOND;
  const expected: Array<[boolean, number]> = [];
  for (let i = 0; i < PACKETS_BURSTABLE; i++) expected.push([true, 0]);
  expected.push([false, 0], [true, cost], [false, 0], [true, cost * 2], [true, 0], [false, 0]);

  const rate = new RateLimiter();
  const base4 = 8182;
  const v6 = (w0: number, w1: number, w2: number, w3: number): Uint8Array => {
    const rec = new Uint8Array(ENDPOINT_STRIDE);
    rec[0] = 6;
    const view = new DataView(rec.buffer);
    [w0, w1, w2, w3].forEach((w, k) => view.setUint32(4 + 4 * k, w >>> 0));
    return rec;
  };
  let now = 5_000;
  expected.forEach(([result, sleep], i) => {
    now += sleep;
    assert.equal(rate.allow(v4(base4), 0, now), result, `v4 step ${i}`);
    assert.equal(rate.allow(v4(base4 + i + 1), 0, now), true, `fresh v4 step ${i}`);
    // The low 64 bits change every step: still the same /64, so the same bucket.
    assert.equal(rate.allow(v6(1212, 289188, i, i), 0, now), result, `v6 step ${i}`);
    assert.equal(rate.allow(v6(1212 + i + 1, 289188, i, i), 0, now), true, `fresh v6 step ${i}`);
  });
});

test('kernel selftest/ratelimiter.c: capacity test (the entry past the bound is refused)', () => {
  const rate = new RateLimiter();
  assert.equal(rate.size, 0);
  const max = DEFAULT_RATELIMITER_CAPACITY;
  for (let i = 0; i <= max; i++) assert.equal(rate.allow(v4(i), 0, 0), i !== max, `source ${i}`);
  assert.equal(rate.size, max);
});

test('full table: known sources keep their buckets, new ones are refused until gc frees room', () => {
  const rate = new RateLimiter({ capacity: 3 });
  assert.equal(rate.allow(v4(1), 0, 0), true);
  assert.equal(rate.allow(v4(2), 0, 0), true);
  assert.equal(rate.allow(v4(3), 0, 600), true);
  assert.equal(rate.allow(v4(4), 0, 700), false, 'fourth source refused');
  assert.equal(rate.allow(v4(1), 0, 700), true, 'known source still served from its bucket');
  assert.equal(rate.gc(1500), 1, 'source 2 idle since 0: dropped');
  assert.equal(rate.allow(v4(4), 0, 1500), true, 'room again');
  assert.equal(rate.size, 3);
  assert.equal(rate.allow(v4(5), 0, 1500), false);
});

test('wouldAllow answers as allow would and changes nothing', () => {
  const rate = new RateLimiter({ capacity: 2 });
  // A new source: would be allowed, but is not added by the look.
  assert.equal(rate.wouldAllow(v4(1), 0, 0), true);
  assert.equal(rate.size, 0);
  for (let i = 0; i < PACKETS_BURSTABLE; i++) {
    assert.equal(rate.wouldAllow(v4(1), 0, 0), true, `look ${i} before the burst is spent`);
    assert.equal(rate.allow(v4(1), 0, 0), true);
  }
  assert.equal(rate.wouldAllow(v4(1), 0, 0), false, 'burst spent');
  for (let i = 0; i < 10; i++) assert.equal(rate.wouldAllow(v4(1), 0, 49), false, 'looks spend nothing, and 49 ms earn no token');
  assert.equal(rate.wouldAllow(v4(1), 0, 50), true, 'one token after 50 ms');
  assert.equal(rate.allow(v4(1), 0, 50), true);
  assert.equal(rate.allow(v4(1), 0, 50), false, 'and only one');
  // A full table: a new source would be refused; a known one is answered from its bucket.
  assert.equal(rate.allow(v4(2), 0, 50), true);
  assert.equal(rate.wouldAllow(v4(3), 0, 50), false);
  assert.equal(rate.wouldAllow(v4(2), 0, 50), true);
  assert.equal(rate.wouldAllow(new Uint8Array(32), 0, 50), false, 'unknown family');
  assert.equal(rate.size, 2);
});

test('gc drops sources idle for more than a second, not exactly a second', () => {
  const rate = new RateLimiter();
  const src = v4(0x0a000001);
  for (let i = 0; i < PACKETS_BURSTABLE; i++) assert.equal(rate.allow(src, 0, 0), true);
  assert.equal(rate.allow(src, 0, 0), false, 'limited');
  assert.equal(rate.gc(1000), 0, 'idle exactly 1000 ms: kept');
  assert.equal(rate.size, 1);
  assert.equal(rate.gc(1000 + NS), 1, 'idle just over 1000 ms: dropped');
  assert.equal(rate.size, 0);
  // A dropped source starts again with a full burst (TOKEN_MAX - cost after the first).
  for (let i = 0; i < PACKETS_BURSTABLE; i++) assert.equal(rate.allow(src, 0, 1000 + NS), true, `burst ${i}`);
  assert.equal(rate.allow(src, 0, 1000 + NS), false);
});

test('keys: port ignored, IPv6 by /64, families kept apart, unknown family refused', () => {
  const rate = new RateLimiter();
  const drain = (rec: Uint8Array) => {
    for (let i = 0; i < PACKETS_BURSTABLE; i++) assert.equal(rate.allow(rec, 0, 0), true);
    assert.equal(rate.allow(rec, 0, 0), false);
  };
  drain(one('192.0.2.1', 1000));
  assert.equal(rate.allow(one('192.0.2.1', 2000), 0, 0), false, 'same address, other port: same bucket');
  assert.equal(rate.allow(one('192.0.2.2'), 0, 0), true, 'other address');
  // 0102:0304:: has the same first word as 1.2.3.4: still distinct sources.
  drain(one('1.2.3.4'));
  assert.equal(rate.allow(one('102:304::'), 0, 0), true, 'v6 key with the same word as a v4 key');
  drain(one('2001:db8:1:2::1'));
  assert.equal(rate.allow(one('2001:db8:1:2:ffff:ffff:ffff:ffff'), 0, 0), false, 'same /64');
  assert.equal(rate.allow(one('2001:db8:1:3::1'), 0, 0), true, 'next /64');
  const before = rate.size;
  assert.equal(rate.allow(new Uint8Array(ENDPOINT_STRIDE), 0, 0), false, 'family 0');
  const bogus = new Uint8Array(ENDPOINT_STRIDE);
  bogus[0] = 5;
  assert.equal(rate.allow(bogus, 0, 0), false, 'family 5');
  assert.equal(rate.size, before, 'no entry made for them');
});

test('a clock that steps back grants no tokens', () => {
  const rate = new RateLimiter();
  const src = v4(7);
  for (let i = 0; i < PACKETS_BURSTABLE; i++) rate.allow(src, 0, 10_000);
  assert.equal(rate.allow(src, 0, 5_000), false);
  assert.equal(rate.allow(src, 0, 10_000), false, 'back to the old time: still nothing earned');
  assert.equal(rate.allow(src, 0, 10_050), true, '50 ms later: one packet');
});

test('all keys in one probe chain (zero hash tables): lookups and gc rebuild stay correct', () => {
  const rate = new RateLimiter({ capacity: 64, randomFill: (out) => out.fill(0) });
  const N = 64;
  // Drain even sources at t=0, touch odd ones once at t=0.
  for (let s = 0; s < N; s++) {
    const n = s % 2 === 0 ? PACKETS_BURSTABLE : 1;
    for (let k = 0; k < n; k++) assert.equal(rate.allow(v4(s + 1), 0, 0), true);
  }
  assert.equal(rate.allow(v4(1000), 0, 0), false, 'full');
  // Odd sources active again at 600 ms; at 1500 ms the even ones have been idle 1500 ms.
  for (let s = 1; s < N; s += 2) assert.equal(rate.allow(v4(s + 1), 0, 600), true);
  assert.equal(rate.gc(1500), N / 2);
  assert.equal(rate.size, N / 2);
  // Survivors were moved: each is still found with its own bucket, which the 600 ms touch
  // refilled to 250 ms and charged 50: four packets left.
  for (let s = 1; s < N; s += 2) {
    for (let k = 0; k < 4; k++) assert.equal(rate.allow(v4(s + 1), 0, 600), true, `odd ${s} packet ${k}`);
    assert.equal(rate.allow(v4(s + 1), 0, 600), false, `odd ${s} limited`);
  }
  // The dropped even sources come back fresh.
  for (let s = 0; s < N; s += 2) assert.equal(rate.allow(v4(s + 1), 0, 1500), true, `even ${s}`);
  assert.equal(rate.size, N);
});

test('gc keeps survivors findable in a random-hash table (they stay limited)', () => {
  const rate = new RateLimiter();
  const N = DEFAULT_RATELIMITER_CAPACITY;
  for (let s = 0; s < N; s++) assert.equal(rate.allow(v4(0x0a000000 + s), 0, s % 2 === 0 ? 0 : 900), true);
  // Drain the odd ones at 900 ms: 4 more packets, then limited.
  for (let s = 1; s < N; s += 2) {
    for (let k = 0; k < PACKETS_BURSTABLE - 1; k++) rate.allow(v4(0x0a000000 + s), 0, 900);
    assert.equal(rate.allow(v4(0x0a000000 + s), 0, 900), false);
  }
  assert.equal(rate.gc(1500), N / 2, 'the even ones, idle 1500 ms');
  for (let s = 1; s < N; s += 2) assert.equal(rate.allow(v4(0x0a000000 + s), 0, 900), false, `odd ${s} still has its drained bucket`);
  assert.equal(rate.size, N / 2);
});

test('clear() and bad capacities', () => {
  const rate = new RateLimiter({ capacity: 2 });
  rate.allow(v4(1), 0, 0);
  rate.allow(v4(2), 0, 0);
  rate.clear();
  assert.equal(rate.size, 0);
  assert.equal(rate.allow(v4(3), 0, 0), true);
  for (const capacity of [0, -1, 2.5, 2 ** 25]) assert.throws(() => new RateLimiter({ capacity }), FerryError);
});
