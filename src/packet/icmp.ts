/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443) messages share their first 8 bytes: type, code,
 * checksum and a 4-byte rest-of-header (identifier + sequence for echo, the MTU for
 * "fragmentation needed" / "packet too big"). Echo requests are answered in place.
 * Error messages are built in icmp-error.ts.
 */
import { DropReason, type DropReasonValue } from '../stats/drop-reasons.js';
import { readU16, readU32, validRange, writeU16 } from './bytes.js';
import { checksumAdjust16 } from './checksum-update.js';
import { internetChecksum, onesSum } from './checksum.js';
import { DEFAULT_TTL, ICMP_HEADER_LENGTH, ICMPv4Type, ICMPv6Type } from './constants.js';
import { setIPv4HeaderChecksum, type IPv4Header } from './ipv4.js';
import type { IPv6Header } from './ipv6.js';

export class ICMPHeader {
  type = 0;
  code = 0;
  checksum = 0;
  /** Bytes 4..7 as an unsigned 32-bit number. */
  restOfHeader = 0;
  /** Echo request/reply: bytes 4..5 and 6..7 (also set, meaninglessly, for other types). */
  identifier = 0;
  sequence = 0;
  /** Absolute offset and length of what follows the 8-byte header. */
  payloadOffset = 0;
  payloadLength = 0;
}

/**
 * Parses the ICMP or ICMPv6 message at buf[off, off + len). Returns DropReason.None or
 * Truncated (fewer than 8 bytes, off/len outside buf). Checksums are verified apart:
 * icmpv4ChecksumValid, or transportChecksumValidIPv6 (ICMPv6 has a pseudo-header).
 */
export function parseICMP(buf: Uint8Array, off: number, len: number, out: ICMPHeader): DropReasonValue {
  if (!validRange(buf, off, len) || len < ICMP_HEADER_LENGTH) return DropReason.Truncated;
  out.type = buf[off];
  out.code = buf[off + 1];
  out.checksum = readU16(buf, off + 2);
  out.restOfHeader = readU32(buf, off + 4);
  out.identifier = readU16(buf, off + 4);
  out.sequence = readU16(buf, off + 6);
  out.payloadOffset = off + ICMP_HEADER_LENGTH;
  out.payloadLength = len - ICMP_HEADER_LENGTH;
  return DropReason.None;
}

/** True when the ICMPv4 message at buf[off, off + len) has a correct checksum. */
export function icmpv4ChecksumValid(buf: Uint8Array, off: number, len: number): boolean {
  return len >= ICMP_HEADER_LENGTH && onesSum(buf, off, len) === 0xffff;
}

/**
 * Turns the IPv4 echo request at buf[ipOff] (parsed into ip and icmp) into the echo
 * reply, in place: addresses swapped, TTL reset, type 0, both checksums fixed (the ICMP
 * one incrementally, so data is not re-summed). IP options are kept as they are.
 * Updates the views to match. Returns the reply's length (ip.totalLength), or 0 when
 * icmp is not an echo request or the packet is a fragment (its checksum covers data
 * this packet does not hold).
 */
export function icmpv4EchoReplyInPlace(buf: Uint8Array, ipOff: number, ip: IPv4Header, icmp: ICMPHeader, ttl = DEFAULT_TTL): number {
  if (icmp.type !== ICMPv4Type.EchoRequest || ip.isFragment) return 0;
  for (let i = 0; i < 4; i++) {
    const t = buf[ipOff + 12 + i];
    buf[ipOff + 12 + i] = buf[ipOff + 16 + i];
    buf[ipOff + 16 + i] = t;
  }
  buf[ipOff + 8] = ttl;
  const src = ip.src;
  ip.src = ip.dst;
  ip.dst = src;
  ip.ttl = ttl;
  ip.checksum = setIPv4HeaderChecksum(buf, ipOff);
  replyType(buf, icmp, ICMPv4Type.EchoReply);
  return ip.totalLength;
}

/**
 * The IPv6 counterpart of icmpv4EchoReplyInPlace: addresses swapped (the pseudo-header
 * sum does not change), hop limit reset, type 129. Returns the reply's length, or 0 when
 * icmp is not an echo request or the packet has extension headers (which a reply must
 * not reflect).
 */
export function icmpv6EchoReplyInPlace(buf: Uint8Array, ipOff: number, ip: IPv6Header, icmp: ICMPHeader, hopLimit = DEFAULT_TTL): number {
  if (icmp.type !== ICMPv6Type.EchoRequest || ip.extensionCount !== 0) return 0;
  for (let i = 0; i < 16; i++) {
    const t = buf[ipOff + 8 + i];
    buf[ipOff + 8 + i] = buf[ipOff + 24 + i];
    buf[ipOff + 24 + i] = t;
  }
  buf[ipOff + 7] = hopLimit;
  ip.hopLimit = hopLimit;
  replyType(buf, icmp, ICMPv6Type.EchoReply);
  return ip.totalLength;
}

function replyType(buf: Uint8Array, icmp: ICMPHeader, type: number): void {
  const off = icmp.payloadOffset - ICMP_HEADER_LENGTH;
  let c = checksumAdjust16(icmp.checksum, (icmp.type << 8) | icmp.code, type << 8);
  buf[off] = type;
  buf[off + 1] = 0;
  // An all-zero ICMPv4 echo reply (id, sequence and data 0) sums to +0, whose checksum
  // is 0xFFFF; the incremental form gives 0x0000 there, so recompute in that rare case.
  if (c === 0 && type === ICMPv4Type.EchoReply) {
    buf[off + 2] = 0;
    buf[off + 3] = 0;
    c = internetChecksum(buf, off, ICMP_HEADER_LENGTH + icmp.payloadLength);
  }
  writeU16(buf, off + 2, c);
  icmp.type = type;
  icmp.code = 0;
  icmp.checksum = c;
}
