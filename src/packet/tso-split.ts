/**
 * The read side of TUN offloads: a TUN opened with IFF_VNET_HDR and TUNSETOFFLOAD hands us
 * TSO/USO super-packets (up to 64 KiB, one virtio_net_hdr each) and packets whose L4
 * checksum is left to us (NeedsCsum). Here they become ordinary IP packets with every
 * checksum complete, as Linux's tcp_gso_segment / __udp_gso_segment would have made them.
 *
 * Nothing from the virtio header is trusted: the IP and L4 headers are parsed again and
 * must agree with it. hdrLen is not checked: the virtio spec (5.1.6.2) makes it a hint,
 * and Linux fills it with the linear part's length (the whole first buffer on the forward
 * path, as wireguard-go notes), so the parsed header length is used instead.
 */
import { readU16, readU32, validRange, writeU16, writeU32 } from './bytes.js';
import { internetChecksum, pseudoSumIPv4, pseudoSumIPv6 } from './checksum.js';
import { IPProto, MAX_IPV6_EXTENSION_HEADERS } from './constants.js';
import { VirtioGsoType, VirtioNetFlag, type VirtioNetHdr } from './virtio-net-hdr.js';

const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;

/** Parse result, made once: [ipHeaderLen (with extension headers), headersLen, protocol, segments]. */
const parsed = new Int32Array(4);

/** Length of the IPv6 header plus hop-by-hop/routing/destination-options headers before `proto`, or -1. */
function ipv6HeadersLength(buf: Uint8Array, off: number, len: number, proto: number): number {
  let next = buf[off + 6];
  let at = 40;
  for (let n = 0; n <= MAX_IPV6_EXTENSION_HEADERS; n++) {
    if (next === proto) return at;
    if (next !== IPProto.HopByHop && next !== IPProto.IPv6Route && next !== IPProto.IPv6DestOpts) return -1;
    if (next === IPProto.HopByHop && n > 0) return -1; // only right after the fixed header (RFC 8200 4.3)
    if (at + 8 > len) return -1;
    // A routing header with segments left: the pseudo-header's destination would be the
    // final one, not the fixed header's; no host stack offloads such a packet, so refuse it.
    if (next === IPProto.IPv6Route && buf[off + at + 3] !== 0) return -1;
    next = buf[off + at];
    at += (buf[off + at + 1] + 1) * 8;
  }
  return -1;
}

/**
 * Checks the packet against its virtio header and fills `parsed`. Returns false when
 * anything disagrees: the caller drops the packet (offload_bad_packet).
 */
function parseGso(buf: Uint8Array, off: number, len: number, hdr: VirtioNetHdr): boolean {
  if (!validRange(buf, off, len) || len < 20) return false;
  const type = hdr.gsoType & ~VirtioGsoType.Ecn;
  const version = buf[off] >>> 4;
  let proto: number;
  if (type === VirtioGsoType.TcpV4 || type === VirtioGsoType.TcpV6) proto = IPProto.TCP;
  else if (type === VirtioGsoType.UdpL4 && hdr.gsoType === type) proto = IPProto.UDP;
  else return false;
  let ipLen: number;
  if (version === 4 && type !== VirtioGsoType.TcpV6) {
    ipLen = (buf[off] & 0x0f) * 4;
    if (ipLen < 20 || buf[off + 9] !== proto || readU16(buf, off + 2) !== len) return false;
    if ((readU16(buf, off + 6) & 0x3fff) !== 0) return false; // a fragment (MF or offset) cannot be GSO
  } else if (version === 6 && type !== VirtioGsoType.TcpV4) {
    if (len < 40 || readU16(buf, off + 4) !== len - 40) return false;
    ipLen = ipv6HeadersLength(buf, off, len, proto);
    if (ipLen < 0) return false;
  } else {
    return false;
  }
  let l4Len = 8;
  if (proto === IPProto.TCP) {
    if (ipLen + 20 > len) return false;
    l4Len = (buf[off + ipLen + 12] >>> 4) * 4;
    if (l4Len < 20) return false;
  }
  const headers = ipLen + l4Len;
  if (headers >= len || hdr.gsoSize <= 0) return false;
  if ((hdr.flags & VirtioNetFlag.NeedsCsum) !== 0 && (hdr.csumStart !== ipLen || hdr.csumOffset !== (proto === IPProto.TCP ? 16 : 6))) {
    return false;
  }
  parsed[0] = ipLen;
  parsed[1] = headers;
  parsed[2] = proto;
  parsed[3] = Math.ceil((len - headers) / hdr.gsoSize);
  return true;
}

/** True when csumStart/csumOffset put the 2-byte checksum field inside the packet. */
function partialChecksumValid(len: number, hdr: VirtioNetHdr): boolean {
  return hdr.csumStart + hdr.csumOffset + 2 <= len;
}

/** How many segments splitting the packet will give (1 when gsoType is None); -1 when malformed. */
export function segmentCount(buf: Uint8Array, off: number, len: number, hdr: VirtioNetHdr): number {
  if (hdr.gsoType === VirtioGsoType.None) {
    if (!validRange(buf, off, len) || len === 0) return -1;
    return (hdr.flags & VirtioNetFlag.NeedsCsum) === 0 || partialChecksumValid(len, hdr) ? 1 : -1;
  }
  return parseGso(buf, off, len, hdr) ? parsed[3] : -1;
}

/** True when [a, a + an) and [b, b + bn) share a byte. */
function overlaps(a: number, an: number, b: number, bn: number): boolean {
  return a < b + bn && b < a + an;
}

/** Writes segment i's headers (copied from the original at `off`, except for segment 0 in place) and checksums. */
function finishSegment(buf: Uint8Array, off: number, at: number, i: number, count: number, payloadLen: number, gsoSize: number): void {
  const ipLen = parsed[0];
  const headers = parsed[1];
  const proto = parsed[2];
  const segLen = headers + payloadLen;
  const l4 = at + ipLen;
  let pseudo: number;
  if (buf[at] >>> 4 === 4) {
    writeU16(buf, at + 2, segLen);
    writeU16(buf, at + 4, (readU16(buf, off + 4) + i) & 0xffff);
    writeU16(buf, at + 10, 0);
    writeU16(buf, at + 10, internetChecksum(buf, at, ipLen));
    pseudo = pseudoSumIPv4(readU32(buf, at + 12), readU32(buf, at + 16), proto, segLen - ipLen);
  } else {
    writeU16(buf, at + 4, segLen - 40);
    pseudo = pseudoSumIPv6(buf, at + 8, at + 24, proto, segLen - ipLen);
  }
  let csumAt = l4 + 6;
  if (proto === IPProto.TCP) {
    csumAt = l4 + 16;
    writeU32(buf, l4 + 4, (readU32(buf, off + ipLen + 4) + i * gsoSize) >>> 0);
    let flags = buf[off + ipLen + 13];
    if (i !== count - 1) flags &= ~(TCP_FIN | TCP_PSH);
    if (i !== 0) flags &= ~TCP_CWR;
    buf[l4 + 13] = flags;
  } else {
    writeU16(buf, l4 + 4, segLen - ipLen);
  }
  writeU16(buf, csumAt, 0);
  let c = internetChecksum(buf, l4, segLen - ipLen, pseudo);
  if (c === 0 && proto === IPProto.UDP) c = 0xffff;
  writeU16(buf, csumAt, c);
}

/** gsoType None: completes a NeedsCsum checksum in place (the field holds the pseudo-header sum). */
function completeChecksum(buf: Uint8Array, off: number, len: number, hdr: VirtioNetHdr): void {
  if ((hdr.flags & VirtioNetFlag.NeedsCsum) === 0) return;
  const at = off + hdr.csumStart + hdr.csumOffset;
  const initial = readU16(buf, at);
  writeU16(buf, at, 0);
  // A computed 0 goes out as 0xFFFF, as the kernel's skb_checksum_help writes it: for UDP,
  // 0 would mean "no checksum" (and is invalid over IPv6); for TCP both are the same sum.
  writeU16(buf, at, internetChecksum(buf, off + hdr.csumStart, len - hdr.csumStart, initial) || 0xffff);
}

/**
 * Splits the IP packet at buf[off, off+len) (its virtio header already read into hdr) into
 * segments: segment i at buf[dstOffsets[i] ...], at most dstCapacity bytes, its length in
 * dstLengths[i]. dstOffsets[0] may equal off: segment 0 then stays in place (the others are
 * built first, from the untouched original); every other destination must not overlap the
 * original. Per segment: IPv4 total length, ID (+i), header checksum; IPv6 payload length
 * (hop-by-hop, routing and destination-options headers kept); TCP sequence advanced, FIN
 * and PSH only on the last, CWR only on the first; UDP length; every L4 checksum in full.
 * With gsoType None the packet is one segment: a NeedsCsum checksum is completed, then the
 * packet is copied to dstOffsets[0] when that differs from off (pass off to avoid the copy).
 * Returns the segment count, -1 when malformed (caller drops: offload_bad_packet) or a
 * destination does not fit, -2 when dstOffsets or dstLengths is too short. Never throws.
 */
export function splitSegments(
  buf: Uint8Array,
  off: number,
  len: number,
  hdr: VirtioNetHdr,
  dstOffsets: Int32Array,
  dstCapacity: number,
  dstLengths: Int32Array,
): number {
  const count = segmentCount(buf, off, len, hdr);
  if (count < 0) return -1;
  if (dstOffsets.length < count || dstLengths.length < count) return -2;
  if (hdr.gsoType === VirtioGsoType.None) {
    const to = dstOffsets[0];
    if (len > dstCapacity || !validRange(buf, to, len) || (to !== off && overlaps(to, len, off, len))) return -1;
    completeChecksum(buf, off, len, hdr);
    if (to !== off) buf.copyWithin(to, off, off + len);
    dstLengths[0] = len;
    return 1;
  }
  const headers = parsed[1];
  const gsoSize = hdr.gsoSize;
  const payload = len - headers;
  for (let i = 0; i < count; i++) {
    const segLen = headers + Math.min(gsoSize, payload - i * gsoSize);
    const to = dstOffsets[i];
    if (segLen > dstCapacity || !validRange(buf, to, segLen)) return -1;
    if ((i !== 0 || to !== off) && overlaps(to, segLen, off, len)) return -1;
  }
  for (let i = count - 1; i >= 0; i--) {
    const to = dstOffsets[i];
    const payloadLen = Math.min(gsoSize, payload - i * gsoSize);
    if (to !== off) {
      buf.copyWithin(to, off, off + headers);
      buf.copyWithin(to + headers, off + headers + i * gsoSize, off + headers + i * gsoSize + payloadLen);
    }
    finishSegment(buf, off, to, i, count, payloadLen, gsoSize);
    dstLengths[i] = headers + payloadLen;
  }
  return count;
}
