/**
 * Micro benchmark: the handshake's Curve25519 DH, node:crypto (native OpenSSL) against
 * libsodium-wrappers (WebAssembly, what src/wireguard/crypto.ts uses), side by side in one
 * run, rounds interleaved. node:crypto needs KeyObjects: the headline includes making both
 * from raw 32-byte keys (DER prefixes), as the handshake would for every remote ephemeral;
 * an info line gives the DH alone. Info lines also time what a flood costs per message
 * without a DH: the mac1 check and a whole cookie reply (BLAKE2s + XChaCha20-Poly1305).
 * Run: npm run bench -- x25519 [rounds] [opsPerRound]
 * Last line: value = node:crypto DH ops/s with conversion, baseline = libsodium ops/s.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, randomFillSync } from 'node:crypto';
import sodium from 'libsodium-wrappers';
import { CookieChecker, deriveMacKeys, writeMac1 } from '../src/wireguard/cookie.js';
import { initCrypto } from '../src/wireguard/crypto.js';
import { MESSAGE_INITIATION_SIZE } from '../src/wireguard/constants.js';
import { jsonLines, median, round } from './lib/json-lines.js';

const ROUNDS = Number(process.argv[2] ?? 7);
const OPS = Number(process.argv[3] ?? 2000);
const emit = jsonLines('x25519');

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

await initCrypto();

const raw = (k: Buffer, prefix: number) => k.subarray(prefix);
const a = generateKeyPairSync('x25519');
const b = generateKeyPairSync('x25519');
const aPriv = raw(a.privateKey.export({ format: 'der', type: 'pkcs8' }), PKCS8_X25519.length);
const bPub = raw(b.publicKey.export({ format: 'der', type: 'spki' }), SPKI_X25519.length);

function nodeDhFromRaw(priv: Uint8Array, pub: Uint8Array): Buffer {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, priv]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey({ key: Buffer.concat([SPKI_X25519, pub]), format: 'der', type: 'spki' });
  return diffieHellman({ privateKey, publicKey });
}

function nodeDhFromJwk(priv: Uint8Array, pub: Uint8Array): Buffer {
  // A JWK private key needs its public half too: one more scalar multiplication by the base.
  const x = Buffer.from(sodium.crypto_scalarmult_base(priv)).toString('base64url');
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', x, d: Buffer.from(priv).toString('base64url') }, format: 'jwk' });
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(pub).toString('base64url') }, format: 'jwk' });
  return diffieHellman({ privateKey, publicKey });
}

const same = Buffer.from(sodium.crypto_scalarmult(aPriv, bPub)).equals(nodeDhFromJwk(aPriv, bPub)) && Buffer.from(sodium.crypto_scalarmult(aPriv, bPub)).equals(nodeDhFromRaw(aPriv, bPub));
if (!same) throw new Error('node:crypto and libsodium disagree on X25519');

function opsPerSecond(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) fn();
  return OPS / (Number(process.hrtime.bigint() - t0) / 1e9);
}

// What each contender does per DH.
let sink = 0;
const sodiumDh = () => void (sink ^= sodium.crypto_scalarmult(aPriv, bPub)[0]);
const nodeDh = () => void (sink ^= nodeDhFromRaw(aPriv, bPub)[0]);
const nodeJwk = () => void (sink ^= nodeDhFromJwk(aPriv, bPub)[0]);
const nodePublicOnly = () => void (sink ^= diffieHellman({ privateKey: a.privateKey, publicKey: createPublicKey({ key: Buffer.concat([SPKI_X25519, bPub]), format: 'der', type: 'spki' }) })[0]);
const nodeDhOnly = () => void (sink ^= diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey })[0]);

// A flood message: an initiation with a valid mac1, and the responder's checker.
const responderPublic = new Uint8Array(bPub);
const checker = new CookieChecker(deriveMacKeys(responderPublic));
const msg = new Uint8Array(MESSAGE_INITIATION_SIZE);
msg.set(randomBytes(MESSAGE_INITIATION_SIZE - 32));
msg[0] = 1;
writeMac1(deriveMacKeys(responderPublic).mac1Key, msg, 0, MESSAGE_INITIATION_SIZE);
const source = new Uint8Array(24).fill(7);
const reply = new Uint8Array(64);
const checkMac1 = () => void (sink ^= checker.checkMac1(msg, 0, MESSAGE_INITIATION_SIZE) ? 1 : 0);
const cookieReply = () => checker.createReply(msg, 0, MESSAGE_INITIATION_SIZE, source, 0, 24, 0, reply, 0);

// The cookie reply's 24-byte nonce: libsodium's generator (what crypto.ts used) and node:crypto's (what it uses).
const nonce = new Uint8Array(24);
const sodiumRandom = () => void (sink ^= sodium.randombytes_buf(24)[0]);
const nodeRandom = () => void (sink ^= randomFillSync(nonce, 0, 24)[0]);

const contenders = { libsodium: sodiumDh, nodeCrypto: nodeDh, nodeCryptoJwk: nodeJwk, nodeCryptoPublicOnly: nodePublicOnly, nodeCryptoDhOnly: nodeDhOnly, mac1Check: checkMac1, cookieReply, sodiumRandom, nodeRandom } as const;
type Name = keyof typeof contenders;
const results: Record<Name, number[]> = { libsodium: [], nodeCrypto: [], nodeCryptoJwk: [], nodeCryptoPublicOnly: [], nodeCryptoDhOnly: [], mac1Check: [], cookieReply: [], sodiumRandom: [], nodeRandom: [] };
for (const fn of Object.values(contenders)) opsPerSecond(fn); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const name of Object.keys(contenders) as Name[]) results[name].push(opsPerSecond(contenders[name]));
}

const med = (n: Name) => round(median(results[n]), 0);
emit({ info: 'machine shared with other sessions: figures are noisy, the ratio (same run, interleaved) is what to read', rounds: ROUNDS, opsPerRound: OPS, node: process.version, sink });
emit({ metric: 'libsodium_dh_ops_per_s', value: med('libsodium'), unit: 'ops/s', usPerOp: round(1e6 / med('libsodium')) });
emit({ metric: 'node_crypto_dh_only_ops_per_s', value: med('nodeCryptoDhOnly'), unit: 'ops/s', usPerOp: round(1e6 / med('nodeCryptoDhOnly')), note: 'KeyObjects made once' });
emit({ metric: 'node_crypto_dh_public_from_der_ops_per_s', value: med('nodeCryptoPublicOnly'), unit: 'ops/s', usPerOp: round(1e6 / med('nodeCryptoPublicOnly')), note: 'private KeyObject made once (a static key), the remote public from DER each time' });
emit({ metric: 'node_crypto_dh_from_jwk_ops_per_s', value: med('nodeCryptoJwk'), unit: 'ops/s', usPerOp: round(1e6 / med('nodeCryptoJwk')), note: 'both KeyObjects from JWK (the private one needs its public half: one base multiplication)' });
emit({ metric: 'mac1_check_ops_per_s', value: med('mac1Check'), unit: 'ops/s', usPerOp: round(1e6 / med('mac1Check')) });
emit({ metric: 'cookie_reply_ops_per_s', value: med('cookieReply'), unit: 'ops/s', usPerOp: round(1e6 / med('cookieReply')), note: 'BLAKE2s cookie + XChaCha20-Poly1305 seal (libsodium) + random nonce (node:crypto)' });
emit({ metric: 'random_24_bytes_ops_per_s', value: med('nodeRandom'), unit: 'ops/s', usPerOp: round(1e6 / med('nodeRandom')), baseline: med('sodiumRandom'), baselineUsPerOp: round(1e6 / med('sodiumRandom')), note: 'value: node:crypto randomFillSync; baseline: libsodium randombytes_buf' });
emit({
  metric: 'dh_ops_per_s',
  value: med('nodeCrypto'),
  unit: 'ops/s',
  baseline: med('libsodium'),
  ratio: round(med('nodeCrypto') / med('libsodium'), 3),
  note: 'value: node:crypto X25519 including KeyObjects from raw keys; baseline: libsodium-wrappers crypto_scalarmult',
});
