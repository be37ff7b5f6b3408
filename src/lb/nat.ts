/**
 * Address and port translation in place, with checksums updated incrementally (RFC 1624):
 * a translated packet costs a few word adjustments, never a re-sum of its data. The new
 * tuple is read from the connection table (the inverse of the other direction's tuple),
 * so one function serves DNAT, SNAT and their reverse.
 *
 * ICMP errors about a flow are translated too, outer header and quoted packet alike (the
 * quote must look like what its receiver sent). Their ICMP checksum is verified first and
 * then recomputed over the message (at most 576 / 1280 bytes, and rare), because every
 * quoted field changes; the quoted IP and transport checksums are adjusted incrementally.
 */
import { readU16, readU32, writeU16, writeU32 } from '../packet/bytes.js';
import { checksumAdjust16, checksumAdjust32, checksumAdjustBytes, udpChecksumAdjust16, udpChecksumAdjust32, udpChecksumAdjustBytes } from '../packet/checksum-update.js';
import { internetChecksum, onesSum, pseudoSumIPv6 } from '../packet/checksum.js';
import { IPProto } from '../packet/constants.js';

/** Where a transport header's checksum sits, or -1 (not TCP/UDP). */
function checksumAt(proto: number): number {
  return proto === IPProto.TCP ? 16 : proto === IPProto.UDP ? 6 : -1;
}

/**
 * Rewrites the packet at buf[ipOff] (IP version `family`, transport `proto` at l4Off with
 * `l4Avail` bytes of it present) to src:sport → dst:dport, the addresses read from
 * addrs[srcOff] and addrs[dstOff]. Adjusts the IPv4 header checksum, and the transport
 * checksum when its field is present (a quoted packet may be cut short). UDP over IPv4
 * keeps a zero ("none") checksum zero.
 */
export function rewriteTuple(
  buf: Uint8Array,
  ipOff: number,
  family: number,
  proto: number,
  l4Off: number,
  l4Avail: number,
  addrs: Uint8Array,
  srcOff: number,
  sport: number,
  dstOff: number,
  dport: number,
): void {
  const at = checksumAt(proto);
  const hasCheck = at >= 0 && l4Avail >= at + 2;
  const udp = proto === IPProto.UDP;
  let l4 = hasCheck ? readU16(buf, l4Off + at) : 0;
  if (family === 4) {
    let ip = readU16(buf, ipOff + 10);
    const oldSrc = readU32(buf, ipOff + 12);
    const newSrc = readU32(addrs, srcOff);
    if (oldSrc !== newSrc) {
      ip = checksumAdjust32(ip, oldSrc, newSrc);
      if (hasCheck) l4 = udp ? udpChecksumAdjust32(l4, oldSrc, newSrc) : checksumAdjust32(l4, oldSrc, newSrc);
      writeU32(buf, ipOff + 12, newSrc);
    }
    const oldDst = readU32(buf, ipOff + 16);
    const newDst = readU32(addrs, dstOff);
    if (oldDst !== newDst) {
      ip = checksumAdjust32(ip, oldDst, newDst);
      if (hasCheck) l4 = udp ? udpChecksumAdjust32(l4, oldDst, newDst) : checksumAdjust32(l4, oldDst, newDst);
      writeU32(buf, ipOff + 16, newDst);
    }
    writeU16(buf, ipOff + 10, ip);
  } else {
    if (!sameAddress16(buf, ipOff + 8, addrs, srcOff)) {
      if (hasCheck) l4 = udp ? udpChecksumAdjustBytes(l4, buf, ipOff + 8, addrs, srcOff, 16) : checksumAdjustBytes(l4, buf, ipOff + 8, addrs, srcOff, 16);
      copy16(addrs, srcOff, buf, ipOff + 8);
    }
    if (!sameAddress16(buf, ipOff + 24, addrs, dstOff)) {
      if (hasCheck) l4 = udp ? udpChecksumAdjustBytes(l4, buf, ipOff + 24, addrs, dstOff, 16) : checksumAdjustBytes(l4, buf, ipOff + 24, addrs, dstOff, 16);
      copy16(addrs, dstOff, buf, ipOff + 24);
    }
  }
  if (l4Avail >= 4) {
    const oldSport = readU16(buf, l4Off);
    if (oldSport !== sport) {
      if (hasCheck) l4 = udp ? udpChecksumAdjust16(l4, oldSport, sport) : checksumAdjust16(l4, oldSport, sport);
      writeU16(buf, l4Off, sport);
    }
    const oldDport = readU16(buf, l4Off + 2);
    if (oldDport !== dport) {
      if (hasCheck) l4 = udp ? udpChecksumAdjust16(l4, oldDport, dport) : checksumAdjust16(l4, oldDport, dport);
      writeU16(buf, l4Off + 2, dport);
    }
  }
  if (hasCheck) writeU16(buf, l4Off + at, l4);
}

/** True when the ICMP message at buf[icmpOff, +icmpLen) has a valid checksum (ICMPv6: with its pseudo-header). */
export function icmpChecksumValid(buf: Uint8Array, ipOff: number, family: number, icmpOff: number, icmpLen: number): boolean {
  if (family === 4) return onesSum(buf, icmpOff, icmpLen) === 0xffff;
  return onesSum(buf, icmpOff, icmpLen, pseudoSumIPv6(buf, ipOff + 8, ipOff + 24, IPProto.ICMPv6, icmpLen)) === 0xffff;
}

/**
 * Translates an ICMP error in place: the outer addresses become addrs[outerSrcOff] →
 * addrs[outerDstOff]; the quoted packet (its IP header at innerOff, its transport header
 * at innerL4Off with innerL4Avail bytes quoted) becomes innerSrc:innerSport →
 * innerDst:innerDport. Then the ICMP checksum is recomputed.
 */
export function rewriteIcmpError(
  buf: Uint8Array,
  ipOff: number,
  family: number,
  icmpOff: number,
  icmpLen: number,
  innerOff: number,
  innerProto: number,
  innerL4Off: number,
  innerL4Avail: number,
  addrs: Uint8Array,
  outerSrcOff: number,
  outerDstOff: number,
  innerSrcOff: number,
  innerSport: number,
  innerDstOff: number,
  innerDport: number,
): void {
  rewriteTuple(buf, innerOff, family, innerProto, innerL4Off, innerL4Avail, addrs, innerSrcOff, innerSport, innerDstOff, innerDport);
  if (family === 4) {
    let ip = readU16(buf, ipOff + 10);
    const oldSrc = readU32(buf, ipOff + 12);
    const newSrc = readU32(addrs, outerSrcOff);
    const oldDst = readU32(buf, ipOff + 16);
    const newDst = readU32(addrs, outerDstOff);
    if (oldSrc !== newSrc) ip = checksumAdjust32(ip, oldSrc, newSrc);
    if (oldDst !== newDst) ip = checksumAdjust32(ip, oldDst, newDst);
    writeU32(buf, ipOff + 12, newSrc);
    writeU32(buf, ipOff + 16, newDst);
    writeU16(buf, ipOff + 10, ip);
    buf[icmpOff + 2] = 0;
    buf[icmpOff + 3] = 0;
    writeU16(buf, icmpOff + 2, internetChecksum(buf, icmpOff, icmpLen));
    return;
  }
  copy16(addrs, outerSrcOff, buf, ipOff + 8);
  copy16(addrs, outerDstOff, buf, ipOff + 24);
  buf[icmpOff + 2] = 0;
  buf[icmpOff + 3] = 0;
  writeU16(buf, icmpOff + 2, internetChecksum(buf, icmpOff, icmpLen, pseudoSumIPv6(buf, ipOff + 8, ipOff + 24, IPProto.ICMPv6, icmpLen)));
}

function sameAddress16(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  for (let i = 0; i < 16; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

function copy16(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
  for (let i = 0; i < 16; i++) dst[dstOff + i] = src[srcOff + i];
}
