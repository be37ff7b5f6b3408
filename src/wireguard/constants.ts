import { blake2s } from '@noble/hashes/blake2.js';

/**
 * WireGuard protocol constants: the whitepaper's (sections 5 and 6) and wireguard-go's
 * device/constants.go and noise-protocol.go. Times are milliseconds (the orchestrator's
 * injected clock is in ms); the names carry the unit.
 */

// Noise construction and labels (whitepaper 5.4).
export const CONSTRUCTION = 'Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s';
export const IDENTIFIER = 'WireGuard v1 zx2c4 Jason@zx2c4.com';
export const LABEL_MAC1 = 'mac1----';
export const LABEL_COOKIE = 'cookie--';

/** Message types: the first byte of every message, followed by three zero bytes. */
export const MessageType = {
  Initiation: 1,
  Response: 2,
  CookieReply: 3,
  Transport: 4,
} as const;

// Primitive sizes.
export const KEY_SIZE = 32;
export const HASH_SIZE = 32;
export const MAC_SIZE = 16;
export const AEAD_TAG_SIZE = 16;
export const AEAD_NONCE_SIZE = 12;
export const XAEAD_NONCE_SIZE = 24;
export const TIMESTAMP_SIZE = 12;
export const COOKIE_SIZE = 16;

// Message sizes.
export const MESSAGE_INITIATION_SIZE = 148;
export const MESSAGE_RESPONSE_SIZE = 92;
export const MESSAGE_COOKIE_REPLY_SIZE = 64;
export const MESSAGE_TRANSPORT_HEADER_SIZE = 16;
/** Header + tag of an empty payload: a keepalive, the smallest valid transport message. */
export const MESSAGE_TRANSPORT_MIN_SIZE = MESSAGE_TRANSPORT_HEADER_SIZE + AEAD_TAG_SIZE;

/**
 * Field offsets. Indices are little-endian u32 (wireguard-go marshals the structs LE and the
 * kernel declares them __le32); the transport counter is a little-endian u64.
 */
export const INITIATION_OFFSET_SENDER = 4;
export const INITIATION_OFFSET_EPHEMERAL = 8;
export const INITIATION_OFFSET_STATIC = 40; // 32 + 16 tag
export const INITIATION_OFFSET_TIMESTAMP = 88; // 12 + 16 tag
export const INITIATION_OFFSET_MAC1 = 116;
export const INITIATION_OFFSET_MAC2 = 132;

export const RESPONSE_OFFSET_SENDER = 4;
export const RESPONSE_OFFSET_RECEIVER = 8;
export const RESPONSE_OFFSET_EPHEMERAL = 12;
export const RESPONSE_OFFSET_EMPTY = 44; // 0 + 16 tag
export const RESPONSE_OFFSET_MAC1 = 60;
export const RESPONSE_OFFSET_MAC2 = 76;

export const COOKIE_REPLY_OFFSET_RECEIVER = 4;
export const COOKIE_REPLY_OFFSET_NONCE = 8;
export const COOKIE_REPLY_OFFSET_COOKIE = 32; // 16 + 16 tag

export const TRANSPORT_OFFSET_RECEIVER = 4;
export const TRANSPORT_OFFSET_COUNTER = 8;

// Limits (whitepaper 6.1).
export const REKEY_AFTER_MESSAGES = 2 ** 60;
/**
 * 2^64 - 2^13 - 1. A double cannot hold it: this number is 2^64 - 2^13, the nearest value.
 * Counters compared against it exactly must use REJECT_AFTER_MESSAGES_BIGINT or split u32 halves.
 */
export const REJECT_AFTER_MESSAGES = 2 ** 64 - 2 ** 13 - 1;
export const REJECT_AFTER_MESSAGES_BIGINT = (1n << 64n) - (1n << 13n) - 1n;
export const REKEY_AFTER_TIME_MS = 120_000;
export const REJECT_AFTER_TIME_MS = 180_000;
export const REKEY_TIMEOUT_MS = 5_000;
/** wireguard-go adds up to this much random jitter to each REKEY_TIMEOUT. */
export const REKEY_TIMEOUT_JITTER_MAX_MS = 334;
export const KEEPALIVE_TIMEOUT_MS = 10_000;
export const COOKIE_REFRESH_TIME_MS = 120_000;
/**
 * The kernel stops using a received cookie this long before the responder's secret can have
 * rotated (COOKIE_SECRET_LATENCY in cookie.h); wireguard-go uses the full 120 s.
 */
export const COOKIE_SECRET_LATENCY_MS = 5_000;
/**
 * At most one initiation consumed per peer per this interval: wireguard-go's
 * HandshakeInitationRate = time.Second / 50 and the kernel's INITIATIONS_PER_SECOND = 50,
 * i.e. 20 ms (50 per second, not 50 ms).
 */
export const HANDSHAKE_INITIATION_RATE_MS = 1000 / 50;
/** RekeyAttemptTime / RekeyTimeout: initiation retries before giving up. */
export const MAX_TIMER_HANDSHAKES = 90 / 5;
/** Plaintext of transport messages is zero-padded to a multiple of this. */
export const PADDING_MULTIPLE = 16;
/** wireguard-go: how long the device stays "under load" (cookie replies) once detected. */
export const UNDER_LOAD_AFTER_TIME_MS = 1_000;

const encoder = new TextEncoder();

/** Ci = HASH(CONSTRUCTION): 60e26dae…8b78cd36. */
export const INITIAL_CHAIN_KEY: Uint8Array = blake2s(encoder.encode(CONSTRUCTION));
/** Hi = HASH(Ci || IDENTIFIER): 2211b361…ba079ef3. */
export const INITIAL_HASH: Uint8Array = blake2s
  .create()
  .update(INITIAL_CHAIN_KEY)
  .update(encoder.encode(IDENTIFIER))
  .digest();
