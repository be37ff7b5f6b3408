/**
 * ICMP error messages that quote the offending packet: destination unreachable and
 * fragmentation needed (ICMPv4, RFC 792 / RFC 1191) and packet too big / destination
 * unreachable (ICMPv6, RFC 4443). Ferry sends them when a packet is too big for a
 * tunnel or has no route.
 *
 * The error is written at out[outOff] and may share memory with the offending packet:
 * with outOff = origOff - 28 (IPv4) or origOff - 48 (IPv6), i.e. in the slot's headroom,
 * the quoted bytes are already where they belong and nothing is copied.
 */
import { copyBytes, readU16, readU32, validRange, writeU16, writeU32 } from './bytes.js';
import { internetChecksum, pseudoSumIPv6 } from './checksum.js';
import {
  DEFAULT_TTL,
  ICMP_ERROR_TOS,
  ICMP_HEADER_LENGTH,
  ICMPV4_ERROR_MAX_LENGTH,
  ICMPV6_ERROR_MAX_LENGTH,
  ICMPv4Type,
  ICMPv4UnreachableCode,
  ICMPv6Type,
  IPProto,
  IPV4_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
} from './constants.js';
import { writeIPv4Header, type IPv4Header } from './ipv4.js';
import { writeIPv6Header, type IPv6Header } from './ipv6.js';

/** Header bytes in front of the quote. */
export const ICMPV4_ERROR_HEADER_LENGTH = IPV4_HEADER_LENGTH + ICMP_HEADER_LENGTH;
export const ICMPV6_ERROR_HEADER_LENGTH = IPV6_HEADER_LENGTH + ICMP_HEADER_LENGTH;

/** The source address, saved before the quote may overwrite it. Module-level: no allocation per call. */
const savedSource = new Uint8Array(16);

/**
 * Writes IPv4 + ICMPv4 error (type, code, rest-of-header `rest`) from `src` to the
 * source of the IPv4 packet orig[origOff, origOff + origLen), quoting as much of it as
 * fits in 576 bytes and outCap (at least its header + 8 bytes, RFC 792). Returns the
 * length written, or 0 when orig is not IPv4 or outCap is too small.
 */
export function writeICMPv4Error(
  out: Uint8Array,
  outOff: number,
  outCap: number,
  type: number,
  code: number,
  rest: number,
  src: number,
  orig: Uint8Array,
  origOff: number,
  origLen: number,
  ttl = DEFAULT_TTL,
): number {
  if (!validRange(out, outOff, outCap) || !validRange(orig, origOff, origLen) || origLen < IPV4_HEADER_LENGTH) return 0;
  if (orig[origOff] >>> 4 !== 4) return 0;
  const dst = readU32(orig, origOff + 12);
  const total = readU16(orig, origOff + 2);
  const available = total >= IPV4_HEADER_LENGTH && total < origLen ? total : origLen;
  const quote = Math.min(available, ICMPV4_ERROR_MAX_LENGTH - ICMPV4_ERROR_HEADER_LENGTH, outCap - ICMPV4_ERROR_HEADER_LENGTH);
  const needed = Math.min(available, ((orig[origOff] & 0x0f) << 2) + 8);
  if (quote < needed) return 0;
  const icmpOff = outOff + IPV4_HEADER_LENGTH;
  copyBytes(orig, origOff, out, icmpOff + ICMP_HEADER_LENGTH, quote);
  const length = ICMPV4_ERROR_HEADER_LENGTH + quote;
  writeIPv4Header(out, outOff, length, IPProto.ICMP, src, dst, ttl, 0, 0, ICMP_ERROR_TOS);
  out[icmpOff] = type;
  out[icmpOff + 1] = code;
  out[icmpOff + 2] = 0;
  out[icmpOff + 3] = 0;
  writeU32(out, icmpOff + 4, rest);
  writeU16(out, icmpOff + 2, internetChecksum(out, icmpOff, ICMP_HEADER_LENGTH + quote));
  return length;
}

/** Destination unreachable (type 3) with an ICMPv4UnreachableCode. */
export function writeICMPv4Unreachable(
  out: Uint8Array,
  outOff: number,
  outCap: number,
  code: number,
  src: number,
  orig: Uint8Array,
  origOff: number,
  origLen: number,
): number {
  return writeICMPv4Error(out, outOff, outCap, ICMPv4Type.DestinationUnreachable, code, 0, src, orig, origOff, origLen);
}

/** "Fragmentation needed and DF set" (type 3 code 4) announcing the next-hop MTU (RFC 1191). */
export function writeICMPv4FragmentationNeeded(
  out: Uint8Array,
  outOff: number,
  outCap: number,
  src: number,
  mtu: number,
  orig: Uint8Array,
  origOff: number,
  origLen: number,
): number {
  return writeICMPv4Error(
    out,
    outOff,
    outCap,
    ICMPv4Type.DestinationUnreachable,
    ICMPv4UnreachableCode.FragmentationNeeded,
    mtu & 0xffff,
    src,
    orig,
    origOff,
    origLen,
  );
}

/**
 * Writes IPv6 + ICMPv6 error from the address at srcBuf[srcOff] to the source of the
 * IPv6 packet orig[origOff, origOff + origLen), quoting as much as fits in 1280 bytes
 * and outCap (at least its 40-byte header). Returns the length written, or 0.
 */
export function writeICMPv6Error(
  out: Uint8Array,
  outOff: number,
  outCap: number,
  type: number,
  code: number,
  rest: number,
  srcBuf: Uint8Array,
  srcOff: number,
  orig: Uint8Array,
  origOff: number,
  origLen: number,
  hopLimit = DEFAULT_TTL,
): number {
  if (!validRange(out, outOff, outCap) || !validRange(orig, origOff, origLen) || origLen < IPV6_HEADER_LENGTH) return 0;
  if (!validRange(srcBuf, srcOff, 16) || orig[origOff] >>> 4 !== 6) return 0;
  const total = IPV6_HEADER_LENGTH + readU16(orig, origOff + 4);
  const available = total < origLen ? total : origLen;
  const quote = Math.min(available, ICMPV6_ERROR_MAX_LENGTH - ICMPV6_ERROR_HEADER_LENGTH, outCap - ICMPV6_ERROR_HEADER_LENGTH);
  if (quote < IPV6_HEADER_LENGTH) return 0;
  // srcBuf may lie inside the bytes about to move; save it first.
  copyBytes(srcBuf, srcOff, savedSource, 0, 16);
  const icmpOff = outOff + IPV6_HEADER_LENGTH;
  const quoteOff = icmpOff + ICMP_HEADER_LENGTH;
  copyBytes(orig, origOff, out, quoteOff, quote);
  const payload = ICMP_HEADER_LENGTH + quote;
  // The destination is the quoted packet's source, now at quoteOff + 8.
  writeIPv6Header(out, outOff, payload, IPProto.ICMPv6, savedSource, 0, out, quoteOff + 8, hopLimit);
  out[icmpOff] = type;
  out[icmpOff + 1] = code;
  out[icmpOff + 2] = 0;
  out[icmpOff + 3] = 0;
  writeU32(out, icmpOff + 4, rest);
  const pseudo = pseudoSumIPv6(out, outOff + 8, outOff + 24, IPProto.ICMPv6, payload);
  writeU16(out, icmpOff + 2, internetChecksum(out, icmpOff, payload, pseudo));
  return IPV6_HEADER_LENGTH + payload;
}

/** Destination unreachable (type 1) with an ICMPv6UnreachableCode. */
export function writeICMPv6Unreachable(
  out: Uint8Array,
  outOff: number,
  outCap: number,
  code: number,
  srcBuf: Uint8Array,
  srcOff: number,
  orig: Uint8Array,
  origOff: number,
  origLen: number,
): number {
  return writeICMPv6Error(out, outOff, outCap, ICMPv6Type.DestinationUnreachable, code, 0, srcBuf, srcOff, orig, origOff, origLen);
}

/** Packet too big (type 2) announcing the MTU. */
export function writeICMPv6PacketTooBig(
  out: Uint8Array,
  outOff: number,
  outCap: number,
  srcBuf: Uint8Array,
  srcOff: number,
  mtu: number,
  orig: Uint8Array,
  origOff: number,
  origLen: number,
): number {
  return writeICMPv6Error(out, outOff, outCap, ICMPv6Type.PacketTooBig, 0, mtu >>> 0, srcBuf, srcOff, orig, origOff, origLen);
}

/**
 * RFC 1122 3.2.2 / RFC 1812 4.3.2.7: no ICMPv4 error about an ICMP error, a non-first
 * fragment, a packet to broadcast or multicast, or from an address that is not one host
 * (0/8, 127/8, multicast, 240/4). ip is the parsed offending packet in buf.
 */
export function icmpv4ErrorAllowed(buf: Uint8Array, ip: IPv4Header): boolean {
  if (ip.fragmentOffset !== 0) return false;
  const dst = ip.dst;
  const src = ip.src;
  if (dst >>> 28 >= 0xe) return false; // multicast 224/4, reserved 240/4 and 255.255.255.255
  const s8 = src >>> 24;
  if (s8 === 0 || s8 === 127 || src >>> 28 >= 0xe) return false;
  if (ip.protocol === IPProto.ICMP && ip.payloadLength > 0) {
    const t = buf[ip.payloadOffset];
    if (
      t === ICMPv4Type.DestinationUnreachable ||
      t === ICMPv4Type.SourceQuench ||
      t === ICMPv4Type.Redirect ||
      t === ICMPv4Type.TimeExceeded ||
      t === ICMPv4Type.ParameterProblem
    ) {
      return false;
    }
  }
  return true;
}

/**
 * RFC 4443 2.4 (e): no ICMPv6 error about an ICMPv6 error, from the unspecified or a
 * multicast address, or to a multicast address, except packet too big. `type` is the
 * error about to be sent.
 */
export function icmpv6ErrorAllowed(buf: Uint8Array, ip: IPv6Header, type: number): boolean {
  const s = ip.srcOffset;
  if (buf[s] === 0xff) return false;
  let zero = true;
  for (let i = 0; i < 16; i++) {
    if (buf[s + i] !== 0) {
      zero = false;
      break;
    }
  }
  if (zero) return false;
  if (buf[ip.dstOffset] === 0xff && type !== ICMPv6Type.PacketTooBig) return false;
  if (ip.protocol === IPProto.ICMPv6 && ip.hasTransportHeader && ip.payloadLength > 0 && buf[ip.payloadOffset] < 128) return false;
  return true;
}
