/**
 * IPv4 header (RFC 791): parse into a reusable view, write a fresh header, and the
 * header checksum. Options are not interpreted, only skipped by IHL.
 */
import { DropReason, type DropReasonValue } from '../stats/drop-reasons.js';
import { readU16, readU32, validRange, writeU16, writeU32 } from './bytes.js';
import { internetChecksum, onesSum } from './checksum.js';
import { DEFAULT_TTL, IPParseFlag, IPV4_HEADER_LENGTH, IPv4Flag } from './constants.js';

/** Fields of one IPv4 header. Owned by the caller and refilled by every parse. */
export class IPv4Header {
  /** IHL in bytes (20..60). */
  headerLength = 0;
  /** Total Length field; bytes after it in the buffer are link-layer padding. */
  totalLength = 0;
  /** DSCP and ECN byte. */
  tos = 0;
  identification = 0;
  /** IPv4Flag bits (DontFragment, MoreFragments). */
  flags = 0;
  /** Fragment offset, in 8-byte units as on the wire. */
  fragmentOffset = 0;
  ttl = 0;
  protocol = 0;
  checksum = 0;
  /** Addresses as unsigned 32-bit numbers. */
  src = 0;
  dst = 0;
  /** Absolute offset in the buffer of the payload (the IP offset + headerLength). */
  payloadOffset = 0;
  /** totalLength - headerLength. */
  payloadLength = 0;

  /** Part of a fragmented datagram (MF set or a non-zero offset). */
  get isFragment(): boolean {
    return (this.flags & IPv4Flag.MoreFragments) !== 0 || this.fragmentOffset !== 0;
  }

  /** The transport header is present only in the first fragment (or an unfragmented packet). */
  get hasTransportHeader(): boolean {
    return this.fragmentOffset === 0;
  }
}

/**
 * Parses the IPv4 packet at buf[off, off + len) into out. Returns DropReason.None, or:
 * Truncated (fewer than 20 bytes, or off/len outside buf), BadVersion, BadHeaderLength
 * (IHL < 5, or beyond the bytes available), BadTotalLength (smaller than the header or
 * larger than len), BadChecksum (with IPParseFlag.VerifyChecksum), Fragment (with
 * IPParseFlag.RejectFragments). On a drop, out holds partial garbage.
 */
export function parseIPv4(buf: Uint8Array, off: number, len: number, out: IPv4Header, flags = 0): DropReasonValue {
  if (!validRange(buf, off, len) || len < IPV4_HEADER_LENGTH) return DropReason.Truncated;
  const b0 = buf[off];
  if (b0 >>> 4 !== 4) return DropReason.BadVersion;
  const hl = (b0 & 0x0f) << 2;
  if (hl < IPV4_HEADER_LENGTH || hl > len) return DropReason.BadHeaderLength;
  const total = readU16(buf, off + 2);
  if (total < hl || total > len) return DropReason.BadTotalLength;
  if ((flags & IPParseFlag.VerifyChecksum) !== 0 && onesSum(buf, off, hl) !== 0xffff) return DropReason.BadChecksum;
  const frag = readU16(buf, off + 6);
  out.flags = frag >>> 13;
  out.fragmentOffset = frag & 0x1fff;
  if ((flags & IPParseFlag.RejectFragments) !== 0 && (frag & 0x3fff) !== 0) return DropReason.Fragment;
  out.headerLength = hl;
  out.totalLength = total;
  out.tos = buf[off + 1];
  out.identification = readU16(buf, off + 4);
  out.ttl = buf[off + 8];
  out.protocol = buf[off + 9];
  out.checksum = readU16(buf, off + 10);
  out.src = readU32(buf, off + 12);
  out.dst = readU32(buf, off + 16);
  out.payloadOffset = off + hl;
  out.payloadLength = total - hl;
  return DropReason.None;
}

/**
 * Writes a 20-byte header (no options) with its checksum at buf[off]; returns 20.
 * totalLength counts the header too. The caller checks that 20 bytes fit.
 */
export function writeIPv4Header(
  buf: Uint8Array,
  off: number,
  totalLength: number,
  protocol: number,
  src: number,
  dst: number,
  ttl = DEFAULT_TTL,
  identification = 0,
  flags = 0,
  tos = 0,
): number {
  buf[off] = 0x45;
  buf[off + 1] = tos;
  writeU16(buf, off + 2, totalLength);
  writeU16(buf, off + 4, identification);
  writeU16(buf, off + 6, (flags & 0x7) << 13);
  buf[off + 8] = ttl;
  buf[off + 9] = protocol;
  buf[off + 10] = 0;
  buf[off + 11] = 0;
  writeU32(buf, off + 12, src);
  writeU32(buf, off + 16, dst);
  writeU16(buf, off + 10, internetChecksum(buf, off, IPV4_HEADER_LENGTH));
  return IPV4_HEADER_LENGTH;
}

/** Recomputes and writes the header checksum of the header at buf[off] (IHL read from it); returns it. */
export function setIPv4HeaderChecksum(buf: Uint8Array, off: number): number {
  const hl = (buf[off] & 0x0f) << 2;
  buf[off + 10] = 0;
  buf[off + 11] = 0;
  const c = internetChecksum(buf, off, hl);
  writeU16(buf, off + 10, c);
  return c;
}

/** True when the header at buf[off] (IHL read from it) has a correct checksum. */
export function ipv4HeaderChecksumValid(buf: Uint8Array, off: number): boolean {
  return onesSum(buf, off, (buf[off] & 0x0f) << 2) === 0xffff;
}
