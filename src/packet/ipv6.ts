/**
 * IPv6 header (RFC 8200): parse the fixed header and walk the extension headers to the
 * upper-layer protocol, with a bound on the chain; write a fresh fixed header.
 * Addresses stay in the buffer: the view records where they are.
 */
import { DropReason, type DropReasonValue } from '../stats/drop-reasons.js';
import { copyBytes, readU16, readU32, validRange, writeU16 } from './bytes.js';
import { DEFAULT_TTL, IPParseFlag, IPProto, IPV6_FRAGMENT_HEADER_LENGTH, IPV6_HEADER_LENGTH, MAX_IPV6_EXTENSION_HEADERS } from './constants.js';

/** Fields of one IPv6 packet. Owned by the caller and refilled by every parse. */
export class IPv6Header {
  trafficClass = 0;
  flowLabel = 0;
  /** Next Header of the fixed header (the first extension header, if any). */
  nextHeader = 0;
  hopLimit = 0;
  /** 40 + the Payload Length field; bytes after it in the buffer are link-layer padding. */
  totalLength = 0;
  /** Absolute offsets in the buffer of the 16-byte source and destination addresses. */
  srcOffset = 0;
  dstOffset = 0;
  /** Upper-layer protocol after the extension headers (IPProto.IPv6NoNext when none). */
  protocol = 0;
  /** Absolute offset in the buffer of the upper-layer header, and its length to totalLength. */
  payloadOffset = 0;
  payloadLength = 0;
  /** Extension headers walked. */
  extensionCount = 0;
  /** A fragment header that is not atomic (RFC 6946): offset or M flag set. */
  isFragment = false;
  /** From the fragment header, when there is one: offset in 8-byte units, M flag, identification. */
  fragmentOffset = 0;
  moreFragments = false;
  fragmentId = 0;

  /** A non-first fragment carries no upper-layer header: payloadOffset points at data. */
  get hasTransportHeader(): boolean {
    return this.fragmentOffset === 0;
  }
}

/**
 * Parses the IPv6 packet at buf[off, off + len) into out, walking hop-by-hop, routing,
 * fragment, destination options and AH headers. Returns DropReason.None, or: Truncated
 * (fewer than 40 bytes, off/len outside buf, or an extension header running past the
 * payload), BadVersion, BadTotalLength (payload length beyond len), BadHeaderLength
 * (hop-by-hop not first, or more than MAX_IPV6_EXTENSION_HEADERS), Fragment (with
 * IPParseFlag.RejectFragments). A non-first fragment stops the walk at its fragment
 * header. On a drop, out holds partial garbage.
 */
export function parseIPv6(buf: Uint8Array, off: number, len: number, out: IPv6Header, flags = 0): DropReasonValue {
  if (!validRange(buf, off, len) || len < IPV6_HEADER_LENGTH) return DropReason.Truncated;
  const b0 = buf[off];
  if (b0 >>> 4 !== 6) return DropReason.BadVersion;
  const total = IPV6_HEADER_LENGTH + readU16(buf, off + 4);
  if (total > len) return DropReason.BadTotalLength;
  out.trafficClass = ((b0 & 0x0f) << 4) | (buf[off + 1] >>> 4);
  out.flowLabel = ((buf[off + 1] & 0x0f) << 16) | readU16(buf, off + 2);
  out.totalLength = total;
  out.hopLimit = buf[off + 7];
  out.srcOffset = off + 8;
  out.dstOffset = off + 24;
  out.isFragment = false;
  out.fragmentOffset = 0;
  out.moreFragments = false;
  out.fragmentId = 0;

  const end = off + total;
  let nh = buf[off + 6];
  out.nextHeader = nh;
  let p = off + IPV6_HEADER_LENGTH;
  let count = 0;
  for (;;) {
    let hlen: number;
    if (nh === IPProto.HopByHop || nh === IPProto.IPv6Route || nh === IPProto.IPv6DestOpts) {
      // RFC 8200 4.3: hop-by-hop options only directly after the fixed header.
      if (nh === IPProto.HopByHop && count !== 0) return DropReason.BadHeaderLength;
      if (p + 8 > end) return DropReason.Truncated;
      hlen = (buf[p + 1] + 1) << 3;
    } else if (nh === IPProto.AH) {
      if (p + 8 > end) return DropReason.Truncated;
      hlen = (buf[p + 1] + 2) << 2; // RFC 4302: length in 4-byte units, minus 2
    } else if (nh === IPProto.IPv6Fragment) {
      if (p + IPV6_FRAGMENT_HEADER_LENGTH > end) return DropReason.Truncated;
      hlen = IPV6_FRAGMENT_HEADER_LENGTH;
      const fo = readU16(buf, p + 2);
      out.fragmentOffset = fo >>> 3;
      out.moreFragments = (fo & 1) !== 0;
      out.fragmentId = readU32(buf, p + 4);
      if (out.fragmentOffset !== 0 || out.moreFragments) {
        out.isFragment = true;
        if ((flags & IPParseFlag.RejectFragments) !== 0) return DropReason.Fragment;
      }
    } else {
      break;
    }
    if (count === MAX_IPV6_EXTENSION_HEADERS) return DropReason.Ipv6TooManyExtensionHeaders;
    if (p + hlen > end) return DropReason.Truncated;
    count++;
    nh = buf[p];
    p += hlen;
    if (out.fragmentOffset !== 0) break; // later fragment: what follows is data, not a header
  }
  out.extensionCount = count;
  out.protocol = nh;
  out.payloadOffset = p;
  out.payloadLength = end - p;
  return DropReason.None;
}

/**
 * Writes a 40-byte fixed header at buf[off], copying the addresses from src[srcOff] and
 * dst[dstOff]; returns 40. The caller checks that it fits. The addresses may be inside
 * buf, but not inside the 40 bytes being written unless already in place (swap them
 * by hand, as icmpv6EchoReplyInPlace does).
 */
export function writeIPv6Header(
  buf: Uint8Array,
  off: number,
  payloadLength: number,
  nextHeader: number,
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
  hopLimit = DEFAULT_TTL,
  trafficClass = 0,
  flowLabel = 0,
): number {
  buf[off] = 0x60 | ((trafficClass >>> 4) & 0x0f);
  buf[off + 1] = ((trafficClass & 0x0f) << 4) | ((flowLabel >>> 16) & 0x0f);
  writeU16(buf, off + 2, flowLabel & 0xffff);
  writeU16(buf, off + 4, payloadLength);
  buf[off + 6] = nextHeader;
  buf[off + 7] = hopLimit;
  copyBytes(src, srcOff, buf, off + 8, 16);
  copyBytes(dst, dstOff, buf, off + 24, 16);
  return IPV6_HEADER_LENGTH;
}
