/**
 * The state one WireGuard handshake keeps between its messages (wireguard-go's Handshake),
 * and the static identity it runs under. The message functions that move it from state to
 * state are in noise.ts.
 */
import { HASH_SIZE, KEY_SIZE, TIMESTAMP_SIZE } from './constants.js';
import { deriveMacKeys } from './cookie.js';
import { clampPrivateKey, derivePublicKey, dh } from './crypto.js';

export const HandshakeState = {
  Zeroed: 0,
  InitiationCreated: 1,
  InitiationConsumed: 2,
  ResponseCreated: 3,
  ResponseConsumed: 4,
} as const;
type HandshakeStateValue = (typeof HandshakeState)[keyof typeof HandshakeState];

/** Our static key pair and the MAC keys others use to reach us. Replace it whole on a key change. */
export interface StaticIdentity {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** HASH(LABEL_MAC1 || publicKey): checks mac1 of messages sent to us. */
  readonly mac1Key: Uint8Array;
  /** HASH(LABEL_COOKIE || publicKey): seals our cookie replies. */
  readonly cookieKey: Uint8Array;
}

/** Builds an identity from a 32-byte private key (copied and clamped, as wg genkey/UAPI keys are). */
export function createStaticIdentity(privateKey: Uint8Array): StaticIdentity {
  if (privateKey.length !== KEY_SIZE) throw new RangeError(`private key must be ${KEY_SIZE} bytes`);
  const priv = Uint8Array.from(privateKey);
  clampPrivateKey(priv);
  const pub = new Uint8Array(KEY_SIZE);
  derivePublicKey(pub, priv);
  const { mac1Key, cookieKey } = deriveMacKeys(pub);
  return { privateKey: priv, publicKey: pub, mac1Key, cookieKey };
}

/** Per-peer handshake state, owned by the caller's peer object (wireguard-go's Handshake). */
export class Handshake {
  state: HandshakeStateValue = HandshakeState.Zeroed;
  identity: StaticIdentity;
  readonly remoteStatic = new Uint8Array(KEY_SIZE);
  /** All zero when the peer has no preshared key (Noise then mixes 32 zero bytes). */
  readonly presharedKey = new Uint8Array(KEY_SIZE);
  /** DH(our static, their static); all zero when their key is unusable (low order). */
  readonly precomputedStaticStatic = new Uint8Array(KEY_SIZE);
  readonly hash = new Uint8Array(HASH_SIZE);
  readonly chainKey = new Uint8Array(HASH_SIZE);
  readonly localEphemeral = new Uint8Array(KEY_SIZE);
  readonly remoteEphemeral = new Uint8Array(KEY_SIZE);
  localIndex = 0;
  remoteIndex = 0;
  /** Greatest TAI64N timestamp accepted from this peer (replay protection); kept across handshakes. */
  readonly lastTimestamp = new Uint8Array(TIMESTAMP_SIZE);
  /** Monotonic ms of the last consumed initiation (flood protection); kept across handshakes. */
  lastInitiationConsumedAt = -Infinity;

  constructor(identity: StaticIdentity, remoteStatic: Uint8Array, presharedKey?: Uint8Array | null) {
    if (remoteStatic.length !== KEY_SIZE) throw new RangeError(`peer public key must be ${KEY_SIZE} bytes`);
    this.remoteStatic.set(remoteStatic);
    this.identity = identity;
    this.setPresharedKey(presharedKey ?? null);
    this.setIdentity(identity);
  }

  /**
   * Switches to a new local identity and recomputes DH(static, static). Returns false when the
   * peer's key yields an all-zero secret: handshakes with it then fail, as in wireguard-go.
   */
  setIdentity(identity: StaticIdentity): boolean {
    this.identity = identity;
    this.clear();
    return dh(this.precomputedStaticStatic, identity.privateKey, this.remoteStatic);
  }

  setPresharedKey(psk: Uint8Array | null): void {
    if (psk === null) {
      this.presharedKey.fill(0);
      return;
    }
    if (psk.length !== KEY_SIZE) throw new RangeError(`preshared key must be ${KEY_SIZE} bytes`);
    this.presharedKey.set(psk);
  }

  /** Forgets the exchange in progress (REKEY_ATTEMPT_TIME expiry, peer removal). */
  clear(): void {
    this.localEphemeral.fill(0);
    this.remoteEphemeral.fill(0);
    this.chainKey.fill(0);
    this.hash.fill(0);
    this.localIndex = 0;
    this.state = HandshakeState.Zeroed;
  }
}
