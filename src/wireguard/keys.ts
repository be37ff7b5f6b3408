import { createPrivateKey, createPublicKey } from 'node:crypto';
import { ErrorCode, FerryError } from '../errors.js';
import { KEY_SIZE } from './constants.js';
import { isZero, newPrivateKey, randomBytes } from './crypto.js';

/**
 * Key text forms, as wg(8) and the UAPI use them: base64 in config files and `wg` output
 * (44 characters, one '=' of padding), lower-case hex on the UAPI socket (64 characters).
 * Parsing is strict like wireguard-tools' key_from_base64: exact length, standard alphabet,
 * and the unused low bits of the last character must be zero (one text per key).
 */

export const KEY_BASE64_LENGTH = 44;
const KEY_HEX_LENGTH = 64;

// 42 free characters, then one whose low 2 bits are zero (it carries only 4 bits), then '='.
const BASE64_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;

function describe(text: string): string {
  return `${text.length} characters`;
}

/** Decodes a 44-character base64 key, or null when it is not one. */
export function tryParseKeyBase64(text: string): Uint8Array | null {
  if (typeof text !== 'string' || !BASE64_KEY.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === KEY_SIZE ? new Uint8Array(bytes) : null;
}

/** Decodes a 44-character base64 key; throws FerryError(InvalidArgument) naming `what`. */
export function parseKeyBase64(text: string, what = 'key'): Uint8Array {
  const key = tryParseKeyBase64(text);
  if (key !== null) return key;
  // The message never echoes the text: it may be a private key.
  if (typeof text !== 'string') throw new FerryError(ErrorCode.InvalidArgument, `${what} must be a string`);
  if (text.length !== KEY_BASE64_LENGTH) {
    throw new FerryError(ErrorCode.InvalidArgument, `${what} must be ${KEY_BASE64_LENGTH} base64 characters (32 bytes), got ${describe(text)}`);
  }
  throw new FerryError(ErrorCode.InvalidArgument, `${what} is not a valid base64-encoded 32-byte key`);
}

export function formatKeyBase64(key: Uint8Array): string {
  checkKey(key);
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64');
}

/** Decodes a 64-character hex key (either case, as wireguard-go accepts), or null. */
export function tryParseKeyHex(text: string): Uint8Array | null {
  if (typeof text !== 'string' || !HEX_KEY.test(text)) return null;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** Decodes a 64-character hex key; throws FerryError(InvalidArgument) naming `what`. */
export function parseKeyHex(text: string, what = 'key'): Uint8Array {
  const key = tryParseKeyHex(text);
  if (key !== null) return key;
  if (typeof text !== 'string') throw new FerryError(ErrorCode.InvalidArgument, `${what} must be a string`);
  if (text.length !== KEY_HEX_LENGTH) {
    throw new FerryError(ErrorCode.InvalidArgument, `${what} must be ${KEY_HEX_LENGTH} hex characters (32 bytes), got ${describe(text)}`);
  }
  throw new FerryError(ErrorCode.InvalidArgument, `${what} is not valid hex`);
}

/** Lower-case hex, as the UAPI prints keys. */
export function formatKeyHex(key: Uint8Array): string {
  checkKey(key);
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
}

/** An all-zero key: the UAPI's way of saying "no key" (private_key=0…0, preshared_key=0…0). */
export function isZeroKey(key: Uint8Array): boolean {
  return key.length === KEY_SIZE && isZero(key);
}

/** A new clamped X25519 private key, as `wg genkey` prints. Needs initCrypto(). */
export function generatePrivateKey(): Uint8Array {
  const key = new Uint8Array(KEY_SIZE);
  newPrivateKey(key);
  return key;
}

// PKCS#8 wrapping of a raw X25519 private key (RFC 8410), so node:crypto derives its
// public key synchronously, with no need for the handshake's libsodium to be initialized.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/**
 * The public key of a private key, as `wg pubkey` prints (clamping is implied by X25519).
 * Control path: config files, `wg show`, UAPI reads; needs no initCrypto().
 */
export function publicKeyFromPrivate(privateKey: Uint8Array): Uint8Array {
  checkKey(privateKey);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, privateKey]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
}

/** 32 random bytes, as `wg genpsk` prints. Needs initCrypto(). */
export function generatePresharedKey(): Uint8Array {
  const key = new Uint8Array(KEY_SIZE);
  randomBytes(key, 0, KEY_SIZE);
  return key;
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_SIZE) {
    throw new FerryError(ErrorCode.InvalidArgument, `a key must be ${KEY_SIZE} bytes`);
  }
}
