import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FerryError } from '../errors.js';
import { initCrypto } from './crypto.js';
import {
  formatKeyBase64,
  formatKeyHex,
  generatePresharedKey,
  generatePrivateKey,
  isZeroKey,
  parseKeyBase64,
  parseKeyHex,
  publicKeyFromPrivate,
  tryParseKeyBase64,
  tryParseKeyHex,
} from './keys.js';

before(initCrypto);

// RFC 7748 section 6.1 Alice; `wg pubkey` prints the same public key for this private key.
const ALICE_PRIVATE_B64 = 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=';
const ALICE_PUBLIC_B64 = 'hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=';
const ALICE_PUBLIC_HEX = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';

test('base64 keys round trip and derive the RFC 7748 public key', () => {
  const priv = parseKeyBase64(ALICE_PRIVATE_B64);
  assert.equal(priv.length, 32);
  assert.equal(formatKeyBase64(priv), ALICE_PRIVATE_B64);
  const pub = publicKeyFromPrivate(priv);
  assert.equal(formatKeyBase64(pub), ALICE_PUBLIC_B64);
  assert.equal(formatKeyHex(pub), ALICE_PUBLIC_HEX);
  assert.deepEqual(parseKeyHex(ALICE_PUBLIC_HEX), pub);
  assert.deepEqual(parseKeyHex(ALICE_PUBLIC_HEX.toUpperCase()), pub, 'hex is case-insensitive on input');
});

test('base64 parsing is strict: length, alphabet, padding, canonical last character', () => {
  const bad = [
    '',
    ALICE_PUBLIC_B64.slice(0, 43), // padding missing
    `${ALICE_PUBLIC_B64}=`,
    ALICE_PUBLIC_B64.replace('=', 'A'),
    ALICE_PUBLIC_B64.replace('h', '-'), // URL-safe alphabet is not wg's
    ` ${ALICE_PUBLIC_B64.slice(1)}`,
    'hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmp=', // 'p' leaves non-zero spare bits
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==',
  ];
  for (const text of bad) assert.equal(tryParseKeyBase64(text), null, JSON.stringify(text));
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (k) => {
      assert.deepEqual(tryParseKeyBase64(formatKeyBase64(k)), k);
      assert.deepEqual(tryParseKeyHex(formatKeyHex(k)), k);
    }),
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 50 }), (s) => {
      const k = tryParseKeyBase64(s);
      if (k !== null) assert.equal(formatKeyBase64(k), s, 'only canonical texts parse');
    }),
  );
});

test('parse errors are FerryError(InvalidArgument), name the field and never echo the key', () => {
  const secretish = 'c2VjcmV0LXByaXZhdGUta2V5LXRleHQtdGhhdC1pcw'; // 42 chars
  assert.throws(
    () => parseKeyBase64(secretish, 'PrivateKey'),
    (err: unknown) => {
      assert.ok(err instanceof FerryError);
      assert.equal(err.code, 'FERRY_INVALID_ARGUMENT');
      assert.match(err.message, /^PrivateKey must be 44 base64 characters \(32 bytes\), got 42 characters$/);
      assert.ok(!err.message.includes(secretish));
      return true;
    },
  );
  assert.throws(() => parseKeyBase64('hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm!=', 'PublicKey'), /PublicKey is not a valid base64-encoded 32-byte key/);
  assert.throws(() => parseKeyHex('abc', 'public_key'), /public_key must be 64 hex characters \(32 bytes\), got 3 characters/);
  assert.throws(() => parseKeyHex('g'.repeat(64)), /key is not valid hex/);
  assert.throws(() => formatKeyBase64(new Uint8Array(31)), FerryError);
});

test('generated keys: private keys clamped, preshared keys random, all 32 bytes', () => {
  const a = generatePrivateKey();
  const b = generatePrivateKey();
  assert.equal(a.length, 32);
  assert.notDeepEqual(a, b);
  assert.equal(a[0] & 7, 0);
  assert.equal(a[31] & 0xc0, 0x40);
  const psk1 = generatePresharedKey();
  const psk2 = generatePresharedKey();
  assert.equal(psk1.length, 32);
  assert.notDeepEqual(psk1, psk2);
  assert.equal(publicKeyFromPrivate(a).length, 32);
  assert.throws(() => publicKeyFromPrivate(new Uint8Array(16)), FerryError);
});

test('isZeroKey recognises the UAPI "no key" value', () => {
  assert.equal(isZeroKey(new Uint8Array(32)), true);
  assert.equal(isZeroKey(parseKeyHex('0'.repeat(64))), true);
  assert.equal(isZeroKey(parseKeyBase64(ALICE_PUBLIC_B64)), false);
  assert.equal(isZeroKey(new Uint8Array(16)), false);
});
