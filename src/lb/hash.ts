/**
 * Deterministic 32-bit hashing for the load balancer: MurmurHash3 (x86, 32-bit) mixing,
 * fed either bytes (backend names, for Maglev's permutations) or 32-bit words taken
 * straight from a packet (flow tuples). Same input, same seed, same hash, on every run
 * and every node: Maglev's tables must not depend on Math.random or on start-up order.
 * The connection table seeds its own bucket hash with a secret so that nobody can aim
 * flows at one bucket.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Mixes one 32-bit word into the running hash h. */
export function mixWord(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Final avalanche; `length` is the number of bytes hashed. Returns an unsigned 32-bit value. */
export function finishHash(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3_x86_32 of bytes[off, off + len) (little-endian words, as the reference). */
export function hashBytes(bytes: Uint8Array, off: number, len: number, seed: number): number {
  let h = seed | 0;
  const end4 = off + (len & ~3);
  let i = off;
  for (; i < end4; i += 4) h = mixWord(h, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  const rest = len & 3;
  if (rest !== 0) {
    let k = bytes[i];
    if (rest > 1) k ^= bytes[i + 1] << 8;
    if (rest > 2) k ^= bytes[i + 2] << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  return finishHash(h, len);
}

/** Big-endian 32-bit word at buf[off] (addresses are mixed as they sit in the packet). */
function wordAt(buf: Uint8Array, off: number): number {
  return (buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3];
}

/** Mixes an address of 4 or 16 bytes at buf[off]. */
export function mixAddress(h: number, buf: Uint8Array, off: number, addressLength: number): number {
  for (let i = 0; i < addressLength; i += 4) h = mixWord(h, wordAt(buf, off + i));
  return h;
}
