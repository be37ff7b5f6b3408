import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REJECT_AFTER_MESSAGES, REJECT_AFTER_TIME_MS } from './constants.js';
import { Keypair, Keypairs, keypairUsableForSend } from './keypair.js';
import type { Peer } from './peer.js';

const peer = {} as Peer;
let n = 1;
const kp = (initiator: boolean, createdAt = 0) => new Keypair(peer, n++, 100 + n, 2 * n, 2 * n + 1, createdAt, initiator);

test('initiator install: current rotates to previous, the old previous falls out', () => {
  const k = new Keypairs();
  const k1 = kp(true);
  assert.deepEqual(k.install(k1), []);
  assert.equal(k.current, k1);
  const k2 = kp(true);
  assert.deepEqual(k.install(k2), []);
  assert.equal(k.current, k2);
  assert.equal(k.previous, k1);
  const k3 = kp(true);
  assert.deepEqual(k.install(k3), [k1]);
  assert.equal(k.previous, k2);
  assert.equal(k.next, null);
});

test('initiator install while a responder keypair is pending: next becomes previous, current and previous fall out', () => {
  const k = new Keypairs();
  const old = kp(true);
  const cur = kp(true);
  k.install(old);
  k.install(cur);
  const pending = kp(false);
  k.install(pending);
  assert.equal(k.next, pending);
  const mine = kp(true);
  const out = k.install(mine);
  assert.deepEqual(new Set(out), new Set([cur]), 'wireguard-go deletes current (previous was already cleared by the responder install)');
  assert.equal(k.current, mine);
  assert.equal(k.previous, pending);
  assert.equal(k.next, null);
});

test('responder install: becomes next, replaces a pending next, and drops previous', () => {
  const k = new Keypairs();
  const a = kp(true);
  const b = kp(true);
  k.install(a);
  k.install(b);
  assert.equal(k.previous, a);
  const r1 = kp(false);
  assert.deepEqual(k.install(r1), [a]);
  assert.equal(k.next, r1);
  assert.equal(k.current, b, 'current keeps sending until the initiator confirms');
  assert.equal(k.previous, null);
  const r2 = kp(false);
  assert.deepEqual(k.install(r2), [r1]);
  assert.equal(k.next, r2);
});

test('confirmNext: only the pending keypair rotates in', () => {
  const k = new Keypairs();
  const c = kp(true);
  k.install(c);
  const r = kp(false);
  k.install(r);
  assert.equal(k.confirmNext(c), undefined, 'not next: nothing happens');
  assert.equal(k.confirmNext(r), null, 'previous was empty');
  assert.equal(k.current, r);
  assert.equal(k.previous, c);
  assert.equal(k.next, null);
  assert.equal(k.confirmNext(r), undefined, 'already confirmed');
});

test('clear and expireForSending', () => {
  const k = new Keypairs();
  const a = kp(true);
  const b = kp(true);
  k.install(a);
  k.install(b);
  const r = kp(false);
  k.install(r);
  k.expireForSending();
  assert.equal(b.sendCounter, REJECT_AFTER_MESSAGES);
  assert.equal(r.sendCounter, REJECT_AFTER_MESSAGES);
  assert.equal(keypairUsableForSend(b, 0), false);
  assert.deepEqual(new Set(k.clear()), new Set([b, r]));
  assert.equal(k.current, null);
  assert.deepEqual(k.clear(), []);
});

test('usable for sending: below the message limit, younger than REJECT_AFTER_TIME, not deleted', () => {
  const k = kp(true, 1000);
  assert.equal(keypairUsableForSend(k, 1000 + REJECT_AFTER_TIME_MS - 1), true);
  assert.equal(keypairUsableForSend(k, 1000 + REJECT_AFTER_TIME_MS), false);
  assert.equal(keypairUsableForSend(null, 0), false);
  k.sendCounter = REJECT_AFTER_MESSAGES - 2 ** 20;
  assert.equal(keypairUsableForSend(k, 1000), true);
  k.sendCounter = REJECT_AFTER_MESSAGES;
  assert.equal(keypairUsableForSend(k, 1000), false);
  const d = kp(true, 0);
  d.sendSlot = -1;
  assert.equal(keypairUsableForSend(d, 0), false);
  assert.equal(d.deleted, true);
});
