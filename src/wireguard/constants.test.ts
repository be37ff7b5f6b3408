import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as C from './constants.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('initial chaining key = HASH(CONSTRUCTION), initial hash = HASH(Ci || IDENTIFIER)', () => {
  assert.equal(toHex(C.INITIAL_CHAIN_KEY), '60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36');
  assert.equal(toHex(C.INITIAL_HASH), '2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3');
  // Same values from OpenSSL's BLAKE2s, so the strings themselves are pinned too.
  assert.equal(createHash('blake2s256').update(C.CONSTRUCTION).digest('hex'), toHex(C.INITIAL_CHAIN_KEY));
  assert.equal(createHash('blake2s256').update(C.INITIAL_CHAIN_KEY).update(C.IDENTIFIER).digest('hex'), toHex(C.INITIAL_HASH));
});

test('labels and message types', () => {
  assert.equal(C.CONSTRUCTION, 'Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s');
  assert.equal(C.IDENTIFIER, 'WireGuard v1 zx2c4 Jason@zx2c4.com');
  assert.equal(C.LABEL_MAC1, 'mac1----');
  assert.equal(C.LABEL_COOKIE, 'cookie--');
  assert.deepEqual(C.MessageType, { Initiation: 1, Response: 2, CookieReply: 3, Transport: 4 });
});

test('message layouts add up to the wire sizes', () => {
  const tagged = (n: number): number => n + C.AEAD_TAG_SIZE;
  assert.equal(C.INITIATION_OFFSET_STATIC, C.INITIATION_OFFSET_EPHEMERAL + C.KEY_SIZE);
  assert.equal(C.INITIATION_OFFSET_TIMESTAMP, C.INITIATION_OFFSET_STATIC + tagged(C.KEY_SIZE));
  assert.equal(C.INITIATION_OFFSET_MAC1, C.INITIATION_OFFSET_TIMESTAMP + tagged(C.TIMESTAMP_SIZE));
  assert.equal(C.INITIATION_OFFSET_MAC2 + C.MAC_SIZE, C.MESSAGE_INITIATION_SIZE);
  assert.equal(C.MESSAGE_INITIATION_SIZE, 148);
  assert.equal(C.RESPONSE_OFFSET_EMPTY, C.RESPONSE_OFFSET_EPHEMERAL + C.KEY_SIZE);
  assert.equal(C.RESPONSE_OFFSET_MAC1, C.RESPONSE_OFFSET_EMPTY + tagged(0));
  assert.equal(C.RESPONSE_OFFSET_MAC2 + C.MAC_SIZE, C.MESSAGE_RESPONSE_SIZE);
  assert.equal(C.MESSAGE_RESPONSE_SIZE, 92);
  assert.equal(C.COOKIE_REPLY_OFFSET_COOKIE, C.COOKIE_REPLY_OFFSET_NONCE + C.XAEAD_NONCE_SIZE);
  assert.equal(C.COOKIE_REPLY_OFFSET_COOKIE + tagged(C.COOKIE_SIZE), C.MESSAGE_COOKIE_REPLY_SIZE);
  assert.equal(C.MESSAGE_COOKIE_REPLY_SIZE, 64);
  assert.equal(C.MESSAGE_TRANSPORT_HEADER_SIZE, 16);
  assert.equal(C.MESSAGE_TRANSPORT_MIN_SIZE, 32);
});

test('timers and limits match wireguard-go device/constants.go', () => {
  assert.equal(C.REKEY_AFTER_MESSAGES, 2 ** 60);
  assert.equal(C.REJECT_AFTER_MESSAGES_BIGINT, 18446744073709543423n);
  // The number form is the nearest double, never above the exact value by more than rounding.
  assert.equal(BigInt(C.REJECT_AFTER_MESSAGES), 18446744073709543424n);
  assert.equal(C.REKEY_AFTER_TIME_MS, 120_000);
  assert.equal(C.REJECT_AFTER_TIME_MS, 180_000);
  assert.equal(C.REKEY_TIMEOUT_MS, 5_000);
  assert.equal(C.KEEPALIVE_TIMEOUT_MS, 10_000);
  assert.equal(C.COOKIE_REFRESH_TIME_MS, 120_000);
  assert.equal(C.HANDSHAKE_INITIATION_RATE_MS, 20);
  assert.equal(C.MAX_TIMER_HANDSHAKES, 18);
  assert.equal(C.PADDING_MULTIPLE, 16);
});
