import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DropReason } from '../stats/drop-reasons.js';
import { setTransportChecksumIPv6, transportChecksumValidIPv6 } from './checksum.js';
import { IPProto } from './constants.js';
import { ipv6FromString, ipv6ToString, macFromString, macToString } from './format.js';
import { writeIPv6Header } from './ipv6.js';
import { isIcmpv6Type, NdpType, neighborAdvertisementInPlace, NeighborSolicitation, parseNeighborSolicitation } from './ndp.js';

const OURS = new Uint8Array(6);
macFromString('02:aa:bb:cc:dd:ee', OURS, 0);

/** A solicitation as Linux sends it: to the target's solicited-node group, with a source link-layer option. */
function solicitation(src: string, target: string, opts: { option?: boolean; hopLimit?: number } = {}): Uint8Array {
  const option = opts.option ?? src !== '::';
  const icmpLen = 24 + (option ? 8 : 0);
  const b = new Uint8Array(40 + icmpLen + 8); // room after, as a pool slot has
  const addr = new Uint8Array(32);
  ipv6FromString(src, addr, 0);
  ipv6FromString(target, addr, 16);
  const dst = new Uint8Array(16);
  ipv6FromString('ff02::1:ff00:0', dst, 0);
  dst.set(addr.subarray(29, 32), 13);
  writeIPv6Header(b, 0, icmpLen, IPProto.ICMPv6, addr, 0, dst, 0, opts.hopLimit ?? 255);
  b[40] = NdpType.NeighborSolicitation;
  b.set(addr.subarray(16, 32), 48);
  if (option) {
    b[64] = 1;
    b[65] = 1;
    macFromString('0a:00:00:00:00:01', b, 66);
  }
  setTransportChecksumIPv6(b, 40, icmpLen, IPProto.ICMPv6, 8, 24);
  return b;
}

function totalLength(b: Uint8Array): number {
  return 40 + ((b[4] << 8) | b[5]);
}

test('a solicitation becomes the advertisement a host sends for its own address', () => {
  const b = solicitation('fd00:1::1', 'fd00:2::');
  const ns = new NeighborSolicitation();
  assert.ok(isIcmpv6Type(b, 0, totalLength(b), NdpType.NeighborSolicitation));
  assert.equal(parseNeighborSolicitation(b, 0, totalLength(b), ns), DropReason.None);
  assert.equal(ipv6ToString(b, ns.targetOffset), 'fd00:2::');
  assert.equal(ns.unspecifiedSource, false);
  const n = neighborAdvertisementInPlace(b, 0, b.length, ns, OURS, 0);
  assert.equal(n, 72);
  assert.equal(totalLength(b), 72);
  assert.equal(b[6], IPProto.ICMPv6);
  assert.equal(b[7], 255);
  assert.equal(ipv6ToString(b, 8), 'fd00:2::', 'from the target');
  assert.equal(ipv6ToString(b, 24), 'fd00:1::1', 'to the sender');
  assert.equal(b[40], NdpType.NeighborAdvertisement);
  assert.equal(b[44], 0x60, 'solicited, override, not a router');
  assert.equal(ipv6ToString(b, 48), 'fd00:2::');
  assert.deepEqual([b[64], b[65]], [2, 1], 'target link-layer address option');
  assert.equal(macToString(b, 66), '02:aa:bb:cc:dd:ee');
  assert.ok(transportChecksumValidIPv6(b, 40, 32, IPProto.ICMPv6, 8, 24));
});

test('duplicate address detection is answered to all nodes, not solicited', () => {
  const b = solicitation('::', 'fe80::2');
  const ns = new NeighborSolicitation();
  assert.equal(parseNeighborSolicitation(b, 0, totalLength(b), ns), DropReason.None);
  assert.equal(ns.unspecifiedSource, true);
  assert.equal(neighborAdvertisementInPlace(b, 0, b.length, ns, OURS, 0), 72);
  assert.equal(ipv6ToString(b, 24), 'ff02::1');
  assert.equal(b[44], 0x20);
  assert.ok(transportChecksumValidIPv6(b, 40, 32, IPProto.ICMPv6, 8, 24));
  assert.equal(neighborAdvertisementInPlace(b, 0, 71, ns, OURS, 0), 0, 'no room');
});

test('what RFC 4861 7.1.1 says to discard is not a solicitation', () => {
  const ns = new NeighborSolicitation();
  const cases: Array<[string, Uint8Array, number]> = [];
  cases.push(['hop limit 254', solicitation('fd00::1', 'fd00::2', { hopLimit: 254 }), DropReason.UnsupportedProtocol]);
  let b = solicitation('fd00::1', 'fd00::2');
  b[41] = 1;
  cases.push(['code 1', b, DropReason.UnsupportedProtocol]);
  b = solicitation('fd00::1', 'fd00::2');
  b[50] ^= 1;
  cases.push(['checksum', b, DropReason.BadChecksum]);
  cases.push(['multicast target', solicitation('fd00::1', 'ff02::1'), DropReason.UnsupportedProtocol]);
  cases.push(['source option from ::', solicitation('::', 'fd00::2', { option: true }), DropReason.UnsupportedProtocol]);
  b = solicitation('fd00::1', 'fd00::2');
  b[65] = 0;
  setTransportChecksumIPv6(b, 40, 32, IPProto.ICMPv6, 8, 24);
  cases.push(['zero-length option', b, DropReason.UnsupportedProtocol]);
  b = solicitation('fd00::1', 'fd00::2');
  b[40] = NdpType.NeighborAdvertisement;
  cases.push(['an advertisement', b, DropReason.UnsupportedProtocol]);
  for (const [what, pkt, reason] of cases) assert.equal(parseNeighborSolicitation(pkt, 0, totalLength(pkt), ns), reason, what);
  b = solicitation('fd00::1', 'fd00::2');
  for (let len = 0; len < 64; len++) assert.notEqual(parseNeighborSolicitation(b, 0, len, ns), DropReason.None, `len ${len}`);
  assert.equal(parseNeighborSolicitation(b, 0, 71, ns), DropReason.BadTotalLength);
});

test('arbitrary bytes never throw and never parse outside their range', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.integer({ min: -2, max: 122 }), fc.integer({ min: -2, max: 122 }), (b, off, len) => {
      const ns = new NeighborSolicitation();
      if (parseNeighborSolicitation(b, off, len, ns) === DropReason.None) assert.ok(ns.targetOffset + 16 <= off + len);
      isIcmpv6Type(b, off, len, 135);
    }),
  );
});
