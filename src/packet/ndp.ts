/**
 * IPv6 neighbour discovery (RFC 4861), the two messages a VTEP answers for: a neighbour
 * solicitation is checked as §7.1.1 asks (hop limit 255, code 0, checksum, a unicast
 * target, well-formed options, no source link-layer option from the unspecified
 * address) and turned in place into the neighbour advertisement that answers it.
 * Only solicitations with ICMPv6 directly after the fixed header are understood.
 */
import { DropReason, type DropReasonValue } from '../stats/drop-reasons.js';
import { copyBytes, readU16, validRange, writeU16 } from './bytes.js';
import { pseudoSumIPv6, internetChecksum, onesSum } from './checksum.js';
import { IPProto, IPV6_HEADER_LENGTH, MAC_LENGTH } from './constants.js';

export const NdpType = {
  RouterSolicitation: 133,
  RouterAdvertisement: 134,
  NeighborSolicitation: 135,
  NeighborAdvertisement: 136,
} as const;

/** Type, code, checksum, reserved/flags, 16-byte target. */
const NDP_NEIGHBOR_MESSAGE_LENGTH = 24;
/** A neighbour advertisement with its target link-layer address option. */
const NDP_ADVERTISEMENT_LENGTH = NDP_NEIGHBOR_MESSAGE_LENGTH + 8;
const OPTION_SOURCE_LINK_ADDRESS = 1;
const OPTION_TARGET_LINK_ADDRESS = 2;
const FLAG_SOLICITED = 0x40;
const FLAG_OVERRIDE = 0x20;
const NDP_HOP_LIMIT = 255;

/** A parsed solicitation. Owned by the caller and refilled by every parse. */
export class NeighborSolicitation {
  /** Absolute offset of the 16-byte target address. */
  targetOffset = 0;
  /** The sender is doing duplicate address detection (source ::). */
  unspecifiedSource = false;
}

/** True when the 16 bytes at buf[off] are ::. */
function isUnspecified(buf: Uint8Array, off: number): boolean {
  for (let i = 0; i < 16; i++) if (buf[off + i] !== 0) return false;
  return true;
}

/**
 * True when the IPv6 packet at buf[off, off + len) is ICMPv6 of the given type directly
 * after the fixed header (a cheap test before parseNeighborSolicitation).
 */
export function isIcmpv6Type(buf: Uint8Array, off: number, len: number, type: number): boolean {
  return validRange(buf, off, len) && len > IPV6_HEADER_LENGTH && buf[off + 6] === IPProto.ICMPv6 && buf[off + IPV6_HEADER_LENGTH] === type;
}

/**
 * Parses the IPv6 packet at buf[off, off + len) as a neighbour solicitation. Returns
 * DropReason.None, Truncated, BadVersion, BadTotalLength, UnsupportedProtocol (not a solicitation,
 * or one RFC 4861 §7.1.1 says to discard) or BadChecksum.
 */
export function parseNeighborSolicitation(buf: Uint8Array, off: number, len: number, out: NeighborSolicitation): DropReasonValue {
  if (!validRange(buf, off, len) || len < IPV6_HEADER_LENGTH + NDP_NEIGHBOR_MESSAGE_LENGTH) return DropReason.Truncated;
  if (buf[off] >>> 4 !== 6) return DropReason.BadVersion;
  const payload = readU16(buf, off + 4);
  if (IPV6_HEADER_LENGTH + payload > len) return DropReason.BadTotalLength;
  if (payload < NDP_NEIGHBOR_MESSAGE_LENGTH) return DropReason.Truncated;
  const icmp = off + IPV6_HEADER_LENGTH;
  if (buf[off + 6] !== IPProto.ICMPv6 || buf[icmp] !== NdpType.NeighborSolicitation || buf[icmp + 1] !== 0) return DropReason.UnsupportedProtocol;
  if (buf[off + 7] !== NDP_HOP_LIMIT || buf[icmp + 8] === 0xff) return DropReason.UnsupportedProtocol;
  if (onesSum(buf, icmp, payload, pseudoSumIPv6(buf, off + 8, off + 24, IPProto.ICMPv6, payload)) !== 0xffff) return DropReason.BadChecksum;
  const unspecified = isUnspecified(buf, off + 8);
  const end = icmp + payload;
  for (let p = icmp + NDP_NEIGHBOR_MESSAGE_LENGTH; p < end; ) {
    if (p + 2 > end) return DropReason.Truncated;
    const optLen = buf[p + 1] << 3;
    if (optLen === 0 || p + optLen > end) return DropReason.UnsupportedProtocol;
    if (unspecified && buf[p] === OPTION_SOURCE_LINK_ADDRESS) return DropReason.UnsupportedProtocol;
    p += optLen;
  }
  out.targetOffset = icmp + 8;
  out.unspecifiedSource = unspecified;
  return DropReason.None;
}

/**
 * Turns the solicitation parsed into ns (the IPv6 packet at buf[off]) into the
 * advertisement "target is at mac[macOff]", in place: from the target, to the sender (or
 * to all nodes, ff02::1, answering duplicate address detection), Solicited and Override
 * set as a host answers for its own address. capacity is the room at buf[off]. Returns
 * the new packet's length (72), or 0 when it does not fit.
 */
export function neighborAdvertisementInPlace(buf: Uint8Array, off: number, capacity: number, ns: NeighborSolicitation, mac: Uint8Array, macOff: number): number {
  const total = IPV6_HEADER_LENGTH + NDP_ADVERTISEMENT_LENGTH;
  if (capacity < total || !validRange(buf, off, total)) return 0;
  const icmp = off + IPV6_HEADER_LENGTH;
  // Destination first (it comes from the source field), then the source from the target.
  if (ns.unspecifiedSource) {
    buf.fill(0, off + 24, off + 40);
    buf[off + 24] = 0xff;
    buf[off + 25] = 0x02;
    buf[off + 39] = 0x01;
  } else {
    copyBytes(buf, off + 8, buf, off + 24, 16);
  }
  // The target stays where it is (icmp + 8): parse accepts no extension headers.
  copyBytes(buf, ns.targetOffset, buf, off + 8, 16);
  buf[off] = 0x60;
  buf[off + 1] = 0;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  writeU16(buf, off + 4, NDP_ADVERTISEMENT_LENGTH);
  buf[off + 6] = IPProto.ICMPv6;
  buf[off + 7] = NDP_HOP_LIMIT;
  buf[icmp] = NdpType.NeighborAdvertisement;
  buf[icmp + 1] = 0;
  buf[icmp + 2] = 0;
  buf[icmp + 3] = 0;
  buf[icmp + 4] = ns.unspecifiedSource ? FLAG_OVERRIDE : FLAG_SOLICITED | FLAG_OVERRIDE;
  buf[icmp + 5] = 0;
  buf[icmp + 6] = 0;
  buf[icmp + 7] = 0;
  buf[icmp + 24] = OPTION_TARGET_LINK_ADDRESS;
  buf[icmp + 25] = 1;
  copyBytes(mac, macOff, buf, icmp + 26, MAC_LENGTH);
  writeU16(buf, icmp + 2, internetChecksum(buf, icmp, NDP_ADVERTISEMENT_LENGTH, pseudoSumIPv6(buf, off + 8, off + 24, IPProto.ICMPv6, NDP_ADVERTISEMENT_LENGTH)));
  return total;
}
