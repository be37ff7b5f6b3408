import { TIMESTAMP_SIZE } from './constants.js';

/**
 * TAI64N timestamps (12 bytes: big-endian u64 seconds + 2^62 + 10, big-endian u32 nanoseconds)
 * carried encrypted in initiations. The responder keeps the greatest one seen per peer and
 * rejects an initiation whose timestamp is not greater (whitepaper 5.1, replay protection).
 *
 * Like wireguard-go's tai64n.stamp, the nanoseconds are rounded down to a multiple of 2^24 ns
 * (~16.8 ms), so the timestamp does not leak the sender's clock finely (timing side channel);
 * two initiations inside one such window carry equal timestamps, and the second is refused as
 * a replay, which also caps initiations at ~60 per second per peer.
 */

/** 2^62 + 10: the TAI64 label of the Unix epoch (TAI - UTC was 10 s in 1970). */
const BASE_HIGH = 0x4000_0000;
const BASE_LOW_OFFSET = 10;
const TWO_32 = 0x1_0000_0000;
/** wireguard-go's whitenerMask = 0x1000000 - 1. */
const WHITENER = 0x100_0000;

/** Writes the TAI64N stamp of a wall-clock time (ms since the Unix epoch) into dst at off. */
export function writeTai64n(dst: Uint8Array, off: number, wallClockMs: number): void {
  if (!Number.isFinite(wallClockMs) || wallClockMs < 0) throw new RangeError(`wall clock must be a non-negative ms count, got ${wallClockMs}`);
  if (off < 0 || off + TIMESTAMP_SIZE > dst.length) throw new RangeError('TAI64N destination too small');
  const ms = Math.floor(wallClockMs);
  const seconds = Math.floor(ms / 1000) + BASE_LOW_OFFSET;
  const nanos = (ms % 1000) * 1_000_000;
  const whitened = nanos - (nanos % WHITENER);
  const low = seconds % TWO_32;
  const high = BASE_HIGH + (seconds - low) / TWO_32;
  writeU32BE(dst, off, high);
  writeU32BE(dst, off + 4, low);
  writeU32BE(dst, off + 8, whitened);
}

/** True when timestamp a is strictly greater than b (unsigned byte order, as bytes.Compare). */
export function tai64nAfter(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  for (let i = 0; i < TIMESTAMP_SIZE; i++) {
    const x = a[aOff + i];
    const y = b[bOff + i];
    if (x !== y) return x > y;
  }
  return false;
}

/** Wall-clock ms a TAI64N stamp stands for (for logs and `wg show`-style output). */
export function tai64nToMs(src: Uint8Array, off: number): number {
  const high = readU32BE(src, off) - BASE_HIGH;
  const low = readU32BE(src, off + 4);
  const seconds = high * TWO_32 + low - BASE_LOW_OFFSET;
  return seconds * 1000 + Math.floor(readU32BE(src, off + 8) / 1_000_000);
}

function writeU32BE(dst: Uint8Array, off: number, v: number): void {
  dst[off] = v >>> 24;
  dst[off + 1] = (v >>> 16) & 0xff;
  dst[off + 2] = (v >>> 8) & 0xff;
  dst[off + 3] = v & 0xff;
}

function readU32BE(src: Uint8Array, off: number): number {
  return ((src[off] << 24) >>> 0) + (src[off + 1] << 16) + (src[off + 2] << 8) + src[off + 3];
}
