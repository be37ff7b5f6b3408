import { createPrivateKey, createPublicKey } from 'node:crypto';

// PKCS#8 wrapping of a raw X25519 private key (RFC 8410), so node:crypto can derive its
// public key synchronously, with no need for the handshake's libsodium to be initialized.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The X25519 public key of a private key (what `wg pubkey` prints). Control path only. */
export function derivePublicKeySync(privateKey: Uint8Array): Uint8Array {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, privateKey]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
}
