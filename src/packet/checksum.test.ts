import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  foldSum,
  internetChecksum,
  onesSum,
  pseudoSumIPv4,
  pseudoSumIPv6,
  setTransportChecksumIPv4,
  setTransportChecksumIPv6,
  transportChecksumValidIPv4,
  transportChecksumValidIPv6,
} from './checksum.js';
import { IPProto } from './constants.js';
import { hexToBytes } from './format.js';

/**
 * Independent reference: the plain integer sum of the 16-bit words, reduced modulo
 * 0xFFFF (ones'-complement addition is addition mod 2^16 - 1, with a non-zero sum
 * represented as 0xFFFF rather than 0).
 */
function refSum(bytes: Uint8Array, initial = 0): number {
  let s = initial;
  for (let i = 0; i < bytes.length; i += 2) s += bytes[i] * 256 + (i + 1 < bytes.length ? bytes[i + 1] : 0);
  if (s === 0) return 0;
  const r = s % 0xffff;
  return r === 0 ? 0xffff : r;
}
const refChecksum = (bytes: Uint8Array): number => 0xffff - refSum(bytes);

test('RFC 1071 section 3 example: 0001 f203 f4f5 f6f7 sums to ddf2', () => {
  const b = hexToBytes('0001 f203 f4f5 f6f7');
  assert.equal(onesSum(b, 0, b.length), 0xddf2);
  assert.equal(internetChecksum(b, 0, b.length), 0x220d);
});

test('IPv4 header checksums from the Wikipedia examples', () => {
  const h1 = hexToBytes('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7');
  assert.equal(internetChecksum(h1, 0, 20), 0xb861);
  const h2 = hexToBytes('4500 0030 4422 4000 8006 0000 8c7c 19ac ae24 1e2b');
  assert.equal(internetChecksum(h2, 0, 20), 0x442e);
  h2[10] = 0x44;
  h2[11] = 0x2e;
  assert.equal(onesSum(h2, 0, 20), 0xffff, 'a header with its checksum sums to -0');
});

test('onesSum and internetChecksum match the modular reference on random data, offsets and odd lengths', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(40), fc.integer({ min: 0, max: 0xffff }), (data, pad, initial) => {
      const buf = new Uint8Array(pad + data.length + 3).fill(0xa5);
      buf.set(data, pad);
      assert.equal(onesSum(buf, pad, data.length, initial), refSum(data, initial));
      if (refSum(data) !== 0) assert.equal(internetChecksum(buf, pad, data.length), refChecksum(data));
    }),
  );
});

test('long ranges (the 32-bit path) match the reference at every alignment, up to 64 KiB, across views of one buffer', () => {
  const backing = new ArrayBuffer(70_000 + 8);
  const bytes = new Uint8Array(backing);
  fc.assert(
    fc.property(fc.nat(7), fc.nat(40), fc.integer({ min: 60, max: 70_000 }), fc.integer({ min: 0, max: 0xffff }), fc.nat(), (viewOffset, pad, len, initial, seed) => {
      // A view at byteOffset 0..7 of one backing store: ranges at an even address take the
      // 32-bit path (through one cached view of the store), those at an odd one the byte loop.
      const view = new Uint8Array(backing, viewOffset, bytes.length - viewOffset);
      const n = Math.min(len, view.length - pad);
      let x = seed | 1;
      for (let i = 0; i < n; i++) {
        x = (Math.imul(x, 1103515245) + 12345) | 0;
        view[pad + i] = x >>> 24;
      }
      assert.equal(onesSum(view, pad, n, initial), refSum(view.subarray(pad, pad + n), initial));
    }),
    { numRuns: 200 },
  );
  // All ones: the largest words, where an unfolded sum grows fastest.
  bytes.fill(0xff);
  assert.equal(onesSum(bytes, 0, 65_536), 0xffff);
  assert.equal(onesSum(bytes, 2, 65_535), refSum(bytes.subarray(2, 65_537)));
});

test('sums compose: the sum of a range equals the sum of its halves split at an even point', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(100), (data, cut) => {
      const k = Math.min(cut * 2, data.length - (data.length % 2));
      assert.equal(onesSum(data, k, data.length - k, onesSum(data, 0, k)), onesSum(data, 0, data.length));
    }),
  );
});

test('foldSum folds sums far beyond 32 bits', () => {
  assert.equal(foldSum(0), 0);
  assert.equal(foldSum(0xffff), 0xffff);
  assert.equal(foldSum(0x10000), 1);
  assert.equal(foldSum(0x1fffe), 0xffff);
  const big = 0xffff * 123456789 + 7; // ≡ 7 mod 0xffff
  assert.equal(foldSum(big), 7);
});

test('pseudo-header sums match a byte-built pseudo-header', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 0, max: 255 }), fc.nat(0xfffff), (addrs, proto, len) => {
      const ph = new Uint8Array(40);
      ph.set(addrs, 0);
      ph[32] = len >>> 24;
      ph[33] = (len >>> 16) & 0xff;
      ph[34] = (len >>> 8) & 0xff;
      ph[35] = len & 0xff;
      ph[39] = proto;
      assert.equal(pseudoSumIPv6(addrs, 0, 16, proto, len), refSum(ph));
      const l16 = len & 0xffff;
      const ph4 = new Uint8Array(12);
      ph4.set(addrs.subarray(0, 8), 0);
      ph4[9] = proto;
      ph4[10] = l16 >>> 8;
      ph4[11] = l16 & 0xff;
      const src = ((addrs[0] << 24) | (addrs[1] << 16) | (addrs[2] << 8) | addrs[3]) >>> 0;
      const dst = ((addrs[4] << 24) | (addrs[5] << 16) | (addrs[6] << 8) | addrs[7]) >>> 0;
      assert.equal(pseudoSumIPv4(src, dst, proto, l16), refSum(ph4));
    }),
  );
});

test('set then verify transport checksums over IPv4 and IPv6 for TCP, UDP and ICMP', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(IPProto.TCP, IPProto.UDP, IPProto.ICMP, IPProto.ICMPv6),
      fc.uint8Array({ minLength: 20, maxLength: 200 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (proto, seg, addrs, src, dst) => {
        const buf = new Uint8Array(32 + seg.length);
        buf.set(addrs, 0);
        buf.set(seg, 32);
        if (proto !== IPProto.ICMPv6) {
          const c = setTransportChecksumIPv4(buf, 32, seg.length, proto, src, dst);
          assert.ok(c > 0 || proto !== IPProto.UDP);
          assert.ok(transportChecksumValidIPv4(buf, 32, seg.length, proto, src, dst));
          // Another source changes the pseudo-header (0xffffffff + 1 wraps to 0, the same sum mod 0xffff).
          if (proto !== IPProto.ICMP && src !== 0xffffffff) assert.ok(!transportChecksumValidIPv4(buf, 32, seg.length, proto, src + 1, dst));
        } else {
          assert.equal(setTransportChecksumIPv4(buf, 32, seg.length, proto, src, dst), -1);
        }
        if (proto !== IPProto.ICMP) {
          setTransportChecksumIPv6(buf, 32, seg.length, proto, 0, 16);
          assert.ok(transportChecksumValidIPv6(buf, 32, seg.length, proto, 0, 16));
          buf[32 + seg.length - 1] ^= 0x01;
          assert.ok(!transportChecksumValidIPv6(buf, 32, seg.length, proto, 0, 16), 'a flipped bit is caught');
        } else {
          assert.equal(setTransportChecksumIPv6(buf, 32, seg.length, proto, 0, 16), -1);
        }
      },
    ),
  );
});

test('UDP checksum zero: "none" over IPv4, invalid over IPv6; a computed 0 is sent as 0xFFFF', () => {
  const buf = new Uint8Array(32 + 12);
  for (let i = 0; i < 32; i++) buf[i] = i * 7;
  // header: ports 1000 -> 2000, length 12, checksum 0, then 4 data bytes
  buf.set([0x03, 0xe8, 0x07, 0xd0, 0x00, 0x0c, 0x00, 0x00, 1, 2, 0, 0], 32);
  assert.ok(transportChecksumValidIPv4(buf, 32, 12, IPProto.UDP, 0x0a000001, 0x0a000002));
  assert.ok(!transportChecksumValidIPv6(buf, 32, 12, IPProto.UDP, 0, 16));
  // Choose the last data word so that the computed checksum is exactly 0.
  const s = onesSum(buf, 32, 12, pseudoSumIPv4(0x0a000001, 0x0a000002, IPProto.UDP, 12));
  const w = ~s & 0xffff;
  buf[42] = w >>> 8;
  buf[43] = w & 0xff;
  assert.equal(internetChecksum(buf, 32, 12, pseudoSumIPv4(0x0a000001, 0x0a000002, IPProto.UDP, 12)), 0);
  assert.equal(setTransportChecksumIPv4(buf, 32, 12, IPProto.UDP, 0x0a000001, 0x0a000002), 0xffff);
  assert.equal(buf[38], 0xff);
  assert.equal(buf[39], 0xff);
  assert.ok(transportChecksumValidIPv4(buf, 32, 12, IPProto.UDP, 0x0a000001, 0x0a000002));
});
