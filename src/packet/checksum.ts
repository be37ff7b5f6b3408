/**
 * The Internet checksum (RFC 1071) and the pseudo-header sums of UDP/TCP/ICMPv6.
 * Incremental updates (RFC 1624) are in checksum-update.ts.
 *
 * Sums are kept as plain numbers: JavaScript doubles add 16-bit words exactly up to
 * 2^53, so summing never overflows and one fold at the end suffices. A "sum" below is
 * a ones'-complement sum folded to 16 bits and not complemented; a "checksum" is its
 * complement, the value carried on the wire.
 */
import { IPProto } from './constants.js';

/** Folds a sum of 16-bit words to 16 bits with end-around carry. */
export function foldSum(sum: number): number {
  while (sum > 0xffff) {
    const low = sum & 0xffff; // ToInt32 keeps the low 32 bits, so the low 16 are exact
    sum = low + (sum - low) / 65536;
  }
  return sum;
}

/** Below this many bytes the word loop is as fast as the 32-bit view (and needs no view). */
const WIDE_MIN_BYTES = 64;
/** The 32-bit words read below are little-endian; a big-endian host takes the byte loop. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/**
 * 32-bit views of the last few backing stores summed, made once each (in the daemon there
 * is one: the pool's slab). Round-robin, so a caller alternating between a handful of
 * buffers, as tests do, allocates nothing per call either.
 */
const VIEW_CACHE = 4;
const viewBacking: (ArrayBufferLike | null)[] = [null, null, null, null];
const viewWords: Uint32Array[] = [new Uint32Array(0), new Uint32Array(0), new Uint32Array(0), new Uint32Array(0)];
let viewNext = 0;

/** A Uint32Array over the whole backing store of buf (index = byte offset in it / 4; the index arithmetic is 32-bit, fine for the pool's slab of at most 1 GiB). */
function wordsOf(buf: Uint8Array): Uint32Array {
  const backing = buf.buffer;
  for (let k = 0; k < VIEW_CACHE; k++) if (viewBacking[k] === backing) return viewWords[k];
  const k = viewNext;
  viewNext = (viewNext + 1) % VIEW_CACHE;
  viewBacking[k] = backing;
  viewWords[k] = new Uint32Array(backing, 0, backing.byteLength >>> 2);
  return viewWords[k];
}

/** Swaps the two bytes of a folded 16-bit sum. */
function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

/**
 * Ones'-complement sum of the big-endian 16-bit words of buf[off, off + len), plus
 * `initial` (another sum, e.g. a pseudo-header's), folded. An odd last byte is padded
 * with zero, as RFC 1071 says. Bytes outside buf count as zero (never NaN).
 *
 * Long ranges at an even address are summed as little-endian
 * 32-bit words and the folded sum byte-swapped (RFC 1071's byte-order independence):
 * about twice as fast for a 1400-byte segment, whose checksum the TUN offloads
 * verify or complete for every packet.
 */
export function onesSum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  if (len >= WIDE_MIN_BYTES && LITTLE_ENDIAN && ((buf.byteOffset + off) & 1) === 0 && off >= 0 && off + len <= buf.length) {
    return foldSum(swap16(wideSum(buf, off, len)) + initial);
  }
  // Four words per turn into two sums: about 15% faster than one word per turn in V8.
  let s0 = initial;
  let s1 = 0;
  let i = off;
  const end8 = off + (len & ~7);
  for (; i < end8; i += 8) {
    s0 += ((buf[i] << 8) | buf[i + 1]) + ((buf[i + 4] << 8) | buf[i + 5]);
    s1 += ((buf[i + 2] << 8) | buf[i + 3]) + ((buf[i + 6] << 8) | buf[i + 7]);
  }
  const end = off + len - 1;
  for (; i < end; i += 2) s0 += (buf[i] << 8) | buf[i + 1];
  if (i === end) s0 += buf[i] << 8;
  return foldSum(s0 + s1);
}

/** Folded sum of buf[off, off + len) read as little-endian 16-bit words (buf.byteOffset + off even, in bounds). */
function wideSum(buf: Uint8Array, off: number, len: number): number {
  // Absolute byte positions in the backing store, where the 32-bit view is aligned.
  const base = buf.byteOffset;
  const end = base + off + len;
  let sum = 0;
  let i = base + off;
  if ((i & 2) !== 0) {
    sum += buf[i - base] | (buf[i - base + 1] << 8);
    i += 2;
  }
  const words = wordsOf(buf);
  // A 32-bit word is two 16-bit words, the high one times 65536, which folding reduces to 1.
  // Doubles stay exact: 16,384 words of 2^32 for 64 KiB is under 2^47.
  const last = end >>> 2;
  let s1 = 0;
  let j = i >>> 2;
  for (; j + 1 < last; j += 2) {
    sum += words[j];
    s1 += words[j + 1];
  }
  if (j < last) sum += words[j++];
  for (i = (j << 2) - base; i + 1 < end - base; i += 2) sum += buf[i] | (buf[i + 1] << 8);
  if (i < end - base) sum += buf[i];
  // Folded here, not by foldSum: a double passed to or returned from a call that is not
  // inlined is boxed, one heap number per packet.
  let t = sum + s1;
  while (t > 0xffff) {
    const low = t & 0xffff;
    t = low + (t - low) / 65536;
  }
  return t;
}

/** The checksum to write: complement of the sum of the range (plus `initial`). */
export function internetChecksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  return ~onesSum(buf, off, len, initial) & 0xffff;
}

/** Sum of the IPv4 pseudo-header (RFC 768/793): addresses, protocol, upper-layer length. */
export function pseudoSumIPv4(src: number, dst: number, protocol: number, length: number): number {
  return foldSum((src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length);
}

/**
 * Sum of the IPv6 pseudo-header (RFC 8200 8.1): 16-byte addresses read from buf at
 * srcOff and dstOff, 32-bit upper-layer length, next header.
 */
export function pseudoSumIPv6(buf: Uint8Array, srcOff: number, dstOff: number, protocol: number, length: number): number {
  let sum = protocol + (length >>> 16) + (length & 0xffff);
  for (let i = 0; i < 16; i += 2) {
    sum += ((buf[srcOff + i] << 8) | buf[srcOff + i + 1]) + ((buf[dstOff + i] << 8) | buf[dstOff + i + 1]);
  }
  return foldSum(sum);
}

/** Where the checksum field sits in a transport header, or -1 for other protocols. */
function transportChecksumOffset(protocol: number): number {
  switch (protocol) {
    case IPProto.TCP:
      return 16;
    case IPProto.UDP:
      return 6;
    case IPProto.ICMP:
    case IPProto.ICMPv6:
      return 2;
    default:
      return -1;
  }
}

/**
 * Computes and writes the checksum of the transport segment buf[off, off + len) carried
 * by IPv4 from src to dst: TCP and UDP include the pseudo-header, ICMP does not. UDP's
 * computed 0 is sent as 0xFFFF (0 means "no checksum"). Returns the value written, or -1
 * for a protocol without a known checksum field.
 */
export function setTransportChecksumIPv4(buf: Uint8Array, off: number, len: number, protocol: number, src: number, dst: number): number {
  const at = transportChecksumOffset(protocol);
  if (at < 0 || protocol === IPProto.ICMPv6) return -1;
  buf[off + at] = 0;
  buf[off + at + 1] = 0;
  const initial = protocol === IPProto.ICMP ? 0 : pseudoSumIPv4(src, dst, protocol, len);
  let c = internetChecksum(buf, off, len, initial);
  if (c === 0 && protocol === IPProto.UDP) c = 0xffff;
  buf[off + at] = c >>> 8;
  buf[off + at + 1] = c;
  return c;
}

/** As setTransportChecksumIPv4, over IPv6 (ICMPv6 has a pseudo-header; ICMPv4 is not allowed). */
export function setTransportChecksumIPv6(
  buf: Uint8Array,
  off: number,
  len: number,
  protocol: number,
  srcOff: number,
  dstOff: number,
): number {
  const at = transportChecksumOffset(protocol);
  if (at < 0 || protocol === IPProto.ICMP) return -1;
  buf[off + at] = 0;
  buf[off + at + 1] = 0;
  let c = internetChecksum(buf, off, len, pseudoSumIPv6(buf, srcOff, dstOff, protocol, len));
  if (c === 0 && protocol === IPProto.UDP) c = 0xffff;
  buf[off + at] = c >>> 8;
  buf[off + at + 1] = c;
  return c;
}

/**
 * Verifies a transport segment's checksum over IPv4. UDP with checksum 0 was sent
 * without one and is accepted (RFC 768). Unknown protocols verify as false.
 */
export function transportChecksumValidIPv4(buf: Uint8Array, off: number, len: number, protocol: number, src: number, dst: number): boolean {
  const at = transportChecksumOffset(protocol);
  if (at < 0 || protocol === IPProto.ICMPv6 || len < at + 2) return false;
  if (protocol === IPProto.ICMP) return onesSum(buf, off, len) === 0xffff;
  if (protocol === IPProto.UDP && buf[off + 6] === 0 && buf[off + 7] === 0) return true;
  return onesSum(buf, off, len, pseudoSumIPv4(src, dst, protocol, len)) === 0xffff;
}

/** Verifies over IPv6, where a zero UDP checksum is invalid (RFC 8200 8.1). */
export function transportChecksumValidIPv6(
  buf: Uint8Array,
  off: number,
  len: number,
  protocol: number,
  srcOff: number,
  dstOff: number,
): boolean {
  const at = transportChecksumOffset(protocol);
  if (at < 0 || protocol === IPProto.ICMP || len < at + 2) return false;
  if (protocol === IPProto.UDP && buf[off + 6] === 0 && buf[off + 7] === 0) return false;
  return onesSum(buf, off, len, pseudoSumIPv6(buf, srcOff, dstOff, protocol, len)) === 0xffff;
}
