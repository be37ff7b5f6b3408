import { KEEPALIVE_TIMEOUT_MS, MAX_TIMER_HANDSHAKES, REJECT_AFTER_TIME_MS, REKEY_TIMEOUT_MS } from './constants.js';

/**
 * A peer's protocol timers (wireguard-go timers.go, itself the kernel's timers.c) as
 * deadlines in monotonic ms, Infinity when not pending. Nothing here owns a timer: the
 * device checks every peer's deadlines in one periodic tick(now), so a fake clock drives
 * them all in tests. The event methods are the ones wireguard-go calls from its send and
 * receive paths; they are a few comparisons and stores, cheap enough per packet. They do
 * nothing unless the timers are active (device up, peer present: timersActive()).
 *
 * Expiry actions need the device (send a keepalive, an initiation, drop keys), so
 * runExpiredTimers() calls back into a TimerHandlers implementation.
 */
export class PeerTimers {
  active = false;
  retransmitHandshakeAt = Infinity;
  sendKeepaliveAt = Infinity;
  newHandshakeAt = Infinity;
  zeroKeyMaterialAt = Infinity;
  persistentKeepaliveAt = Infinity;
  /** Retransmissions of the current initiation so far (reset by a fresh, non-retry initiation). */
  handshakeAttempts = 0;
  needAnotherKeepalive = false;
  /** One last-minute rekey per session on the receive side (keepKeyFreshReceiving). */
  sentLastMinuteHandshake = false;
  /** Monotonic ms of the last initiation or response we sent: at most one per REKEY_TIMEOUT. */
  lastSentHandshake = -Infinity;

  /** Device up / peer added while up (wireguard-go Peer.Start: a handshake may go out at once). */
  start(now: number): void {
    this.stop();
    this.active = true;
    this.lastSentHandshake = now - (REKEY_TIMEOUT_MS + 1000);
  }

  /** Device down / peer removed: nothing pending. */
  stop(): void {
    this.active = false;
    this.retransmitHandshakeAt = Infinity;
    this.sendKeepaliveAt = Infinity;
    this.newHandshakeAt = Infinity;
    this.zeroKeyMaterialAt = Infinity;
    this.persistentKeepaliveAt = Infinity;
    this.handshakeAttempts = 0;
    this.needAnotherKeepalive = false;
    this.sentLastMinuteHandshake = false;
  }

  /** After an authenticated data packet (not a keepalive) is sent. jitterMs in [0, 334). */
  dataSent(now: number, jitterMs: number): void {
    if (this.active && this.newHandshakeAt === Infinity) this.newHandshakeAt = now + KEEPALIVE_TIMEOUT_MS + REKEY_TIMEOUT_MS + jitterMs;
  }

  /** After an authenticated data packet is received. */
  dataReceived(now: number): void {
    if (!this.active) return;
    if (this.sendKeepaliveAt === Infinity) this.sendKeepaliveAt = now + KEEPALIVE_TIMEOUT_MS;
    else this.needAnotherKeepalive = true;
  }

  /** After any authenticated packet (keepalive, data, handshake) is sent. */
  anyAuthenticatedPacketSent(): void {
    if (this.active) this.sendKeepaliveAt = Infinity;
  }

  /** After any authenticated packet is received. */
  anyAuthenticatedPacketReceived(): void {
    if (this.active) this.newHandshakeAt = Infinity;
  }

  /** Before any authenticated packet is sent or after one is received: re-arms persistent keepalive. */
  anyAuthenticatedPacketTraversal(now: number, persistentKeepaliveSeconds: number): void {
    if (this.active && persistentKeepaliveSeconds > 0) this.persistentKeepaliveAt = now + persistentKeepaliveSeconds * 1000;
  }

  /** After an initiation is sent. */
  handshakeInitiated(now: number, jitterMs: number): void {
    if (this.active) this.retransmitHandshakeAt = now + REKEY_TIMEOUT_MS + jitterMs;
  }

  /** After a response is consumed, or the first packet under a responder's keypair arrives. */
  handshakeComplete(): void {
    if (this.active) this.retransmitHandshakeAt = Infinity;
    this.handshakeAttempts = 0;
    this.sentLastMinuteHandshake = false;
  }

  /** After a keypair is derived (either role): keys die 3 x REJECT_AFTER_TIME later unless renewed. */
  sessionDerived(now: number): void {
    if (this.active) this.zeroKeyMaterialAt = now + 3 * REJECT_AFTER_TIME_MS;
  }

  /** Earliest pending deadline (Infinity when none). */
  nextDeadline(): number {
    return Math.min(this.retransmitHandshakeAt, this.sendKeepaliveAt, this.newHandshakeAt, this.zeroKeyMaterialAt, this.persistentKeepaliveAt);
  }
}

/** What expiring timers do; the device implements it. */
export interface TimerHandlers<P> {
  /** Send an initiation; isRetry keeps the attempt counter. */
  sendHandshakeInitiation(peer: P, isRetry: boolean, now: number): void;
  sendKeepalive(peer: P, now: number): void;
  /** Drop the packets waiting for a session. */
  flushStaged(peer: P): void;
  /** Drop all keys and the handshake in progress. */
  zeroAndFlushAll(peer: P): void;
  /** Handshake attempts exhausted (for logs/events). */
  handshakeGaveUp(peer: P): void;
}

/**
 * Fires every deadline of `t` that is due at `now` (each at most once per call), the way
 * wireguard-go's expired* functions do. A deadline is cleared before its action runs, as a
 * kernel timer is no longer pending when its function runs.
 */
export function runExpiredTimers<P>(t: PeerTimers, peer: P, persistentKeepaliveSeconds: number, now: number, h: TimerHandlers<P>): void {
  if (!t.active) return;
  if (t.retransmitHandshakeAt <= now) {
    t.retransmitHandshakeAt = Infinity;
    if (t.handshakeAttempts > MAX_TIMER_HANDSHAKES) {
      // Give up: drop what waited for this session, and destroy any partial exchange later.
      t.sendKeepaliveAt = Infinity;
      h.flushStaged(peer);
      if (t.zeroKeyMaterialAt === Infinity) t.zeroKeyMaterialAt = now + 3 * REJECT_AFTER_TIME_MS;
      h.handshakeGaveUp(peer);
    } else {
      t.handshakeAttempts++;
      h.sendHandshakeInitiation(peer, true, now);
    }
  }
  if (t.sendKeepaliveAt <= now) {
    t.sendKeepaliveAt = Infinity;
    h.sendKeepalive(peer, now);
    if (t.needAnotherKeepalive) {
      t.needAnotherKeepalive = false;
      if (t.active) t.sendKeepaliveAt = now + KEEPALIVE_TIMEOUT_MS;
    }
  }
  if (t.newHandshakeAt <= now) {
    t.newHandshakeAt = Infinity;
    h.sendHandshakeInitiation(peer, false, now);
  }
  if (t.zeroKeyMaterialAt <= now) {
    t.zeroKeyMaterialAt = Infinity;
    h.zeroAndFlushAll(peer);
  }
  if (t.persistentKeepaliveAt <= now) {
    t.persistentKeepaliveAt = Infinity;
    if (persistentKeepaliveSeconds > 0) h.sendKeepalive(peer, now);
  }
}
