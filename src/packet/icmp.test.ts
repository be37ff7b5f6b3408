import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DropReason } from '../stats/drop-reasons.js';
import { internetChecksum, setTransportChecksumIPv6, transportChecksumValidIPv6 } from './checksum.js';
import { ICMPv4Type, ICMPv6Type, IPParseFlag, IPProto } from './constants.js';
import { ipv4FromString, ipv6FromString, ipv6ToString } from './format.js';
import { ICMPHeader, icmpv4ChecksumValid, icmpv4EchoReplyInPlace, icmpv6EchoReplyInPlace, parseICMP } from './icmp.js';
import { IPv4Header, parseIPv4, writeIPv4Header } from './ipv4.js';
import { IPv6Header, parseIPv6, writeIPv6Header } from './ipv6.js';

const A = ipv4FromString('192.0.2.1');
const B = ipv4FromString('198.51.100.7');

/** IPv4 echo request from A to B with the given id, sequence and data. */
function echo4(id: number, seq: number, data: Uint8Array, at = 0): Uint8Array {
  const b = new Uint8Array(at + 28 + data.length + 2);
  writeIPv4Header(b, at, 28 + data.length, IPProto.ICMP, A, B, 17);
  const i = at + 20;
  b.set([ICMPv4Type.EchoRequest, 0, 0, 0, id >>> 8, id & 0xff, seq >>> 8, seq & 0xff], i);
  b.set(data, i + 8);
  const c = internetChecksum(b, i, 8 + data.length);
  b[i + 2] = c >>> 8;
  b[i + 3] = c & 0xff;
  return b;
}

test('parseICMP reads type, code, checksum, identifier and sequence', () => {
  const b = echo4(0x1234, 0xabcd, new Uint8Array([1, 2, 3]), 4);
  const h = new ICMPHeader();
  assert.equal(parseICMP(b, 24, 11, h), DropReason.None);
  assert.deepEqual(
    [h.type, h.code, h.identifier, h.sequence, h.restOfHeader, h.payloadOffset, h.payloadLength],
    [8, 0, 0x1234, 0xabcd, 0x1234abcd, 32, 3],
  );
  assert.ok(icmpv4ChecksumValid(b, 24, 11));
  for (let len = 0; len < 8; len++) assert.equal(parseICMP(b, 24, len, h), DropReason.Truncated);
  assert.equal(parseICMP(b, 30, 8, h), DropReason.Truncated, 'range past the buffer');
});

test('IPv4 echo reply in place: swapped addresses, type 0, both checksums valid', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 64 }), (id, seq, data) => {
      const b = echo4(id, seq, data);
      const ip = new IPv4Header();
      const icmp = new ICMPHeader();
      assert.equal(parseIPv4(b, 0, b.length, ip), DropReason.None);
      assert.equal(parseICMP(b, ip.payloadOffset, ip.payloadLength, icmp), DropReason.None);
      assert.equal(icmpv4EchoReplyInPlace(b, 0, ip, icmp), ip.totalLength);
      const ip2 = new IPv4Header();
      const icmp2 = new ICMPHeader();
      assert.equal(parseIPv4(b, 0, b.length, ip2, IPParseFlag.VerifyChecksum), DropReason.None);
      assert.equal(ip2.src, B);
      assert.equal(ip2.dst, A);
      assert.equal(ip2.ttl, 64);
      assert.equal(parseICMP(b, ip2.payloadOffset, ip2.payloadLength, icmp2), DropReason.None);
      assert.deepEqual([icmp2.type, icmp2.code, icmp2.identifier, icmp2.sequence], [ICMPv4Type.EchoReply, 0, id, seq]);
      assert.ok(icmpv4ChecksumValid(b, ip2.payloadOffset, ip2.payloadLength));
      assert.deepEqual([ip.src, ip.dst, icmp.type, icmp.checksum], [ip2.src, ip2.dst, icmp2.type, icmp2.checksum], 'views updated');
    }),
  );
});

test('IPv4 echo reply of an all-zero message gets checksum 0xFFFF, not 0', () => {
  const b = echo4(0, 0, new Uint8Array(4));
  const ip = new IPv4Header();
  const icmp = new ICMPHeader();
  parseIPv4(b, 0, b.length, ip);
  parseICMP(b, 20, ip.payloadLength, icmp);
  icmpv4EchoReplyInPlace(b, 0, ip, icmp);
  assert.equal((b[22] << 8) | b[23], 0xffff);
  assert.ok(icmpv4ChecksumValid(b, 20, ip.payloadLength));
});

test('echo reply refuses anything but an unfragmented echo request', () => {
  const b = echo4(1, 1, new Uint8Array(0));
  b[20] = ICMPv4Type.EchoReply;
  const ip = new IPv4Header();
  const icmp = new ICMPHeader();
  parseIPv4(b, 0, b.length, ip);
  parseICMP(b, 20, 8, icmp);
  const before = b.slice();
  assert.equal(icmpv4EchoReplyInPlace(b, 0, ip, icmp), 0);
  assert.deepEqual(b, before);
  const frag = echo4(1, 1, new Uint8Array(8));
  frag[6] = 0x20; // more fragments
  parseIPv4(frag, 0, frag.length, ip);
  parseICMP(frag, 20, ip.payloadLength, icmp);
  assert.equal(icmpv4EchoReplyInPlace(frag, 0, ip, icmp), 0, 'a fragment is not answered');
});

function echo6(data: Uint8Array, ext = false): Uint8Array {
  const extLen = ext ? 8 : 0;
  const b = new Uint8Array(40 + extLen + 8 + data.length);
  const a = new Uint8Array(32);
  ipv6FromString('2001:db8::a', a, 0);
  ipv6FromString('2001:db8::b', a, 16);
  writeIPv6Header(b, 0, extLen + 8 + data.length, ext ? IPProto.IPv6DestOpts : IPProto.ICMPv6, a, 0, a, 16, 3);
  if (ext) b[40] = IPProto.ICMPv6;
  const i = 40 + extLen;
  b.set([ICMPv6Type.EchoRequest, 0, 0, 0, 0x42, 0x42, 0, 9], i);
  b.set(data, i + 8);
  setTransportChecksumIPv6(b, i, 8 + data.length, IPProto.ICMPv6, 8, 24);
  return b;
}

test('IPv6 echo reply in place: swapped addresses, type 129, checksum valid', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
      const b = echo6(data);
      const ip = new IPv6Header();
      const icmp = new ICMPHeader();
      assert.equal(parseIPv6(b, 0, b.length, ip), DropReason.None);
      assert.ok(transportChecksumValidIPv6(b, ip.payloadOffset, ip.payloadLength, IPProto.ICMPv6, ip.srcOffset, ip.dstOffset));
      parseICMP(b, ip.payloadOffset, ip.payloadLength, icmp);
      assert.equal(icmpv6EchoReplyInPlace(b, 0, ip, icmp), b.length);
      assert.equal(ipv6ToString(b, 8), '2001:db8::b');
      assert.equal(ipv6ToString(b, 24), '2001:db8::a');
      assert.equal(b[7], 64);
      assert.equal(b[40], ICMPv6Type.EchoReply);
      assert.ok(transportChecksumValidIPv6(b, 40, b.length - 40, IPProto.ICMPv6, 8, 24));
    }),
  );
});

test('IPv6 echo reply refuses packets with extension headers', () => {
  const b = echo6(new Uint8Array(3), true);
  const ip = new IPv6Header();
  const icmp = new ICMPHeader();
  assert.equal(parseIPv6(b, 0, b.length, ip), DropReason.None);
  assert.equal(ip.protocol, IPProto.ICMPv6);
  parseICMP(b, ip.payloadOffset, ip.payloadLength, icmp);
  assert.equal(icmpv6EchoReplyInPlace(b, 0, ip, icmp), 0);
});
