import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KEEPALIVE_TIMEOUT_MS, MAX_TIMER_HANDSHAKES, REJECT_AFTER_TIME_MS, REKEY_TIMEOUT_MS } from './constants.js';
import { PeerTimers, runExpiredTimers, type TimerHandlers } from './timers.js';

class Recorder implements TimerHandlers<string> {
  log: string[] = [];
  sendHandshakeInitiation(_p: string, isRetry: boolean): void {
    this.log.push(isRetry ? 'retry' : 'initiate');
  }
  sendKeepalive(): void {
    this.log.push('keepalive');
  }
  flushStaged(): void {
    this.log.push('flush');
  }
  zeroAndFlushAll(): void {
    this.log.push('zero');
  }
  handshakeGaveUp(): void {
    this.log.push('giveup');
  }
}

test('inactive timers ignore events and never fire', () => {
  const t = new PeerTimers();
  t.dataSent(0, 0);
  t.dataReceived(0);
  t.handshakeInitiated(0, 0);
  t.sessionDerived(0);
  t.anyAuthenticatedPacketTraversal(0, 25);
  assert.equal(t.nextDeadline(), Infinity);
  const r = new Recorder();
  runExpiredTimers(t, 'p', 25, 1e12, r);
  assert.deepEqual(r.log, []);
});

test('start allows an immediate handshake; stop clears everything', () => {
  const t = new PeerTimers();
  t.start(1000);
  assert.ok(1000 - t.lastSentHandshake > REKEY_TIMEOUT_MS);
  t.sessionDerived(1000);
  t.stop();
  assert.equal(t.nextDeadline(), Infinity);
  assert.equal(t.active, false);
});

test('keepalive: armed by data received, re-armed once when more data came meanwhile, cancelled by any send', () => {
  const t = new PeerTimers();
  t.start(0);
  const r = new Recorder();
  t.dataReceived(0);
  assert.equal(t.sendKeepaliveAt, KEEPALIVE_TIMEOUT_MS);
  t.dataReceived(5);
  assert.equal(t.needAnotherKeepalive, true);
  runExpiredTimers(t, 'p', 0, KEEPALIVE_TIMEOUT_MS, r);
  assert.deepEqual(r.log, ['keepalive']);
  assert.equal(t.sendKeepaliveAt, 2 * KEEPALIVE_TIMEOUT_MS);
  t.anyAuthenticatedPacketSent();
  assert.equal(t.sendKeepaliveAt, Infinity);
});

test('new handshake after data sent and nothing received; any receive cancels it', () => {
  const t = new PeerTimers();
  t.start(0);
  const r = new Recorder();
  t.dataSent(0, 100);
  assert.equal(t.newHandshakeAt, KEEPALIVE_TIMEOUT_MS + REKEY_TIMEOUT_MS + 100);
  t.dataSent(50, 200);
  assert.equal(t.newHandshakeAt, KEEPALIVE_TIMEOUT_MS + REKEY_TIMEOUT_MS + 100, 'not pushed back by more data');
  t.anyAuthenticatedPacketReceived();
  assert.equal(t.newHandshakeAt, Infinity);
  t.dataSent(1000, 0);
  runExpiredTimers(t, 'p', 0, 1000 + KEEPALIVE_TIMEOUT_MS + REKEY_TIMEOUT_MS, r);
  assert.deepEqual(r.log, ['initiate']);
});

test('retransmission counts attempts and gives up after MAX_TIMER_HANDSHAKES + 1 retries', () => {
  const t = new PeerTimers();
  t.start(0);
  const r = new Recorder();
  let now = 0;
  t.handshakeInitiated(now, 0);
  // The recorder does not re-arm; the device does (handshakeInitiated after each send).
  for (let i = 0; i < 30 && t.retransmitHandshakeAt !== Infinity; i++) {
    now = t.retransmitHandshakeAt;
    runExpiredTimers(t, 'p', 0, now, r);
    if (r.log.at(-1) === 'retry') t.handshakeInitiated(now, 0);
  }
  assert.equal(r.log.filter((x) => x === 'retry').length, MAX_TIMER_HANDSHAKES + 1);
  assert.deepEqual(r.log.slice(-2), ['flush', 'giveup']);
  assert.equal(t.zeroKeyMaterialAt, now + 3 * REJECT_AFTER_TIME_MS, 'residue destroyed later');
  t.handshakeComplete();
  assert.equal(t.handshakeAttempts, 0);
});

test('zero key material and persistent keepalive', () => {
  const t = new PeerTimers();
  t.start(0);
  const r = new Recorder();
  t.sessionDerived(0);
  t.anyAuthenticatedPacketTraversal(0, 25);
  assert.equal(t.persistentKeepaliveAt, 25_000);
  runExpiredTimers(t, 'p', 25, 25_000, r);
  assert.deepEqual(r.log, ['keepalive']);
  t.anyAuthenticatedPacketTraversal(25_000, 25);
  runExpiredTimers(t, 'p', 0, 50_000, r);
  assert.deepEqual(r.log, ['keepalive'], 'interval turned off: nothing sent');
  runExpiredTimers(t, 'p', 0, 3 * REJECT_AFTER_TIME_MS, r);
  assert.deepEqual(r.log, ['keepalive', 'zero']);
});
