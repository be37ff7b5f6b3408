/**
 * Ethernet II frames (IEEE 802.3) with at most one 802.1Q tag, for the VXLAN inner
 * frame and a TAP. MAC addresses stay in the buffer; the view records offsets, and
 * readMac48 gives a number key (48 bits fit a double exactly) for tables.
 */
import { DropReason, type DropReasonValue } from '../stats/drop-reasons.js';
import { copyBytes, readU16, validRange, writeU16 } from './bytes.js';
import { ETHERNET_HEADER_LENGTH, EtherType, MAC_LENGTH, VLAN_TAG_LENGTH } from './constants.js';

export class EthernetHeader {
  /** Absolute offsets of the destination and source MAC addresses (6 bytes each). */
  dstOffset = 0;
  srcOffset = 0;
  /** EtherType of the payload (after the tag, when tagged). */
  etherType = 0;
  /** Tag control information (PCP, DEI, VLAN id) of an 802.1Q tag, or -1 when untagged. */
  vlanTci = -1;
  /** 14, or 18 with a tag. */
  headerLength = 0;
  /** Absolute offset and length of the payload (to the end of the frame, padding included). */
  payloadOffset = 0;
  payloadLength = 0;

  /** VLAN id (12 bits) of the tag, or -1. */
  get vlanId(): number {
    return this.vlanTci < 0 ? -1 : this.vlanTci & 0x0fff;
  }
}

/**
 * Parses the frame at buf[off, off + len) (no preamble, no FCS). Returns DropReason.None
 * or Truncated (header or tag cut short, off/len outside buf). A second tag (QinQ) is
 * not unwrapped: etherType is then 0x8100/0x88a8 and the caller drops it.
 */
export function parseEthernet(buf: Uint8Array, off: number, len: number, out: EthernetHeader): DropReasonValue {
  if (!validRange(buf, off, len) || len < ETHERNET_HEADER_LENGTH) return DropReason.Truncated;
  let type = readU16(buf, off + 12);
  let hl = ETHERNET_HEADER_LENGTH;
  out.vlanTci = -1;
  if (type === EtherType.VLAN) {
    if (len < ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH) return DropReason.Truncated;
    out.vlanTci = readU16(buf, off + 14);
    type = readU16(buf, off + 16);
    hl += VLAN_TAG_LENGTH;
  }
  out.dstOffset = off;
  out.srcOffset = off + MAC_LENGTH;
  out.etherType = type;
  out.headerLength = hl;
  out.payloadOffset = off + hl;
  out.payloadLength = len - hl;
  return DropReason.None;
}

/**
 * Writes a header at buf[off] with MACs copied from dst[dstOff] and src[srcOff], and an
 * 802.1Q tag when vlanTci >= 0. Returns 14 or 18.
 */
export function writeEthernetHeader(
  buf: Uint8Array,
  off: number,
  dst: Uint8Array,
  dstOff: number,
  src: Uint8Array,
  srcOff: number,
  etherType: number,
  vlanTci = -1,
): number {
  copyBytes(dst, dstOff, buf, off, MAC_LENGTH);
  copyBytes(src, srcOff, buf, off + MAC_LENGTH, MAC_LENGTH);
  if (vlanTci < 0) {
    writeU16(buf, off + 12, etherType);
    return ETHERNET_HEADER_LENGTH;
  }
  writeU16(buf, off + 12, EtherType.VLAN);
  writeU16(buf, off + 14, vlanTci);
  writeU16(buf, off + 16, etherType);
  return ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH;
}

/**
 * Readdresses the frame at buf[off] as a reply in place: the old source becomes the
 * destination and the MAC at mac[macOff] the source. Tag and EtherType are kept.
 */
export function ethernetReplyInPlace(buf: Uint8Array, off: number, mac: Uint8Array, macOff: number): void {
  copyBytes(buf, off + MAC_LENGTH, buf, off, MAC_LENGTH);
  copyBytes(mac, macOff, buf, off + MAC_LENGTH, MAC_LENGTH);
}

/** The 6-byte MAC at buf[off] as a number (0 .. 2^48 - 1), e.g. as an FDB key. */
export function readMac48(buf: Uint8Array, off: number): number {
  return ((buf[off] << 8) | buf[off + 1]) * 0x100000000 + (((buf[off + 2] << 24) | (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5]) >>> 0);
}

/** Writes a MAC held as a number by readMac48. */
export function writeMac48(buf: Uint8Array, off: number, mac: number): void {
  const hi = Math.floor(mac / 0x100000000);
  const lo = mac >>> 0;
  buf[off] = hi >>> 8;
  buf[off + 1] = hi;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = lo >>> 16;
  buf[off + 4] = lo >>> 8;
  buf[off + 5] = lo;
}

/** Group bit: broadcast and multicast destinations. */
export function isMulticastMac(buf: Uint8Array, off: number): boolean {
  return (buf[off] & 1) !== 0;
}
