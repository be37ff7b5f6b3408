/**
 * UDP header (RFC 768). Checksums over either IP version are in checksum.ts
 * (transportChecksumValidIPv4/IPv6, setTransportChecksumIPv4/IPv6).
 */
import { DropReason, type DropReasonValue } from '../stats/drop-reasons.js';
import { readU16, validRange, writeU16 } from './bytes.js';
import { UDP_HEADER_LENGTH } from './constants.js';

export class UDPHeader {
  srcPort = 0;
  dstPort = 0;
  /** Length field: header + data. */
  length = 0;
  /** 0 over IPv4 means the sender computed none. */
  checksum = 0;
  /** Absolute offset and length of the data. */
  payloadOffset = 0;
  payloadLength = 0;
}

/**
 * Parses the UDP datagram at buf[off, off + len) (len: what the IP layer says the
 * payload is). Returns DropReason.None, Truncated (fewer than 8 bytes, off/len outside
 * buf) or BadTotalLength (length field below 8 or above len). A length field shorter
 * than len is accepted and bounds the data, as Linux does (the rest is IP padding).
 */
export function parseUDP(buf: Uint8Array, off: number, len: number, out: UDPHeader): DropReasonValue {
  if (!validRange(buf, off, len) || len < UDP_HEADER_LENGTH) return DropReason.Truncated;
  const length = readU16(buf, off + 4);
  if (length < UDP_HEADER_LENGTH || length > len) return DropReason.BadTotalLength;
  out.srcPort = readU16(buf, off);
  out.dstPort = readU16(buf, off + 2);
  out.length = length;
  out.checksum = readU16(buf, off + 6);
  out.payloadOffset = off + UDP_HEADER_LENGTH;
  out.payloadLength = length - UDP_HEADER_LENGTH;
  return DropReason.None;
}

/**
 * Writes an 8-byte header with checksum 0 (fill it with setTransportChecksumIPv4/IPv6
 * once the data is in place; over IPv4, 0 may also stay). length = 8 + data. Returns 8.
 */
export function writeUDPHeader(buf: Uint8Array, off: number, srcPort: number, dstPort: number, length: number): number {
  writeU16(buf, off, srcPort);
  writeU16(buf, off + 2, dstPort);
  writeU16(buf, off + 4, length);
  buf[off + 6] = 0;
  buf[off + 7] = 0;
  return UDP_HEADER_LENGTH;
}
