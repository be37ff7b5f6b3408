import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DropReason } from '../stats/drop-reasons.js';
import { IPParseFlag, IPProto, MAX_IPV6_EXTENSION_HEADERS } from './constants.js';
import { ipv6FromString, ipv6ToString } from './format.js';
import { IPv6Header, parseIPv6, writeIPv6Header } from './ipv6.js';

const SRC = new Uint8Array(16);
const DST = new Uint8Array(16);
ipv6FromString('2001:db8::1', SRC, 0);
ipv6FromString('2001:db8:ffff::2', DST, 0);

interface Ext {
  type: number;
  /** Bytes, a multiple of 8 (AH: of 4, at least 8). */
  size: number;
  fragOffset?: number;
  more?: boolean;
}

/** Builds fixed header + extension chain + upper-layer bytes; returns the packet. */
function build(exts: Ext[], upper: number, upperLen: number, pad = 0): Uint8Array {
  const extLen = exts.reduce((n, e) => n + e.size, 0);
  const b = new Uint8Array(40 + extLen + upperLen + pad).fill(0xee);
  writeIPv6Header(b, 0, extLen + upperLen, exts.length > 0 ? exts[0].type : upper, SRC, 0, DST, 0);
  let p = 40;
  exts.forEach((e, i) => {
    b[p] = i + 1 < exts.length ? exts[i + 1].type : upper;
    if (e.type === IPProto.IPv6Fragment) {
      b[p + 1] = 0;
      const fo = ((e.fragOffset ?? 0) << 3) | (e.more ? 1 : 0);
      b[p + 2] = fo >>> 8;
      b[p + 3] = fo & 0xff;
      b[p + 4] = 0xde;
      b[p + 5] = 0xad;
      b[p + 6] = 0xbe;
      b[p + 7] = 0xef;
    } else if (e.type === IPProto.AH) {
      b[p + 1] = e.size / 4 - 2;
    } else {
      b[p + 1] = e.size / 8 - 1;
    }
    p += e.size;
  });
  return b;
}

test('write then parse round-trips the fixed header', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 0xfffff }),
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(IPProto.TCP, IPProto.UDP, IPProto.ICMPv6, IPProto.ESP, IPProto.IPv6NoNext, 250),
      fc.nat(64),
      fc.nat(8),
      (tc, flow, hop, nh, plen, at) => {
        const b = new Uint8Array(at + 40 + plen + 3);
        assert.equal(writeIPv6Header(b, at, plen, nh, SRC, 0, DST, 0, hop, tc, flow), 40);
        const h = new IPv6Header();
        assert.equal(parseIPv6(b, at, b.length - at, h), DropReason.None);
        assert.deepEqual(
          [h.trafficClass, h.flowLabel, h.hopLimit, h.nextHeader, h.protocol, h.totalLength, h.payloadOffset, h.payloadLength, h.extensionCount],
          [tc, flow, hop, nh, nh, 40 + plen, at + 40, plen, 0],
        );
        assert.equal(ipv6ToString(b, h.srcOffset), '2001:db8::1');
        assert.equal(ipv6ToString(b, h.dstOffset), '2001:db8:ffff::2');
      },
    ),
  );
});

test('walks hop-by-hop, destination options, routing, AH and an atomic fragment to the upper layer', () => {
  const exts: Ext[] = [
    { type: IPProto.HopByHop, size: 8 },
    { type: IPProto.IPv6DestOpts, size: 16 },
    { type: IPProto.IPv6Route, size: 24 },
    { type: IPProto.IPv6Fragment, size: 8 },
    { type: IPProto.AH, size: 12 },
    { type: IPProto.IPv6DestOpts, size: 8 },
  ];
  const b = build(exts, IPProto.UDP, 20, 5);
  const h = new IPv6Header();
  assert.equal(parseIPv6(b, 0, b.length, h, IPParseFlag.RejectFragments), DropReason.None);
  assert.equal(h.nextHeader, IPProto.HopByHop);
  assert.equal(h.protocol, IPProto.UDP);
  assert.equal(h.extensionCount, 6);
  assert.equal(h.payloadOffset, 40 + 76);
  assert.equal(h.payloadLength, 20);
  assert.equal(h.isFragment, false, 'offset 0 without M is an atomic fragment (RFC 6946)');
  assert.equal(h.fragmentId, 0xdeadbeef);
});

test('random extension chains: the walk lands on the upper-layer header', () => {
  const ext = fc.oneof(
    fc.record({ type: fc.constantFrom(IPProto.IPv6DestOpts, IPProto.IPv6Route), size: fc.integer({ min: 1, max: 4 }).map((n) => n * 8) }),
    fc.record({ type: fc.constant(IPProto.AH), size: fc.integer({ min: 2, max: 8 }).map((n) => n * 4) }),
    fc.record({ type: fc.constant(IPProto.IPv6Fragment), size: fc.constant(8), fragOffset: fc.constant(0), more: fc.boolean() }),
  );
  fc.assert(
    fc.property(fc.boolean(), fc.array(ext, { maxLength: 7 }), fc.nat(50), (hbh, rest, upperLen) => {
      const exts: Ext[] = hbh ? [{ type: IPProto.HopByHop, size: 8 }, ...rest] : rest;
      const b = build(exts, IPProto.TCP, upperLen);
      const h = new IPv6Header();
      assert.equal(parseIPv6(b, 0, b.length, h), DropReason.None);
      const extLen = exts.reduce((n, e) => n + e.size, 0);
      assert.equal(h.protocol, IPProto.TCP);
      assert.equal(h.payloadOffset, 40 + extLen);
      assert.equal(h.payloadLength, upperLen);
      assert.equal(h.extensionCount, exts.length);
      const fragmented = exts.some((e) => e.type === IPProto.IPv6Fragment && e.more);
      assert.equal(h.isFragment, fragmented);
      assert.equal(parseIPv6(b, 0, b.length, h, IPParseFlag.RejectFragments), fragmented ? DropReason.Fragment : DropReason.None);
    }),
  );
});

test('a later fragment stops the walk at its fragment header', () => {
  // The fragment header names a destination-options header, but in a later fragment
  // the bytes after it are the middle of the datagram, not that header.
  const b = build([{ type: IPProto.IPv6DestOpts, size: 8 }, { type: IPProto.IPv6Fragment, size: 8, fragOffset: 185, more: true }], IPProto.IPv6DestOpts, 30);
  const h = new IPv6Header();
  assert.equal(parseIPv6(b, 0, b.length, h), DropReason.None);
  assert.equal(h.isFragment, true);
  assert.equal(h.fragmentOffset, 185);
  assert.equal(h.moreFragments, true);
  assert.equal(h.hasTransportHeader, false);
  assert.equal(h.protocol, IPProto.IPv6DestOpts);
  assert.equal(h.payloadOffset, 56);
  assert.equal(h.payloadLength, 30);
  assert.equal(parseIPv6(b, 0, b.length, h, IPParseFlag.RejectFragments), DropReason.Fragment);
});

test('at most MAX_IPV6_EXTENSION_HEADERS extension headers', () => {
  const h = new IPv6Header();
  const ok = build(new Array<Ext>(MAX_IPV6_EXTENSION_HEADERS).fill({ type: IPProto.IPv6DestOpts, size: 8 }), IPProto.UDP, 8);
  assert.equal(parseIPv6(ok, 0, ok.length, h), DropReason.None);
  assert.equal(h.extensionCount, MAX_IPV6_EXTENSION_HEADERS);
  const tooMany = build(new Array<Ext>(MAX_IPV6_EXTENSION_HEADERS + 1).fill({ type: IPProto.IPv6DestOpts, size: 8 }), IPProto.UDP, 8);
  assert.equal(parseIPv6(tooMany, 0, tooMany.length, h), DropReason.Ipv6TooManyExtensionHeaders);
});

test('hop-by-hop anywhere but first is rejected', () => {
  const b = build([{ type: IPProto.IPv6DestOpts, size: 8 }, { type: IPProto.HopByHop, size: 8 }], IPProto.UDP, 8);
  assert.equal(parseIPv6(b, 0, b.length, new IPv6Header()), DropReason.BadHeaderLength);
});

test('an extension chain running past the payload is truncated, at every cut', () => {
  const exts: Ext[] = [
    { type: IPProto.HopByHop, size: 8 },
    { type: IPProto.IPv6Route, size: 24 },
    { type: IPProto.IPv6Fragment, size: 8 },
    { type: IPProto.AH, size: 16 },
  ];
  const full = build(exts, IPProto.IPv6NoNext, 0);
  const h = new IPv6Header();
  assert.equal(parseIPv6(full, 0, full.length, h), DropReason.None);
  assert.equal(h.protocol, IPProto.IPv6NoNext);
  for (let plen = 0; plen < full.length - 40; plen++) {
    const b = full.slice();
    b[4] = plen >>> 8;
    b[5] = plen & 0xff;
    assert.equal(parseIPv6(b, 0, b.length, h), DropReason.Truncated, `payload length ${plen}`);
  }
  // A header whose own length field claims more than remains.
  const b = build([{ type: IPProto.IPv6DestOpts, size: 8 }], IPProto.UDP, 7, 20);
  assert.equal(parseIPv6(b, 0, b.length, h), DropReason.None);
  b[41] = 1; // 16 bytes, one more than the 15-byte payload (the buffer has room: padding)
  assert.equal(parseIPv6(b, 0, b.length, h), DropReason.Truncated);
});

test('truncated fixed header, bad version, payload length beyond the buffer, bad offsets', () => {
  const b = build([], IPProto.UDP, 8, 4);
  const h = new IPv6Header();
  for (let len = 0; len < 40; len++) assert.equal(parseIPv6(b, 0, len, h), DropReason.Truncated, `len ${len}`);
  assert.equal(parseIPv6(b, 0, 47, h), DropReason.BadTotalLength);
  assert.equal(parseIPv6(b, 0, 48, h), DropReason.None);
  assert.equal(parseIPv6(b, 5, b.length, h), DropReason.Truncated);
  assert.equal(parseIPv6(b, -1, 48, h), DropReason.Truncated);
  for (const v of [0, 4, 7, 15]) {
    const c = b.slice();
    c[0] = (v << 4) | (c[0] & 0x0f);
    assert.equal(parseIPv6(c, 0, c.length, h), DropReason.BadVersion, `version ${v}`);
  }
});
