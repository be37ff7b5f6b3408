import { DropReason, type DropReasonValue } from '../stats/drop-reasons.js';
import {
  AEAD_TAG_SIZE,
  HANDSHAKE_INITIATION_RATE_MS,
  HASH_SIZE,
  INITIAL_CHAIN_KEY,
  INITIAL_HASH,
  INITIATION_OFFSET_EPHEMERAL,
  INITIATION_OFFSET_MAC1,
  INITIATION_OFFSET_STATIC,
  INITIATION_OFFSET_TIMESTAMP,
  KEY_SIZE,
  MESSAGE_INITIATION_SIZE,
  MESSAGE_RESPONSE_SIZE,
  RESPONSE_OFFSET_EMPTY,
  RESPONSE_OFFSET_EPHEMERAL,
  RESPONSE_OFFSET_MAC1,
  TIMESTAMP_SIZE,
} from './constants.js';
import { aeadOpen, aeadSeal, clampPrivateKey, constantTimeEqual, derivePublicKey, dh, hash, isZero, kdf1, kdf2, kdf3, newPrivateKey } from './crypto.js';
import { InitiationView, parseInitiation, parseResponse, ResponseView, writeInitiationHeader, writeResponseHeader } from './messages.js';
import { Handshake, HandshakeState, type StaticIdentity } from './handshake.js';
import { tai64nAfter, writeTai64n } from './tai64n.js';

/**
 * The Noise_IKpsk2 handshake as WireGuard runs it (whitepaper 5.4.2, 5.4.3, 5.4.5; wireguard-go
 * noise-protocol.go). Pure: no I/O, no clock (times are arguments), no index table (indices
 * are arguments), no peer table (a lookup callback). Messages are written without MACs:
 * cookie.ts adds mac1/mac2 before sending and checks them before these functions run.
 * A failed consume leaves the handshake untouched, so a forged message cannot break an
 * exchange in progress.
 */

// Control-path scratch, wiped after each use (handshake functions run one at a time).
const h = new Uint8Array(HASH_SIZE);
const ck = new Uint8Array(HASH_SIZE);
const key = new Uint8Array(KEY_SIZE);
const tau = new Uint8Array(HASH_SIZE);
const ss = new Uint8Array(KEY_SIZE);
const timestamp = new Uint8Array(TIMESTAMP_SIZE);
const EMPTY = new Uint8Array(0);
const initiationView = new InitiationView();
const responseView = new ResponseView();

function wipeScratch(): void {
  h.fill(0);
  ck.fill(0);
  key.fill(0);
  tau.fill(0);
  ss.fill(0);
  timestamp.fill(0);
}

function setEphemeral(hs: Handshake, ephemeralPrivate: Uint8Array | undefined): void {
  if (ephemeralPrivate === undefined) {
    newPrivateKey(hs.localEphemeral);
    return;
  }
  if (ephemeralPrivate.length !== KEY_SIZE) throw new RangeError(`ephemeral private key must be ${KEY_SIZE} bytes`);
  hs.localEphemeral.set(ephemeralPrivate);
  clampPrivateKey(hs.localEphemeral);
}

/**
 * Writes a 148-byte initiation to hs's peer into out at off, mac1/mac2 zeroed. senderIndex is
 * the index the caller reserved for this handshake; wallClockMs dates the TAI64N timestamp.
 * ephemeralPrivate is for deterministic tests only (random otherwise).
 * Returns WgHandshakeFailed when the peer's key is unusable.
 */
export function createInitiation(hs: Handshake, wallClockMs: number, senderIndex: number, out: Uint8Array, off: number, ephemeralPrivate?: Uint8Array): DropReasonValue {
  writeInitiationHeader(out, off, senderIndex);
  writeTai64n(timestamp, 0, wallClockMs); // first: a bad clock value throws before any state changes
  if (isZero(hs.precomputedStaticStatic)) {
    hs.clear();
    wipeScratch();
    return DropReason.WgHandshakeFailed;
  }
  setEphemeral(hs, ephemeralPrivate);
  hs.hash.set(INITIAL_HASH);
  hs.chainKey.set(INITIAL_CHAIN_KEY);
  hash(hs.hash, hs.hash, hs.remoteStatic);

  const ephemeralAt = off + INITIATION_OFFSET_EPHEMERAL;
  const ephemeralPublic = out.subarray(ephemeralAt, ephemeralAt + KEY_SIZE);
  derivePublicKey(ephemeralPublic, hs.localEphemeral);
  kdf1(hs.chainKey, hs.chainKey, ephemeralPublic);
  hash(hs.hash, hs.hash, ephemeralPublic);

  // static = AEAD(k, 0, our static public, h)
  if (!dh(ss, hs.localEphemeral, hs.remoteStatic)) {
    hs.clear();
    wipeScratch();
    return DropReason.WgHandshakeFailed;
  }
  kdf2(hs.chainKey, key, hs.chainKey, ss);
  const staticAt = off + INITIATION_OFFSET_STATIC;
  aeadSeal(out, staticAt, key, 0, hs.identity.publicKey, hs.hash);
  hash(hs.hash, hs.hash, out.subarray(staticAt, staticAt + KEY_SIZE + AEAD_TAG_SIZE));

  // timestamp = AEAD(k, 0, TAI64N, h)
  kdf2(hs.chainKey, key, hs.chainKey, hs.precomputedStaticStatic);
  const timestampAt = off + INITIATION_OFFSET_TIMESTAMP;
  aeadSeal(out, timestampAt, key, 0, timestamp, hs.hash);
  hash(hs.hash, hs.hash, out.subarray(timestampAt, timestampAt + TIMESTAMP_SIZE + AEAD_TAG_SIZE));

  out.fill(0, off + INITIATION_OFFSET_MAC1, off + MESSAGE_INITIATION_SIZE);
  hs.localIndex = senderIndex;
  hs.state = HandshakeState.InitiationCreated;
  wipeScratch();
  return DropReason.None;
}

/** Finds the peer's handshake by the static public key an initiation revealed. */
export type HandshakeLookup = (remoteStatic: Uint8Array) => Handshake | null | undefined;

/** What consumeInitiation learnt; reuse one instance. Valid until the next call. */
export class ConsumedInitiation {
  handshake: Handshake | null = null;
  /** The initiator's static public key (decrypted). Filled once decryption succeeds. */
  readonly remoteStatic = new Uint8Array(KEY_SIZE);
  /** The accepted TAI64N timestamp, now also hs.lastTimestamp. */
  readonly timestamp = new Uint8Array(TIMESTAMP_SIZE);
  senderIndex = 0;
}

/**
 * Responder: authenticates an initiation (MACs already checked) addressed to `identity`.
 * The decrypted static key is passed to `lookup` to find the peer's Handshake. Replay and
 * flood checks use the state the caller keeps in that Handshake (lastTimestamp,
 * lastInitiationConsumedAt): the timestamp must be greater than the last one accepted, and
 * nowMs (monotonic) more than 20 ms after the last consumed initiation. On success the
 * handshake moves to InitiationConsumed and records the new timestamp; otherwise nothing
 * changes and a drop reason is returned. Never throws on wire input.
 */
export function consumeInitiation(identity: StaticIdentity, buf: Uint8Array, off: number, len: number, nowMs: number, lookup: HandshakeLookup, out: ConsumedInitiation): DropReasonValue {
  out.handshake = null;
  const parsed = parseInitiation(buf, off, len, initiationView);
  if (parsed !== DropReason.None) return parsed;
  const hs = authenticateInitiation(identity, buf, off, lookup, out);
  if (typeof hs === 'number') {
    wipeScratch();
    return hs;
  }
  if (!tai64nAfter(timestamp, 0, hs.lastTimestamp, 0)) {
    wipeScratch();
    return DropReason.WgReplayedTimestamp;
  }
  if (!(nowMs - hs.lastInitiationConsumedAt > HANDSHAKE_INITIATION_RATE_MS)) {
    wipeScratch();
    return DropReason.WgRateLimited;
  }

  hs.hash.set(h);
  hs.chainKey.set(ck);
  hs.remoteIndex = initiationView.sender;
  const ephemeralAt = off + INITIATION_OFFSET_EPHEMERAL;
  hs.remoteEphemeral.set(buf.subarray(ephemeralAt, ephemeralAt + KEY_SIZE));
  hs.lastTimestamp.set(timestamp);
  if (nowMs > hs.lastInitiationConsumedAt) hs.lastInitiationConsumedAt = nowMs;
  hs.state = HandshakeState.InitiationConsumed;
  out.handshake = hs;
  out.timestamp.set(timestamp);
  out.senderIndex = initiationView.sender;
  wipeScratch();
  return DropReason.None;
}

/** The cryptographic half of consumeInitiation: the peer's handshake, with h, ck, timestamp in scratch. */
function authenticateInitiation(identity: StaticIdentity, buf: Uint8Array, off: number, lookup: HandshakeLookup, out: ConsumedInitiation): Handshake | DropReasonValue {
  const ephemeralAt = off + INITIATION_OFFSET_EPHEMERAL;
  const remoteEphemeral = buf.subarray(ephemeralAt, ephemeralAt + KEY_SIZE);
  hash(h, INITIAL_HASH, identity.publicKey);
  hash(h, h, remoteEphemeral);
  kdf1(ck, INITIAL_CHAIN_KEY, remoteEphemeral);

  if (!dh(ss, identity.privateKey, remoteEphemeral)) return DropReason.WgHandshakeFailed;
  kdf2(ck, key, ck, ss);
  const staticAt = off + INITIATION_OFFSET_STATIC;
  const sealedStatic = buf.subarray(staticAt, staticAt + KEY_SIZE + AEAD_TAG_SIZE);
  if (!aeadOpen(out.remoteStatic, 0, key, 0, sealedStatic, h)) return DropReason.WgHandshakeFailed;
  hash(h, h, sealedStatic);

  // Unknown static key: the kernel and wireguard-go drop silently; there is no closer reason.
  const hs = lookup(out.remoteStatic);
  if (!hs) return DropReason.WgHandshakeFailed;
  if (hs.identity !== identity || !constantTimeEqual(hs.remoteStatic, 0, out.remoteStatic, 0, KEY_SIZE)) return DropReason.WgHandshakeFailed;
  if (isZero(hs.precomputedStaticStatic)) return DropReason.WgHandshakeFailed;

  kdf2(ck, key, ck, hs.precomputedStaticStatic);
  const timestampAt = off + INITIATION_OFFSET_TIMESTAMP;
  const sealedTimestamp = buf.subarray(timestampAt, timestampAt + TIMESTAMP_SIZE + AEAD_TAG_SIZE);
  if (!aeadOpen(timestamp, 0, key, 0, sealedTimestamp, h)) return DropReason.WgHandshakeFailed;
  hash(h, h, sealedTimestamp);
  return hs;
}

/**
 * Responder: writes a 92-byte response (mac1/mac2 zeroed) to the initiation hs consumed.
 * senderIndex is the index the caller reserved. ephemeralPrivate is for deterministic tests.
 * Returns WgHandshakeFailed when hs is not in InitiationConsumed or a DH degenerates.
 */
export function createResponse(hs: Handshake, senderIndex: number, out: Uint8Array, off: number, ephemeralPrivate?: Uint8Array): DropReasonValue {
  if (hs.state !== HandshakeState.InitiationConsumed) return DropReason.WgHandshakeFailed;
  writeResponseHeader(out, off, senderIndex, hs.remoteIndex);
  setEphemeral(hs, ephemeralPrivate);

  const ephemeralAt = off + RESPONSE_OFFSET_EPHEMERAL;
  const ephemeralPublic = out.subarray(ephemeralAt, ephemeralAt + KEY_SIZE);
  derivePublicKey(ephemeralPublic, hs.localEphemeral);
  hash(hs.hash, hs.hash, ephemeralPublic);
  kdf1(hs.chainKey, hs.chainKey, ephemeralPublic);

  if (!dh(ss, hs.localEphemeral, hs.remoteEphemeral)) return failResponse(hs);
  kdf1(hs.chainKey, hs.chainKey, ss);
  if (!dh(ss, hs.localEphemeral, hs.remoteStatic)) return failResponse(hs);
  kdf1(hs.chainKey, hs.chainKey, ss);

  // psk, then empty = AEAD(k, 0, ε, h)
  kdf3(hs.chainKey, tau, key, hs.chainKey, hs.presharedKey);
  hash(hs.hash, hs.hash, tau);
  const emptyAt = off + RESPONSE_OFFSET_EMPTY;
  aeadSeal(out, emptyAt, key, 0, EMPTY, hs.hash);
  hash(hs.hash, hs.hash, out.subarray(emptyAt, emptyAt + AEAD_TAG_SIZE));

  out.fill(0, off + RESPONSE_OFFSET_MAC1, off + MESSAGE_RESPONSE_SIZE);
  hs.localIndex = senderIndex;
  hs.state = HandshakeState.ResponseCreated;
  wipeScratch();
  return DropReason.None;
}

function failResponse(hs: Handshake): DropReasonValue {
  hs.clear();
  wipeScratch();
  return DropReason.WgHandshakeFailed;
}

/**
 * Initiator: authenticates a response (MACs already checked) for hs, which the caller found
 * through the response's receiver index. WgUnknownIndex when that index is not hs's current
 * one, WgHandshakeFailed when hs sent no initiation or the response does not authenticate;
 * hs is unchanged on any failure. On success hs is ResponseConsumed, ready for deriveKeypair.
 */
export function consumeResponse(hs: Handshake, buf: Uint8Array, off: number, len: number): DropReasonValue {
  const parsed = parseResponse(buf, off, len, responseView);
  if (parsed !== DropReason.None) return parsed;
  if (hs.state !== HandshakeState.InitiationCreated) return DropReason.WgHandshakeFailed;
  if (responseView.receiver !== hs.localIndex) return DropReason.WgUnknownIndex;

  const ephemeralAt = off + RESPONSE_OFFSET_EPHEMERAL;
  const remoteEphemeral = buf.subarray(ephemeralAt, ephemeralAt + KEY_SIZE);
  hash(h, hs.hash, remoteEphemeral);
  kdf1(ck, hs.chainKey, remoteEphemeral);
  let ok = dh(ss, hs.localEphemeral, remoteEphemeral);
  if (ok) {
    kdf1(ck, ck, ss);
    ok = dh(ss, hs.identity.privateKey, remoteEphemeral);
  }
  if (ok) {
    kdf1(ck, ck, ss);
    kdf3(ck, tau, key, ck, hs.presharedKey);
    hash(h, h, tau);
    const emptyAt = off + RESPONSE_OFFSET_EMPTY;
    const sealedEmpty = buf.subarray(emptyAt, emptyAt + AEAD_TAG_SIZE);
    ok = aeadOpen(EMPTY, 0, key, 0, sealedEmpty, h);
    if (ok) hash(h, h, sealedEmpty);
  }
  if (!ok) {
    wipeScratch();
    return DropReason.WgHandshakeFailed;
  }
  hs.hash.set(h);
  hs.chainKey.set(ck);
  hs.remoteIndex = responseView.sender;
  hs.state = HandshakeState.ResponseConsumed;
  wipeScratch();
  return DropReason.None;
}

/** Transport keys of a finished handshake (wireguard-go's BeginSymmetricSession). */
interface SessionKeys {
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
  readonly isInitiator: boolean;
  /** Our index: the peer puts it in transport messages to us. The keypair now owns it. */
  readonly localIndex: number;
  /** The peer's index: we put it in transport messages to the peer. */
  readonly remoteIndex: number;
}

/**
 * Derives the transport keys once the handshake is complete on this side (initiator after
 * consumeResponse, responder after createResponse) and zeroes the handshake's chaining key,
 * hash and ephemeral keys. Returns null in any other state.
 */
export function deriveKeypair(hs: Handshake): SessionKeys | null {
  let isInitiator: boolean;
  if (hs.state === HandshakeState.ResponseConsumed) isInitiator = true;
  else if (hs.state === HandshakeState.ResponseCreated) isInitiator = false;
  else return null;
  const first = new Uint8Array(KEY_SIZE);
  const second = new Uint8Array(KEY_SIZE);
  // (T_send^i, T_recv^i) = KDF2(Ci, ε) = (T_recv^r, T_send^r)
  kdf2(first, second, hs.chainKey, EMPTY);
  const keys: SessionKeys = {
    sendKey: isInitiator ? first : second,
    receiveKey: isInitiator ? second : first,
    isInitiator,
    localIndex: hs.localIndex,
    remoteIndex: hs.remoteIndex,
  };
  hs.clear();
  return keys;
}
