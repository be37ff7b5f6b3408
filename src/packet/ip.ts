/**
 * Version dispatch for packets from a TUN or out of a tunnel, which carry no
 * ethertype: the first nibble says IPv4 or IPv6. The quick accessors serve routing
 * (the allowed-IPs lookup needs only the version and an address); parseIP fills one
 * view for both versions.
 */
import { DropReason, type DropReasonValue } from '../stats/drop-reasons.js';
import { readU32, validRange } from './bytes.js';
import { IPV4_HEADER_LENGTH, IPV6_HEADER_LENGTH } from './constants.js';
import { IPv4Header, parseIPv4 } from './ipv4.js';
import { IPv6Header, parseIPv6 } from './ipv6.js';

/**
 * 4 or 6 when buf[off, off + len) starts with that version and is long enough for its
 * fixed header; 0 otherwise (including off/len outside buf).
 */
export function ipVersion(buf: Uint8Array, off: number, len: number): number {
  if (!validRange(buf, off, len) || len < IPV4_HEADER_LENGTH) return 0;
  const v = buf[off] >>> 4;
  if (v === 4) return 4;
  if (v === 6 && len >= IPV6_HEADER_LENGTH) return 6;
  return 0;
}

/** Absolute offset of the destination address (4 or 16 bytes by ipVersion), or -1. */
export function ipDestinationOffset(buf: Uint8Array, off: number, len: number): number {
  const v = ipVersion(buf, off, len);
  return v === 4 ? off + 16 : v === 6 ? off + 24 : -1;
}

/** Absolute offset of the source address (4 or 16 bytes by ipVersion), or -1. */
export function ipSourceOffset(buf: Uint8Array, off: number, len: number): number {
  const v = ipVersion(buf, off, len);
  return v === 4 ? off + 12 : v === 6 ? off + 8 : -1;
}

/** An IPv4 address at an absolute offset (from the accessors above), as a uint32. */
export function readIPv4Address(buf: Uint8Array, addrOff: number): number {
  return readU32(buf, addrOff);
}

/** One parsed IP packet of either version. Allocate once, reuse for every packet. */
export class IPPacket {
  /** 4 or 6 after a successful parse. */
  version = 0;
  /** The version-specific views; only the one of `version` is current. */
  readonly v4 = new IPv4Header();
  readonly v6 = new IPv6Header();
  /** Upper-layer protocol (after IPv6 extension headers). */
  protocol = 0;
  /** Absolute offset and length of the upper-layer data (to the IP total length). */
  payloadOffset = 0;
  payloadLength = 0;
  /** IP total length, header included; bytes past it are padding. */
  totalLength = 0;
  /** Absolute offsets of the addresses, each addressLength (4 or 16) bytes. */
  srcOffset = 0;
  dstOffset = 0;
  addressLength = 0;
  /** Part of a fragmented datagram. */
  isFragment = false;
  /** False for a non-first fragment: the payload does not start with a transport header. */
  hasTransportHeader = false;
}

/**
 * Parses an IPv4 or IPv6 packet by its version nibble (flags: IPParseFlag). Returns
 * DropReason.None or the reason from parseIPv4/parseIPv6; BadVersion for other versions,
 * Truncated when not even a version byte is there.
 */
export function parseIP(buf: Uint8Array, off: number, len: number, out: IPPacket, flags = 0): DropReasonValue {
  out.version = 0;
  if (!validRange(buf, off, len) || len < 1) return DropReason.Truncated;
  const v = buf[off] >>> 4;
  // The IPv4 and IPv6 branches copy the same fields on purpose: out.v4 and out.v6 are
  // different header types, and one copy each keeps this per-packet code monomorphic.
  if (v === 4) {
    const h = out.v4;
    const r = parseIPv4(buf, off, len, h, flags);
    if (r !== DropReason.None) return r;
    out.version = 4;
    out.protocol = h.protocol;
    out.payloadOffset = h.payloadOffset;
    out.payloadLength = h.payloadLength;
    out.totalLength = h.totalLength;
    out.srcOffset = off + 12;
    out.dstOffset = off + 16;
    out.addressLength = 4;
    out.isFragment = h.isFragment;
    out.hasTransportHeader = h.fragmentOffset === 0;
    return DropReason.None;
  }
  if (v === 6) {
    const h = out.v6;
    const r = parseIPv6(buf, off, len, h, flags);
    if (r !== DropReason.None) return r;
    out.version = 6;
    out.protocol = h.protocol;
    out.payloadOffset = h.payloadOffset;
    out.payloadLength = h.payloadLength;
    out.totalLength = h.totalLength;
    out.srcOffset = h.srcOffset;
    out.dstOffset = h.dstOffset;
    out.addressLength = 16;
    out.isFragment = h.isFragment;
    out.hasTransportHeader = h.fragmentOffset === 0;
    return DropReason.None;
  }
  return DropReason.BadVersion;
}
