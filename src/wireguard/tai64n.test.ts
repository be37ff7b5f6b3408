import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tai64nAfter, tai64nToMs, writeTai64n } from './tai64n.js';

const stamp = (ms: number): Uint8Array => {
  const b = new Uint8Array(12);
  writeTai64n(b, 0, ms);
  return b;
};
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('encodes seconds + 2^62 + 10 and whitened nanoseconds, big-endian', () => {
  assert.equal(toHex(stamp(0)), '400000000000000a00000000');
  // 2025-01-01T12:00:00.123Z: 1735732800 + 10 s = 0x67752e4a; 123 ms = 123000000 ns rounds
  // down to 7 * 2^24 = 117440512 = 0x07000000.
  assert.equal(toHex(stamp(1735732800123)), '4000000067752e4a07000000');
  // Past 2^32 seconds the high word carries.
  assert.equal(toHex(stamp((2 ** 32 - 10) * 1000)), '400000010000000000000000');
  const out = new Uint8Array(16).fill(0xee);
  writeTai64n(out, 2, 1000);
  assert.equal(toHex(out), 'eeee400000000000000b00000000eeee');
});

test('nanoseconds are rounded down to a multiple of 2^24 (wireguard-go whitening)', () => {
  for (const ms of [0, 1, 16, 17, 999, 1_700_000_000_500]) {
    const b = stamp(ms);
    const nanos = new DataView(b.buffer).getUint32(8);
    assert.equal(nanos % 0x100_0000, 0);
    assert.ok(nanos <= (ms % 1000) * 1e6 && (ms % 1000) * 1e6 - nanos < 0x100_0000);
  }
  // Inside one ~16.8 ms window two stamps are equal, so the later is not "after".
  assert.equal(tai64nAfter(stamp(1000 + 16), 0, stamp(1000), 0), false);
  assert.equal(tai64nAfter(stamp(1000 + 17), 0, stamp(1000), 0), true);
});

test('after() is strict and agrees with time order across whitening windows', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: 0, max: 2 ** 45 }), (a, b) => {
      const sa = stamp(a);
      const sb = stamp(b);
      assert.equal(tai64nAfter(sa, 0, sa, 0), false);
      if (tai64nAfter(sa, 0, sb, 0)) assert.ok(a > b);
      if (a >= b + 17) assert.ok(tai64nAfter(sa, 0, sb, 0));
      // Whitening plus the sub-ms floor lose at most 2^24 ns + 1 ms.
      assert.ok(a - tai64nToMs(sa, 0) >= 0 && a - tai64nToMs(sa, 0) < 18);
    }),
  );
  const zero = new Uint8Array(12);
  assert.ok(tai64nAfter(stamp(0), 0, zero, 0), 'any stamp is after the all-zero initial value');
});

test('programming errors throw', () => {
  assert.throws(() => stamp(-1), RangeError);
  assert.throws(() => stamp(Number.NaN), RangeError);
  assert.throws(() => writeTai64n(new Uint8Array(11), 0, 0), RangeError);
});
