/**
 * TCP header (RFC 9293): ports, sequence numbers, flags; options are skipped by the
 * data offset, not interpreted. Checksums are in checksum.ts.
 */
import { DropReason, type DropReasonValue } from '../stats/drop-reasons.js';
import { readU16, readU32, validRange, writeU16, writeU32 } from './bytes.js';
import { TCP_HEADER_LENGTH } from './constants.js';

export class TCPHeader {
  srcPort = 0;
  dstPort = 0;
  /** Unsigned 32-bit. */
  seq = 0;
  ack = 0;
  /** Data offset in bytes (20..60): header with options. */
  headerLength = 0;
  /** TCPFlag bits. */
  flags = 0;
  window = 0;
  checksum = 0;
  urgentPointer = 0;
  /** Absolute offset and length of the segment data. */
  payloadOffset = 0;
  payloadLength = 0;
}

/**
 * Parses the TCP segment at buf[off, off + len) (len: the IP payload length). Returns
 * DropReason.None, Truncated (fewer than 20 bytes, off/len outside buf) or
 * BadHeaderLength (data offset below 5 words or beyond len).
 */
export function parseTCP(buf: Uint8Array, off: number, len: number, out: TCPHeader): DropReasonValue {
  if (!validRange(buf, off, len) || len < TCP_HEADER_LENGTH) return DropReason.Truncated;
  const b12 = buf[off + 12];
  const hl = (b12 >>> 4) << 2;
  if (hl < TCP_HEADER_LENGTH || hl > len) return DropReason.BadHeaderLength;
  out.srcPort = readU16(buf, off);
  out.dstPort = readU16(buf, off + 2);
  out.seq = readU32(buf, off + 4);
  out.ack = readU32(buf, off + 8);
  out.headerLength = hl;
  out.flags = ((b12 & 1) << 8) | buf[off + 13];
  out.window = readU16(buf, off + 14);
  out.checksum = readU16(buf, off + 16);
  out.urgentPointer = readU16(buf, off + 18);
  out.payloadOffset = off + hl;
  out.payloadLength = len - hl;
  return DropReason.None;
}

/**
 * Writes a 20-byte header without options, checksum 0 (fill it with
 * setTransportChecksumIPv4/IPv6 once the data is in place). Returns 20.
 */
export function writeTCPHeader(
  buf: Uint8Array,
  off: number,
  srcPort: number,
  dstPort: number,
  seq: number,
  ack: number,
  flags: number,
  window: number,
  urgentPointer = 0,
): number {
  writeU16(buf, off, srcPort);
  writeU16(buf, off + 2, dstPort);
  writeU32(buf, off + 4, seq);
  writeU32(buf, off + 8, ack);
  buf[off + 12] = (5 << 4) | ((flags >>> 8) & 1);
  buf[off + 13] = flags;
  writeU16(buf, off + 14, window);
  buf[off + 16] = 0;
  buf[off + 17] = 0;
  writeU16(buf, off + 18, urgentPointer);
  return TCP_HEADER_LENGTH;
}
