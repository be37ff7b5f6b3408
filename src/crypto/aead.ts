/**
 * Batch ChaCha20-Poly1305 in place over the pool slab, for WireGuard transport data.
 * The kernels live in native/src/aead.c and use the OpenSSL that Node ships; this file
 * is the typed front door. Per packet i of a batch:
 *
 *   payload  slab[offsets[i] .. offsets[i] + lengths[i])
 *   nonce    4 zero bytes || slab[offsets[i] - 8 .. offsets[i])  (the header's LE counter,
 *            so the caller writes the header before sealing)
 *   key      keys[keyIndex[i] * 32 .. + 32]   (a key table, one slot per keypair)
 *   AAD      none
 *
 * Argument checks here are per call (types, count); native/ checks every entry before it
 * touches any packet and throws RangeError/TypeError on misuse. Nothing is allocated.
 * aead-reference.ts implements the same contract over libsodium.
 */
import { ErrorCode, FerryError } from '../errors.js';
import { loadAddon } from '../native/addon.js';

export const AEAD_TAG_LENGTH = 16;
export const KEY_LENGTH = 32;
/** Bytes in front of each payload that hold the little-endian 64-bit nonce counter. */
export const COUNTER_LENGTH = 8;

interface NativeAead {
  chachaSealBatch(slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, keys: Uint8Array, keyIndex: Int32Array, count: number): void;
  chachaOpenBatch(slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, keys: Uint8Array, keyIndex: Int32Array, count: number, results: Int32Array): number;
}

let native: NativeAead | undefined;

// Loaded on first use, so importing this module never fails on a machine without the addon.
function loadNative(): NativeAead {
  if (native !== undefined) return native;
  const addon = loadAddon() as Partial<NativeAead>;
  if (typeof addon.chachaSealBatch !== 'function' || typeof addon.chachaOpenBatch !== 'function') {
    throw new FerryError(ErrorCode.NativeMissing, 'native addon has no chachaSealBatch/chachaOpenBatch (stale build?)');
  }
  native = addon as NativeAead;
  return native;
}

/** True when the native kernels can be loaded. */
export function nativeAeadAvailable(): boolean {
  try {
    loadNative();
    return true;
  } catch {
    return false;
  }
}

function checkCall(fn: string, slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, keys: Uint8Array, keyIndex: Int32Array, count: number): void {
  if (!(slab instanceof Uint8Array)) throw new TypeError(`${fn}: slab must be a Buffer or Uint8Array`);
  if (!(offsets instanceof Int32Array) || !(lengths instanceof Int32Array) || !(keyIndex instanceof Int32Array)) {
    throw new TypeError(`${fn}: offsets, lengths and keyIndex must be Int32Arrays`);
  }
  if (!(keys instanceof Uint8Array) || keys.length % KEY_LENGTH !== 0) {
    throw new TypeError(`${fn}: keys must be a Uint8Array of 32-byte slots`);
  }
  if (typeof count !== 'number') throw new TypeError(`${fn}: count must be a number`);
  if (!Number.isInteger(count) || count < 0 || count > offsets.length || count > lengths.length || count > keyIndex.length) {
    throw new RangeError(`${fn}: count ${count} must be an integer in [0, shortest array length]`);
  }
}

/**
 * Encrypts packets [0, count) in place and writes each 16-byte tag right after its
 * payload, at offsets[i] + lengths[i]; the caller guarantees that tailroom.
 */
export function sealBatch(slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, keys: Uint8Array, keyIndex: Int32Array, count: number): void {
  checkCall('sealBatch', slab, offsets, lengths, keys, keyIndex, count);
  loadNative().chachaSealBatch(slab, offsets, lengths, keys, keyIndex, count);
}

/**
 * Verifies and decrypts packets [0, count) in place; lengths[i] includes the tag.
 * results[i] = plaintext length (lengths[i] - 16) when the tag verifies, else -1 (also
 * for lengths[i] < 16); a packet that fails is zeroed, so no unauthenticated plaintext
 * stays in the slab. Returns how many verified. Tags are compared in constant time.
 */
export function openBatch(slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, keys: Uint8Array, keyIndex: Int32Array, count: number, results: Int32Array): number {
  checkCall('openBatch', slab, offsets, lengths, keys, keyIndex, count);
  if (!(results instanceof Int32Array)) throw new TypeError('openBatch: results must be an Int32Array');
  if (count > results.length) throw new RangeError(`openBatch: count ${count} exceeds results.length ${results.length}`);
  return loadNative().chachaOpenBatch(slab, offsets, lengths, keys, keyIndex, count, results);
}
