import { randomFillSync, timingSafeEqual } from 'node:crypto';
import sodium from 'libsodium-wrappers';
import { blake2s } from '@noble/hashes/blake2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { AEAD_NONCE_SIZE, AEAD_TAG_SIZE, HASH_SIZE, KEY_SIZE, MAC_SIZE, XAEAD_NONCE_SIZE } from './constants.js';

/**
 * The handshake's primitives (whitepaper 5.4): HASH, MAC, HMAC, KDF1..3, DH, AEAD, XAEAD.
 * BLAKE2s and HMAC come from @noble/hashes (libsodium has no BLAKE2s); X25519 and the
 * ChaCha20-Poly1305 AEADs from libsodium. Outputs are written into caller arrays; nothing
 * here is used per data packet (batch transport crypto is native).
 */

let sodiumReady = false;

/** Loads libsodium. Await once at startup, before any DH/AEAD/random function. Idempotent. */
export async function initCrypto(): Promise<void> {
  await sodium.ready;
  sodiumReady = true;
}

export function isCryptoReady(): boolean {
  return sodiumReady;
}

function requireSodium(): void {
  if (!sodiumReady) throw new Error('wireguard crypto used before initialization: await initCrypto() once at startup');
}

const EMPTY = new Uint8Array(0);
// noble's digestInto wants a 4-byte aligned output; callers' views may not be, so digest here and copy.
const digestScratch = new Uint8Array(HASH_SIZE);
const prk = new Uint8Array(HASH_SIZE);
const counterByte = new Uint8Array(1);
const nonceScratch = new Uint8Array(AEAD_NONCE_SIZE);

/** HASH(a || b) = BLAKE2s-256, into out[0..32]. out may alias a or b. */
export function hash(out: Uint8Array, a: Uint8Array, b: Uint8Array = EMPTY): void {
  blake2s.create().update(a).update(b).digestInto(digestScratch);
  out.set(digestScratch);
}

/** MAC(key, data) = keyed BLAKE2s with a 16-byte output, into out[outOff..outOff+16]. */
export function mac(out: Uint8Array, outOff: number, key: Uint8Array, data: Uint8Array): void {
  blake2s.create({ key, dkLen: MAC_SIZE }).update(data).digestInto(digestScratch);
  out.set(digestScratch.subarray(0, MAC_SIZE), outOff);
  digestScratch.fill(0, 0, MAC_SIZE);
}

/** HMAC-BLAKE2s (RFC 2104, block 64) of a || b, into out[0..32]. out may alias key, a or b. */
export function hmacBlake2s(out: Uint8Array, key: Uint8Array, a: Uint8Array, b: Uint8Array = EMPTY): void {
  hmac.create(blake2s, key).update(a).update(b).digestInto(digestScratch);
  out.set(digestScratch);
}

/** KDF1(key, input) = HMAC(HMAC(key, input), 0x1). t0 may alias key. */
export function kdf1(t0: Uint8Array, key: Uint8Array, input: Uint8Array): void {
  hmacBlake2s(prk, key, input);
  counterByte[0] = 1;
  hmacBlake2s(t0, prk, counterByte);
  prk.fill(0);
  digestScratch.fill(0);
}

/** KDF2: t0 = HMAC(prk, 0x1), t1 = HMAC(prk, t0 || 0x2), prk = HMAC(key, input). t0 may alias key. */
export function kdf2(t0: Uint8Array, t1: Uint8Array, key: Uint8Array, input: Uint8Array): void {
  hmacBlake2s(prk, key, input);
  counterByte[0] = 1;
  hmacBlake2s(t0, prk, counterByte);
  counterByte[0] = 2;
  hmacBlake2s(t1, prk, t0, counterByte);
  prk.fill(0);
  digestScratch.fill(0);
}

/** KDF3: KDF2 plus t2 = HMAC(prk, t1 || 0x3). t0 may alias key. */
export function kdf3(t0: Uint8Array, t1: Uint8Array, t2: Uint8Array, key: Uint8Array, input: Uint8Array): void {
  hmacBlake2s(prk, key, input);
  counterByte[0] = 1;
  hmacBlake2s(t0, prk, counterByte);
  counterByte[0] = 2;
  hmacBlake2s(t1, prk, t0, counterByte);
  counterByte[0] = 3;
  hmacBlake2s(t2, prk, t1, counterByte);
  prk.fill(0);
  digestScratch.fill(0);
}

/** An X25519 implementation: writes DH(privateKey, publicKey) into out[0..32]; false when it degenerates. */
export type DhFunction = (out: Uint8Array, privateKey: Uint8Array, publicKey: Uint8Array) => boolean;

/**
 * DH = X25519(privateKey, publicKey) into out[0..32]. Returns false, leaving out zeroed,
 * when the result is all zero (a low-order or otherwise degenerate public key), as
 * wireguard-go's sharedSecret and RFC 7748 section 6.1 require; libsodium refuses those too.
 */
function sodiumDh(out: Uint8Array, privateKey: Uint8Array, publicKey: Uint8Array): boolean {
  requireSodium();
  let shared: Uint8Array;
  try {
    shared = sodium.crypto_scalarmult(privateKey, publicKey);
  } catch {
    out.fill(0, 0, KEY_SIZE);
    return false;
  }
  out.set(shared);
  shared.fill(0);
  if (isZero(out, 0, KEY_SIZE)) return false;
  return true;
}

let dhImpl: DhFunction = sodiumDh;

/** The handshake's DH (noise.ts calls only this): the implementation set by useDh, libsodium by default. */
export function dh(out: Uint8Array, privateKey: Uint8Array, publicKey: Uint8Array): boolean {
  return dhImpl(out, privateKey, publicKey);
}

/**
 * Replaces the DH implementation and returns the one it replaced, so a caller can wrap it
 * (count the DHs a flood costs, swap in another backend) and put it back.
 */
export function useDh(impl: DhFunction): DhFunction {
  const old = dhImpl;
  dhImpl = impl;
  return old;
}

/** Public key of an X25519 private key (libsodium clamps the scalar). */
export function derivePublicKey(out: Uint8Array, privateKey: Uint8Array): void {
  requireSodium();
  out.set(sodium.crypto_scalarmult_base(privateKey));
}

/** Curve25519 clamping as wireguard-go's NoisePrivateKey.clamp does, in place. */
export function clampPrivateKey(key: Uint8Array): void {
  key[0] &= 248;
  key[31] = (key[31] & 127) | 64;
}

/** A fresh clamped X25519 private key into out[0..32]. */
export function newPrivateKey(out: Uint8Array): void {
  randomBytes(out, 0, KEY_SIZE);
  clampPrivateKey(out);
}

/**
 * Fills out[off..off+len] with random bytes from node:crypto's CSPRNG (OpenSSL). Not
 * libsodium's randombytes_buf: through the WebAssembly wrapper it cost about 20 times as
 * much, and every cookie reply takes a random nonce (bench/x25519.ts, docs/benchmarks.md).
 */
export function randomBytes(out: Uint8Array, off: number, len: number): void {
  randomFillSync(out, off, len);
}

/**
 * ChaCha20-Poly1305 (RFC 8439) seal with an explicit 12-byte nonce: ciphertext || tag into
 * dst at dstOff (plaintext.length + 16 bytes).
 */
export function chachaPolySeal(dst: Uint8Array, dstOff: number, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): void {
  requireSodium();
  dst.set(sodium.crypto_aead_chacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key), dstOff);
}

/** ChaCha20-Poly1305 open; false (dst untouched) when the tag does not verify. */
export function chachaPolyOpen(dst: Uint8Array, dstOff: number, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): boolean {
  requireSodium();
  if (ciphertext.length < AEAD_TAG_SIZE) return false;
  let plain: Uint8Array;
  try {
    plain = sodium.crypto_aead_chacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
  } catch {
    return false;
  }
  dst.set(plain, dstOff);
  plain.fill(0);
  return true;
}

/** The whitepaper's nonce: 32 zero bits then the 64-bit little-endian counter (counter ≤ 2^53). */
function counterNonce(counter: number): Uint8Array {
  nonceScratch.fill(0, 0, 4);
  const lo = counter % 0x1_0000_0000;
  const hi = (counter - lo) / 0x1_0000_0000;
  nonceScratch[4] = lo & 0xff;
  nonceScratch[5] = (lo >>> 8) & 0xff;
  nonceScratch[6] = (lo >>> 16) & 0xff;
  nonceScratch[7] = lo >>> 24;
  nonceScratch[8] = hi & 0xff;
  nonceScratch[9] = (hi >>> 8) & 0xff;
  nonceScratch[10] = (hi >>> 16) & 0xff;
  nonceScratch[11] = hi >>> 24;
  return nonceScratch;
}

/** AEAD(key, counter, plaintext, ad) into dst at dstOff. The handshake always uses counter 0. */
export function aeadSeal(dst: Uint8Array, dstOff: number, key: Uint8Array, counter: number, plaintext: Uint8Array, ad: Uint8Array): void {
  chachaPolySeal(dst, dstOff, key, counterNonce(counter), plaintext, ad);
}

/** AEAD open with the counter nonce; false when the tag does not verify. */
export function aeadOpen(dst: Uint8Array, dstOff: number, key: Uint8Array, counter: number, ciphertext: Uint8Array, ad: Uint8Array): boolean {
  return chachaPolyOpen(dst, dstOff, key, counterNonce(counter), ciphertext, ad);
}

/** XAEAD = XChaCha20-Poly1305 seal with a 24-byte nonce (cookie replies). */
export function xaeadSeal(dst: Uint8Array, dstOff: number, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): void {
  requireSodium();
  if (nonce.length !== XAEAD_NONCE_SIZE) throw new RangeError(`XAEAD nonce must be ${XAEAD_NONCE_SIZE} bytes`);
  dst.set(sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key), dstOff);
}

/** XChaCha20-Poly1305 open; false (dst untouched) when the tag does not verify. */
export function xaeadOpen(dst: Uint8Array, dstOff: number, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): boolean {
  requireSodium();
  if (nonce.length !== XAEAD_NONCE_SIZE || ciphertext.length < AEAD_TAG_SIZE) return false;
  let plain: Uint8Array;
  try {
    plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
  } catch {
    return false;
  }
  dst.set(plain, dstOff);
  plain.fill(0);
  return true;
}

/** Constant-time comparison of a[aOff..aOff+len] and b[bOff..bOff+len] (for MACs and keys). */
export function constantTimeEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): boolean {
  if (aOff < 0 || bOff < 0 || aOff + len > a.length || bOff + len > b.length) return false;
  return timingSafeEqual(a.subarray(aOff, aOff + len), b.subarray(bOff, bOff + len));
}

/** True when a[off..off+len] is all zero; time depends only on len. */
export function isZero(a: Uint8Array, off = 0, len = a.length - off): boolean {
  let acc = 0;
  for (let i = 0; i < len; i++) acc |= a[off + i];
  return acc === 0;
}
