/**
 * Incremental checksum update (RFC 1624) for NAT rewrites: when a load balancer changes
 * an address or a port, the IP and transport checksums are fixed from the old and new
 * field values alone, without re-summing the packet. Call before overwriting the field.
 */
import { foldSum } from './checksum.js';

/**
 * RFC 1624 eqn. 3: the checksum after a 16-bit word covered by it changes from
 * oldWord to newWord, HC' = ~(~HC + ~m + m'). Unlike eqn. 2 it never yields 0xFFFF
 * for a sum that a full recompute gives as 0x0000 (RFC 1624 section 4). It equals a
 * full recompute whenever the covered data is not all zero after the change (always
 * so under an IP header or a pseudo-header); for all-zero data it gives 0x0000 where
 * a recompute gives 0xFFFF.
 */
export function checksumAdjust16(check: number, oldWord: number, newWord: number): number {
  return ~foldSum((~check & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/** checksumAdjust16 for a 32-bit field (an IPv4 address, a TCP sequence number). */
export function checksumAdjust32(check: number, oldValue: number, newValue: number): number {
  return (
    ~foldSum(
      (~check & 0xffff) + (~(oldValue >>> 16) & 0xffff) + (~oldValue & 0xffff) + (newValue >>> 16) + (newValue & 0xffff),
    ) & 0xffff
  );
}

/**
 * checksumAdjust16 for an even-length byte field changing from oldBuf[oldOff..] to
 * newBuf[newOff..] (an IPv6 address: len 16). Call it before overwriting the field.
 */
export function checksumAdjustBytes(check: number, oldBuf: Uint8Array, oldOff: number, newBuf: Uint8Array, newOff: number, len: number): number {
  let sum = ~check & 0xffff;
  for (let i = 0; i + 1 < len; i += 2) {
    sum += (~((oldBuf[oldOff + i] << 8) | oldBuf[oldOff + i + 1]) & 0xffff) + ((newBuf[newOff + i] << 8) | newBuf[newOff + i + 1]);
  }
  return ~foldSum(sum) & 0xffff;
}

/**
 * UDP flavour of checksumAdjust16: a 0 checksum (IPv4 "none") stays 0, and a result of
 * 0 is sent as 0xFFFF (RFC 768).
 */
export function udpChecksumAdjust16(check: number, oldWord: number, newWord: number): number {
  if (check === 0) return 0;
  const c = checksumAdjust16(check, oldWord, newWord);
  return c === 0 ? 0xffff : c;
}

/** UDP flavour of checksumAdjust32. */
export function udpChecksumAdjust32(check: number, oldValue: number, newValue: number): number {
  if (check === 0) return 0;
  const c = checksumAdjust32(check, oldValue, newValue);
  return c === 0 ? 0xffff : c;
}

/** UDP flavour of checksumAdjustBytes. */
export function udpChecksumAdjustBytes(check: number, oldBuf: Uint8Array, oldOff: number, newBuf: Uint8Array, newOff: number, len: number): number {
  if (check === 0) return 0;
  const c = checksumAdjustBytes(check, oldBuf, oldOff, newBuf, newOff, len);
  return c === 0 ? 0xffff : c;
}
