/**
 * Network-byte-order reads and writes by plain byte arithmetic, and the range check
 * every parser starts with. Small enough for V8 to inline; no DataView per packet.
 */

/**
 * True when [off, off + len) is a real range of buf: integers, non-negative, inside.
 * Parsers call it first, so a bad offset or length becomes a drop, never a throw or a
 * read of `undefined`.
 */
export function validRange(buf: Uint8Array, off: number, len: number): boolean {
  return off >= 0 && len >= 0 && off + len <= buf.length && Number.isInteger(off) && Number.isInteger(len);
}

export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

/** Unsigned 32-bit value (>>> 0), e.g. an IPv4 address or a TCP sequence number. */
export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

export function writeU16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 8;
  buf[off + 1] = v;
}

export function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24;
  buf[off + 1] = v >>> 16;
  buf[off + 2] = v >>> 8;
  buf[off + 3] = v;
}

/**
 * Copies n bytes; overlapping ranges of one buffer are handled (copyWithin is a
 * memmove). No subarray views, so nothing is allocated.
 */
export function copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void {
  if (src === dst) {
    if (srcOff !== dstOff) dst.copyWithin(dstOff, srcOff, srcOff + n);
    return;
  }
  // Two views of one ArrayBuffer may overlap too: copy backwards when dst is ahead.
  if (src.buffer === dst.buffer && dst.byteOffset + dstOff > src.byteOffset + srcOff) {
    for (let i = n - 1; i >= 0; i--) dst[dstOff + i] = src[srcOff + i];
    return;
  }
  for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i];
}

/** True when the n bytes at a[aOff] equal those at b[bOff] (IPv6 addresses, MACs). */
export function bytesEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}
