/**
 * The transport AEAD the device seals and opens whole batches with, as an injectable
 * interface: the native kernels (src/crypto/aead.ts) by default, the libsodium reference
 * (src/crypto/aead-reference.ts) in tests, so both can be shown to agree on the wire.
 * The contract is aead.ts's: payload at offsets[i], length lengths[i], nonce = the 8 LE
 * counter bytes in front of the payload, key = keys[keyIndex[i] * 32 ..], tag after the payload.
 */
import { openBatch, sealBatch } from '../crypto/aead.js';
import { referenceOpenBatch, referenceReady, referenceSealBatch } from '../crypto/aead-reference.js';

export interface BatchAead {
  /** Seals [0, count) in place; each tag lands right after its payload. */
  seal(slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, keys: Uint8Array, keyIndex: Int32Array, count: number): void;
  /**
   * Opens [0, count) in place (lengths include the tag); results[i] = plaintext length or
   * -1. Returns how many verified.
   */
  open(slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, keys: Uint8Array, keyIndex: Int32Array, count: number, results: Int32Array): number;
}

/** OpenSSL kernels in native/ (build/Release/ferry.node). */
export const nativeBatchAead: BatchAead = { seal: sealBatch, open: openBatch };

/** libsodium, one call per packet: slow, for tests. Await referenceBatchAeadReady() first. */
export const referenceBatchAead: BatchAead = { seal: referenceSealBatch, open: referenceOpenBatch };

export function referenceBatchAeadReady(): Promise<void> {
  return referenceReady();
}
