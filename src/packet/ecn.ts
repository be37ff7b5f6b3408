/**
 * ECN through a tunnel (RFC 6040). Decapsulation combines the outer header's ECN field
 * with the inner packet's, as the table of RFC 6040 §4.2 says and as Linux's
 * INET_ECN_decapsulate does: congestion experienced outside becomes CE inside (or a drop,
 * when the inner packet cannot carry it), ECT(1) outside upgrades an inner ECT(0).
 * Encapsulation copies the inner field out, CE as ECT(0) (Linux's INET_ECN_encapsulate).
 */
import { readU16, writeU16 } from './bytes.js';
import { checksumAdjust16 } from './checksum-update.js';

export const Ecn = {
  NotEct: 0,
  Ect1: 1,
  Ect0: 2,
  Ce: 3,
} as const;

/** The inner ECN field after decapsulation, or -1 when the packet must be dropped (outer CE, inner Not-ECT). */
export function ecnDecapsulate(outer: number, inner: number): number {
  outer &= 3;
  inner &= 3;
  if (inner === Ecn.NotEct) return outer === Ecn.Ce ? -1 : Ecn.NotEct;
  if (outer === Ecn.Ce) return Ecn.Ce;
  if (outer === Ecn.Ect1 && inner === Ecn.Ect0) return Ecn.Ect1;
  return inner;
}

/** The outer ECN field for an inner one: copied, CE sent as ECT(0). */
export function ecnEncapsulate(inner: number): number {
  inner &= 3;
  return inner === Ecn.Ce ? Ecn.Ect0 : inner;
}

/** ECN field of the IP packet at buf[off] (version read from it; the caller checked the length). */
export function ipEcn(buf: Uint8Array, off: number): number {
  return buf[off] >>> 4 === 4 ? buf[off + 1] & 3 : (buf[off + 1] >>> 4) & 3;
}

/**
 * Sets the ECN field of the IP packet at buf[off]: IPv4 with the header checksum updated
 * incrementally, IPv6 in the traffic class. The caller checked 20 (or 40) bytes.
 */
export function setIpEcn(buf: Uint8Array, off: number, ecn: number): void {
  if (buf[off] >>> 4 === 4) {
    const oldWord = readU16(buf, off);
    buf[off + 1] = (buf[off + 1] & 0xfc) | (ecn & 3);
    writeU16(buf, off + 10, checksumAdjust16(readU16(buf, off + 10), oldWord, readU16(buf, off)));
    return;
  }
  buf[off + 1] = (buf[off + 1] & 0xcf) | ((ecn & 3) << 4);
}
