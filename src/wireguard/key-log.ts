/**
 * WireGuard key log lines, the format Wireshark's WireGuard dissector reads (from its
 * keylog file preference, or from a pcapng Decryption Secrets block of type WGKL):
 *
 *   LOCAL_STATIC_PRIVATE_KEY = <base64>
 *   REMOTE_STATIC_PUBLIC_KEY = <base64>
 *   LOCAL_EPHEMERAL_PRIVATE_KEY = <base64>
 *   PRESHARED_KEY = <base64>
 *
 * Wireshark links a PRESHARED_KEY to the LOCAL_EPHEMERAL_PRIVATE_KEY just before it. These
 * lines are secrets: whoever holds them decrypts the session (and, with the static key,
 * impersonates the interface). They go only where an operator asked (docs/capture.md).
 */
import type { Handshake, StaticIdentity } from './handshake.js';

const b64 = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64');

/** The four lines of one handshake, taken right after its local ephemeral key was made. */
export function handshakeKeyLog(hs: Handshake): string {
  return (
    `LOCAL_STATIC_PRIVATE_KEY = ${b64(hs.identity.privateKey)}\n` +
    `REMOTE_STATIC_PUBLIC_KEY = ${b64(hs.remoteStatic)}\n` +
    `LOCAL_EPHEMERAL_PRIVATE_KEY = ${b64(hs.localEphemeral)}\n` +
    `PRESHARED_KEY = ${b64(hs.presharedKey)}\n`
  );
}

/**
 * The static half, for the start of a capture: our private key and the peers' public
 * keys, so an initiation a peer sends before any ephemeral key of ours is logged can
 * still be decrypted (the responder's static key is what it needs).
 */
export function staticKeyLog(identity: StaticIdentity, peerPublicKeys: readonly Uint8Array[]): string {
  let out = `LOCAL_STATIC_PRIVATE_KEY = ${b64(identity.privateKey)}\n`;
  for (const k of peerPublicKeys) out += `REMOTE_STATIC_PUBLIC_KEY = ${b64(k)}\n`;
  return out;
}
