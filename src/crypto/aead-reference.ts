/**
 * Reference implementation of the batch AEAD contract in aead.ts, over libsodium's
 * crypto_aead_chacha20poly1305_ietf (RFC 8439). It allocates per packet, so it is for
 * tests, documentation and a slow fallback, never the data path. Call
 * `await referenceReady()` once before using it.
 */
import sodium from 'libsodium-wrappers';
import { AEAD_TAG_LENGTH, COUNTER_LENGTH, KEY_LENGTH } from './aead.js';

let ready = false;

export async function referenceReady(): Promise<void> {
  await sodium.ready;
  ready = true;
}

function assertReady(): void {
  if (!ready) throw new Error('aead-reference: await referenceReady() first');
}

/** WireGuard's transport nonce: 4 zero bytes || 64-bit little-endian counter. */
export function wireguardNonce(counter: bigint): Uint8Array {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(4, BigInt.asUintN(64, counter), true);
  return nonce;
}

/** Returns ciphertext || tag. */
export function referenceSeal(key: Uint8Array, counter: bigint, plaintext: Uint8Array): Uint8Array {
  assertReady();
  return sodium.crypto_aead_chacha20poly1305_ietf_encrypt(plaintext, null, null, wireguardNonce(counter), key);
}

/** Returns the plaintext, or null when the tag does not verify. */
export function referenceOpen(key: Uint8Array, counter: bigint, sealed: Uint8Array): Uint8Array | null {
  assertReady();
  if (sealed.length < AEAD_TAG_LENGTH) return null;
  try {
    return sodium.crypto_aead_chacha20poly1305_ietf_decrypt(null, sealed, null, wireguardNonce(counter), key);
  } catch {
    return null;
  }
}

function nonceAt(slab: Uint8Array, offset: number): Uint8Array {
  const nonce = new Uint8Array(12);
  nonce.set(slab.subarray(offset - COUNTER_LENGTH, offset), 4);
  return nonce;
}

function keyAt(keys: Uint8Array, slot: number): Uint8Array {
  return keys.subarray(slot * KEY_LENGTH, (slot + 1) * KEY_LENGTH);
}

function checkEntries(slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, keys: Uint8Array, keyIndex: Int32Array, count: number, tail: number): void {
  if (count > offsets.length || count > lengths.length || count > keyIndex.length) throw new RangeError('count exceeds an array');
  for (let i = 0; i < count; i++) {
    const off = offsets[i];
    const len = lengths[i];
    const k = keyIndex[i];
    if (off < COUNTER_LENGTH || len < 0 || off + len + tail > slab.length) throw new RangeError(`packet ${i} out of bounds`);
    if (k < 0 || (k + 1) * KEY_LENGTH > keys.length) throw new RangeError(`keyIndex[${i}] out of range`);
  }
}

/** Same contract as sealBatch in aead.ts. */
export function referenceSealBatch(slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, keys: Uint8Array, keyIndex: Int32Array, count: number): void {
  assertReady();
  checkEntries(slab, offsets, lengths, keys, keyIndex, count, AEAD_TAG_LENGTH);
  for (let i = 0; i < count; i++) {
    const off = offsets[i];
    const plaintext = slab.slice(off, off + lengths[i]);
    const sealed = sodium.crypto_aead_chacha20poly1305_ietf_encrypt(plaintext, null, null, nonceAt(slab, off), keyAt(keys, keyIndex[i]));
    slab.set(sealed, off);
  }
}

/** Same contract as openBatch in aead.ts (a failed packet is zeroed). */
export function referenceOpenBatch(slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, keys: Uint8Array, keyIndex: Int32Array, count: number, results: Int32Array): number {
  assertReady();
  if (count > results.length) throw new RangeError('count exceeds results');
  checkEntries(slab, offsets, lengths, keys, keyIndex, count, 0);
  let verified = 0;
  for (let i = 0; i < count; i++) {
    const off = offsets[i];
    const len = lengths[i];
    if (len < AEAD_TAG_LENGTH) {
      results[i] = -1;
      continue;
    }
    try {
      const sealed = slab.slice(off, off + len);
      const plaintext = sodium.crypto_aead_chacha20poly1305_ietf_decrypt(null, sealed, null, nonceAt(slab, off), keyAt(keys, keyIndex[i]));
      slab.set(plaintext, off);
      results[i] = plaintext.length;
      verified++;
    } catch {
      slab.fill(0, off, off + len);
      results[i] = -1;
    }
  }
  return verified;
}
