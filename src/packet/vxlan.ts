/**
 * The VXLAN header (RFC 7348 §5), the 8 bytes between the outer UDP header and the inner
 * Ethernet frame:
 *
 *   0        1        2        3
 *   RRRRIRRR reserved (24 bits)
 *   VNI (24 bits)              reserved (8 bits)
 *
 * On send the I flag is set and every reserved bit is zero. On receive a missing I flag is
 * a bad header and, as the Linux kernel does (RFC 7348 says "ignore"), any reserved bit
 * set is a drop too: the kernel counts those as frame errors, and a ferry VTEP should
 * accept exactly what a kernel VTEP accepts.
 */
import { DropReason, type DropReasonValue } from '../stats/drop-reasons.js';
import { validRange } from './bytes.js';

export const VXLAN_HEADER_LENGTH = 8;
/** The I flag: the VNI field is valid. */
const VXLAN_FLAG_VNI = 0x08;
export const VXLAN_VNI_MAX = 0xffffff;

/** Fields of one VXLAN header. Owned by the caller and refilled by every parse. */
export class VxlanHeader {
  vni = 0;
  /** Absolute offset of the inner Ethernet frame, and its length. */
  frameOffset = 0;
  frameLength = 0;
}

/**
 * Parses the VXLAN datagram (UDP payload) at buf[off, off + len). Returns DropReason.None,
 * or Truncated (fewer than 8 bytes, or off/len outside buf), VxlanBadHeader (I flag not
 * set), VxlanReservedBits (any reserved bit set). The VNI is the caller's to check.
 */
export function parseVxlan(buf: Uint8Array, off: number, len: number, out: VxlanHeader): DropReasonValue {
  if (!validRange(buf, off, len) || len < VXLAN_HEADER_LENGTH) return DropReason.Truncated;
  const flags = buf[off];
  if ((flags & VXLAN_FLAG_VNI) === 0) return DropReason.VxlanBadHeader;
  if ((flags & ~VXLAN_FLAG_VNI) !== 0 || buf[off + 1] !== 0 || buf[off + 2] !== 0 || buf[off + 3] !== 0 || buf[off + 7] !== 0) {
    return DropReason.VxlanReservedBits;
  }
  out.vni = (buf[off + 4] << 16) | (buf[off + 5] << 8) | buf[off + 6];
  out.frameOffset = off + VXLAN_HEADER_LENGTH;
  out.frameLength = len - VXLAN_HEADER_LENGTH;
  return DropReason.None;
}

/** Writes the 8-byte header for vni (0..2^24-1) at buf[off]; returns 8. The caller checks that it fits. */
export function writeVxlanHeader(buf: Uint8Array, off: number, vni: number): number {
  buf[off] = VXLAN_FLAG_VNI;
  buf[off + 1] = 0;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  buf[off + 4] = vni >>> 16;
  buf[off + 5] = vni >>> 8;
  buf[off + 6] = vni;
  buf[off + 7] = 0;
  return VXLAN_HEADER_LENGTH;
}
