import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DropReason } from '../stats/drop-reasons.js';
import { transportChecksumValidIPv6 } from './checksum.js';
import { ICMPV4_ERROR_MAX_LENGTH, ICMPV6_ERROR_MAX_LENGTH, ICMPv4Type, ICMPv4UnreachableCode, ICMPv6Type, IPParseFlag, IPProto, IPv4Flag } from './constants.js';
import { ipv4FromString, ipv6FromString, ipv6ToString } from './format.js';
import { ICMPHeader, icmpv4ChecksumValid, parseICMP } from './icmp.js';
import {
  ICMPV4_ERROR_HEADER_LENGTH,
  ICMPV6_ERROR_HEADER_LENGTH,
  icmpv4ErrorAllowed,
  icmpv6ErrorAllowed,
  writeICMPv4FragmentationNeeded,
  writeICMPv4Unreachable,
  writeICMPv6PacketTooBig,
  writeICMPv6Unreachable,
} from './icmp-error.js';
import { IPv4Header, parseIPv4, writeIPv4Header } from './ipv4.js';
import { IPv6Header, parseIPv6, writeIPv6Header } from './ipv6.js';

const HEADROOM = 128;
const ROUTER = ipv4FromString('10.99.0.1');
const CLIENT = ipv4FromString('10.1.2.3');
const SERVER = ipv4FromString('10.4.5.6');

/** A slot-like buffer with an IPv4/UDP packet of `total` bytes at HEADROOM, plus padding. */
function slot4(total: number, pad = 0): Uint8Array {
  const b = new Uint8Array(HEADROOM + total + pad + 32);
  writeIPv4Header(b, HEADROOM, total, IPProto.UDP, CLIENT, SERVER, 63, 0x1111, IPv4Flag.DontFragment);
  for (let i = HEADROOM + 20; i < HEADROOM + total + pad; i++) b[i] = i & 0xff;
  return b;
}

function checkV4Error(b: Uint8Array, off: number, n: number, orig: Uint8Array, origOff: number, type: number, code: number, mtu: number): void {
  const ip = new IPv4Header();
  assert.equal(parseIPv4(b, off, n, ip, IPParseFlag.VerifyChecksum), DropReason.None);
  assert.equal(ip.totalLength, n);
  assert.equal(ip.protocol, IPProto.ICMP);
  assert.equal(ip.src, ROUTER);
  assert.equal(ip.dst, CLIENT);
  const icmp = new ICMPHeader();
  assert.equal(parseICMP(b, ip.payloadOffset, ip.payloadLength, icmp), DropReason.None);
  assert.deepEqual([icmp.type, icmp.code, icmp.sequence], [type, code, mtu]);
  assert.ok(icmpv4ChecksumValid(b, ip.payloadOffset, ip.payloadLength));
  const quoted = n - ICMPV4_ERROR_HEADER_LENGTH;
  assert.deepEqual(b.subarray(icmp.payloadOffset, icmp.payloadOffset + quoted), orig.subarray(origOff, origOff + quoted));
}

test('fragmentation needed, written in place in the headroom, quotes 548 bytes of a 1500-byte packet', () => {
  const b = slot4(1500);
  const orig = b.slice();
  const n = writeICMPv4FragmentationNeeded(b, HEADROOM - 28, b.length - (HEADROOM - 28), ROUTER, 1420, b, HEADROOM, 1500);
  assert.equal(n, ICMPV4_ERROR_MAX_LENGTH);
  checkV4Error(b, HEADROOM - 28, n, orig, HEADROOM, ICMPv4Type.DestinationUnreachable, ICMPv4UnreachableCode.FragmentationNeeded, 1420);
});

test('the same error into another buffer, or overlapping forwards, gives identical bytes', () => {
  const b = slot4(700);
  const separate = new Uint8Array(600);
  const n = writeICMPv4FragmentationNeeded(separate, 0, 600, ROUTER, 576, b, HEADROOM, 700);
  assert.equal(n, 576);
  checkV4Error(separate, 0, n, b, HEADROOM, 3, 4, 576);
  const over = b.slice();
  const m = writeICMPv4FragmentationNeeded(over, HEADROOM, over.length - HEADROOM, ROUTER, 576, over, HEADROOM, 700);
  assert.equal(m, n);
  assert.deepEqual(over.subarray(HEADROOM, HEADROOM + m), separate.subarray(0, n));
  // Two different views of one memory, the output ahead of the packet: copied backwards.
  const shared = b.slice();
  const view = new Uint8Array(shared.buffer, 16);
  const k = writeICMPv4FragmentationNeeded(shared, HEADROOM, shared.length - HEADROOM, ROUTER, 576, view, HEADROOM - 16, 700);
  assert.equal(k, n);
  assert.deepEqual(shared.subarray(HEADROOM, HEADROOM + k), separate.subarray(0, n));
});

test('a short packet is quoted whole, without its link padding', () => {
  fc.assert(
    fc.property(fc.integer({ min: 20, max: 600 }), fc.nat(30), (total, pad) => {
      const b = slot4(total, pad);
      const orig = b.slice();
      const n = writeICMPv4Unreachable(b, HEADROOM - 28, b.length - HEADROOM + 28, ICMPv4UnreachableCode.Host, ROUTER, b, HEADROOM, total + pad);
      assert.equal(n, Math.min(28 + total, 576));
      checkV4Error(b, HEADROOM - 28, n, orig, HEADROOM, 3, ICMPv4UnreachableCode.Host, 0);
    }),
  );
});

test('ICMPv4 error refusals: no room, not IPv4, too short, bad ranges', () => {
  const b = slot4(100);
  const out = new Uint8Array(200);
  assert.equal(writeICMPv4Unreachable(out, 0, 28 + 27, 1, ROUTER, b, HEADROOM, 100), 0, 'room for less than header + 8');
  assert.equal(writeICMPv4Unreachable(out, 0, 28 + 28, 1, ROUTER, b, HEADROOM, 100), 56);
  assert.equal(writeICMPv4Unreachable(out, 190, 28 + 28, 1, ROUTER, b, HEADROOM, 100), 0, 'outCap past the buffer');
  assert.equal(writeICMPv4Unreachable(out, 0, 200, 1, ROUTER, b, HEADROOM, 19), 0);
  assert.equal(writeICMPv4Unreachable(out, 0, 200, 1, ROUTER, b, b.length - 10, 100), 0);
  b[HEADROOM] = 0x65;
  assert.equal(writeICMPv4Unreachable(out, 0, 200, 1, ROUTER, b, HEADROOM, 100), 0);
});

const R6 = new Uint8Array(16);
ipv6FromString('fd00:99::1', R6, 0);

function slot6(total: number): Uint8Array {
  const b = new Uint8Array(HEADROOM + total + 32);
  const a = new Uint8Array(32);
  ipv6FromString('fd00:1::3', a, 0);
  ipv6FromString('fd00:4::6', a, 16);
  writeIPv6Header(b, HEADROOM, total - 40, IPProto.TCP, a, 0, a, 16);
  for (let i = HEADROOM + 40; i < HEADROOM + total; i++) b[i] = (i * 7) & 0xff;
  return b;
}

function checkV6Error(b: Uint8Array, off: number, n: number, orig: Uint8Array, origOff: number, type: number, code: number, rest: number, src: string): void {
  const ip = new IPv6Header();
  assert.equal(parseIPv6(b, off, n, ip), DropReason.None);
  assert.equal(ip.totalLength, n);
  assert.equal(ip.protocol, IPProto.ICMPv6);
  assert.equal(ipv6ToString(b, ip.srcOffset), src);
  assert.equal(ipv6ToString(b, ip.dstOffset), 'fd00:1::3');
  const icmp = new ICMPHeader();
  assert.equal(parseICMP(b, ip.payloadOffset, ip.payloadLength, icmp), DropReason.None);
  assert.deepEqual([icmp.type, icmp.code, icmp.restOfHeader], [type, code, rest]);
  assert.ok(transportChecksumValidIPv6(b, ip.payloadOffset, ip.payloadLength, IPProto.ICMPv6, ip.srcOffset, ip.dstOffset));
  const quoted = n - ICMPV6_ERROR_HEADER_LENGTH;
  assert.deepEqual(b.subarray(icmp.payloadOffset, icmp.payloadOffset + quoted), orig.subarray(origOff, origOff + quoted));
}

test('packet too big, in place, quotes up to 1232 bytes of a 1500-byte packet', () => {
  const b = slot6(1500);
  const orig = b.slice();
  const n = writeICMPv6PacketTooBig(b, HEADROOM - 48, b.length - HEADROOM + 48, R6, 0, 1420, b, HEADROOM, 1500);
  assert.equal(n, ICMPV6_ERROR_MAX_LENGTH);
  checkV6Error(b, HEADROOM - 48, n, orig, HEADROOM, ICMPv6Type.PacketTooBig, 0, 1420, 'fd00:99::1');
});

test('ICMPv6 error with the source taken from the offending packet itself (memory that moves)', () => {
  const b = slot6(200);
  const orig = b.slice();
  // Reply from the packet's own destination, written over the packet (outOff = origOff).
  const n = writeICMPv6Unreachable(b, HEADROOM, b.length - HEADROOM, 4, b, HEADROOM + 24, b, HEADROOM, 200);
  assert.equal(n, b.length - HEADROOM, 'quote cut to outCap');
  checkV6Error(b, HEADROOM, n, orig, HEADROOM, ICMPv6Type.DestinationUnreachable, 4, 0, 'fd00:4::6');
});

test('ICMPv6 error refusals', () => {
  const b = slot6(100);
  const out = new Uint8Array(300);
  assert.equal(writeICMPv6PacketTooBig(out, 0, 48 + 39, R6, 0, 1280, b, HEADROOM, 100), 0);
  assert.equal(writeICMPv6PacketTooBig(out, 0, 48 + 40, R6, 0, 1280, b, HEADROOM, 100), 88);
  assert.equal(writeICMPv6PacketTooBig(out, 0, 300, R6, 1, 1280, b, HEADROOM, 100), 0, 'source range past its buffer');
  assert.equal(writeICMPv6PacketTooBig(out, 0, 300, R6, 0, 1280, b, HEADROOM, 39), 0);
  b[HEADROOM] = 0x45;
  assert.equal(writeICMPv6PacketTooBig(out, 0, 300, R6, 0, 1280, b, HEADROOM, 100), 0);
});

test('when an ICMPv4 error may be sent (RFC 1122 3.2.2)', () => {
  const ip = new IPv4Header();
  const make = (src: string, dst: string, proto: number = IPProto.UDP, fragOff = 0, icmpType = 0): boolean => {
    const b = new Uint8Array(40);
    writeIPv4Header(b, 0, 40, proto, ipv4FromString(src), ipv4FromString(dst));
    b[6] = fragOff >>> 8;
    b[7] = fragOff & 0xff;
    b[20] = icmpType;
    assert.equal(parseIPv4(b, 0, 40, ip), DropReason.None);
    return icmpv4ErrorAllowed(b, ip);
  };
  assert.equal(make('10.1.2.3', '10.4.5.6'), true);
  assert.equal(make('10.1.2.3', '224.0.0.5'), false);
  assert.equal(make('10.1.2.3', '255.255.255.255'), false);
  assert.equal(make('0.0.0.0', '10.4.5.6'), false);
  assert.equal(make('127.0.0.1', '10.4.5.6'), false);
  assert.equal(make('239.1.1.1', '10.4.5.6'), false);
  assert.equal(make('10.1.2.3', '10.4.5.6', IPProto.UDP, 100), false, 'non-first fragment');
  assert.equal(make('10.1.2.3', '10.4.5.6', IPProto.ICMP, 0, ICMPv4Type.EchoRequest), true);
  for (const t of [3, 4, 5, 11, 12]) assert.equal(make('10.1.2.3', '10.4.5.6', IPProto.ICMP, 0, t), false, `about ICMP type ${t}`);
});

test('when an ICMPv6 error may be sent (RFC 4443 2.4 e)', () => {
  const ip = new IPv6Header();
  const make = (src: string, dst: string, type: number, proto: number = IPProto.UDP, icmpType = 0): boolean => {
    const b = new Uint8Array(60);
    const a = new Uint8Array(32);
    ipv6FromString(src, a, 0);
    ipv6FromString(dst, a, 16);
    writeIPv6Header(b, 0, 20, proto, a, 0, a, 16);
    b[40] = icmpType;
    assert.equal(parseIPv6(b, 0, 60, ip), DropReason.None);
    return icmpv6ErrorAllowed(b, ip, type);
  };
  assert.equal(make('fd00::1', 'fd00::2', ICMPv6Type.DestinationUnreachable), true);
  assert.equal(make('::', 'fd00::2', ICMPv6Type.DestinationUnreachable), false);
  assert.equal(make('ff02::1', 'fd00::2', ICMPv6Type.PacketTooBig), false);
  assert.equal(make('fd00::1', 'ff05::2', ICMPv6Type.DestinationUnreachable), false);
  assert.equal(make('fd00::1', 'ff05::2', ICMPv6Type.PacketTooBig), true, 'PTB to multicast is allowed');
  assert.equal(make('fd00::1', 'fd00::2', ICMPv6Type.PacketTooBig, IPProto.ICMPv6, ICMPv6Type.EchoRequest), true);
  assert.equal(make('fd00::1', 'fd00::2', ICMPv6Type.PacketTooBig, IPProto.ICMPv6, ICMPv6Type.PacketTooBig), false);
});
