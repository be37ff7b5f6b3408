/**
 * WgDevice: the WireGuard plane (wireguard-go device.go, minus the I/O). It owns the peers
 * and every WireGuard table, and the datapath (src/datapath) drives it:
 *   - encapsulate(batch, refs) -> send.ts encapsulateBatch (pad, header, queue; one seal per flush)
 *   - decapsulate(batch)       -> receive.ts receiveUdpBatch (one open, deliver to the host),
 *                                 handshakes parked in the handshake queue
 *   - poll(now, budget)        -> a slice of the handshake queue, under a count and a time budget (handshake-path.ts)
 *   - tick(now)                -> every peer's protocol timers (timers.ts), rate limiters' gc
 * It owns no port: datagrams go into the datapath's out batch and leave once per wake.
 * Allowed IPs are claimed in the datapath's route table (the route's reference is the
 * peer) and kept in the device's own trie for the inbound source check and `wg show`.
 * Time is injected (`now` monotonic ms, `wallNow` for TAI64N and last-handshake times).
 * Configuration follows the cross-platform UAPI's semantics.
 */
import type { PacketBatch } from '../buffer/batch.js';
import type { OutBatch } from '../datapath/out-batch.js';
import type { Plane, PlaneIo } from '../datapath/plane.js';
import { ErrorCode, FerryError } from '../errors.js';
import { DropReason } from '../stats/drop-reasons.js';
import { AEAD_TAG_SIZE, MESSAGE_TRANSPORT_HEADER_SIZE, UNDER_LOAD_AFTER_TIME_MS } from './constants.js';
import { WgDeviceConfig } from './device-config.js';
import { processHandshakeQueue } from './handshake-path.js';
import type { Peer } from './peer.js';
import { RATELIMITER_IDLE_MS } from './ratelimiter.js';
import { receiveUdpBatch } from './receive.js';
import { encapsulateBatch, sealPrepared, sendKeepalive, sentToPeers } from './send.js';
import { runExpiredTimers } from './timers.js';

export { DEFAULT_MTU, type WgDeviceOptions } from './device-options.js';

/**
 * The plane: WgDeviceConfig (device-config.ts) on WgDeviceCore (device-core.ts), plus
 * what the datapath calls (Plane): mount, up and down, the batch transforms, the handshake
 * slice and the tick.
 */
export class WgDevice extends WgDeviceConfig implements Plane {
  readonly name = 'wireguard';
  /** A transport header and the AEAD tag (padding stays within the MTU). */
  readonly overhead = MESSAGE_TRANSPORT_HEADER_SIZE + AEAD_TAG_SIZE;
  private lastGc = -Infinity;
  /** Polls in a row that ran out of time with work left. */
  private budgetOverruns = 0;
  private closed = false;
  /** One peer's due timers at batchNow (tick's callback, bound once). */
  private readonly tickPeer = (peer: Peer): void => runExpiredTimers(peer.timers, peer, peer.persistentKeepaliveInterval, this.batchNow, this);

  // ---------------------------------------------------------------- Plane

  attach(io: PlaneIo): void {
    if (this.ioValue !== null) throw new FerryError(ErrorCode.InvalidArgument, 'the WireGuard device is already mounted');
    for (const peer of this.peersByKey.values()) {
      for (const p of this.allowedIps.entriesForPeer(peer)) if (io.routeConflict(p) !== null) throw new FerryError(ErrorCode.RouteConflict, `an allowed IP of peer ${peer.toString()} is routed to ${io.routeConflict(p)}`);
    }
    this.ioValue = io;
    for (const peer of this.peersByKey.values()) for (const p of this.allowedIps.entriesForPeer(peer)) io.claimRoute(p, peer);
  }

  /** The interface comes up: timers run, persistent keepalives go out. */
  start(now = this.now()): void {
    if (this.closed) throw new FerryError(ErrorCode.InvalidArgument, 'device is closed');
    if (this.up) return;
    this.up = true;
    this.batchNow = now;
    for (const peer of this.peersByKey.values()) peer.timers.start(now);
    if (this.ioValue === null) return;
    for (const peer of this.peersByKey.values()) if (peer.persistentKeepaliveInterval > 0) sendKeepalive(this, peer, now);
  }

  /** Down (wireguard-go: peers stop and all keys are zeroed). */
  stop(): void {
    if (!this.up) return;
    this.up = false;
    for (const peer of this.peersByKey.values()) {
      peer.timers.stop();
      this.zeroAndFlushAll(peer);
    }
    this.handshakeQueue.releaseAll(this.pool);
    this.underLoadUntil = -Infinity;
  }

  /** Stops and removes every peer. Every pool slot the device held is back. */
  close(): void {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    this.removeAllPeers();
    this.handshakeQueue.releaseAll(this.pool);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  encapsulate(batch: PacketBatch, refs: readonly unknown[]): void {
    this.batchNow = this.io.now;
    if (!this.up) {
      const io = this.io;
      for (let i = 0; i < batch.count; i++) {
        if (io.capturing) io.captureDrop(DropReason.WgDeviceDown, batch.offsets[i], batch.lengths[i], refs[i], null, 0);
        this.pool.release(batch.slots[i]);
      }
      this.drops.count(DropReason.WgDeviceDown, batch.count);
      batch.count = 0;
      return;
    }
    encapsulateBatch(this, batch, refs);
  }

  decapsulate(batch: PacketBatch): void {
    this.batchNow = this.io.now;
    receiveUdpBatch(this, batch);
  }

  prepare(out: OutBatch, from: number, to: number): void {
    sealPrepared(this, this.seal, out, from, to);
  }

  sent(out: OutBatch, count: number, results: Int32Array): void {
    sentToPeers(this, out, count, results);
  }

  /**
   * A slice of the handshake queue after the data of a wake: at most `budget` messages
   * (and handshakeBudget) and handshakeTimeBudgetMs on the device's clock, whichever ends
   * first. True while more waits (a budget of 0 parks them). Out of time with work left in
   * two polls running: under load for a second, so what follows gets cookie replies instead
   * of DHs (once alone is a few real handshakes arriving together: 3 DHs each).
   */
  poll(now: number, budget = this.handshakeBudget): boolean {
    if (!this.up || this.handshakeQueue.length === 0) return false;
    this.batchNow = now;
    const deadline = this.now() + this.handshakeTimeBudgetMs;
    const done = processHandshakeQueue(this, Math.min(budget, this.handshakeBudget), deadline, now);
    const t = this.handshakeQueue.length === 0 ? -Infinity : this.now();
    if (t < deadline) {
      this.budgetOverruns = 0;
    } else if (++this.budgetOverruns >= 2) {
      this.underLoadUntil = t + UNDER_LOAD_AFTER_TIME_MS;
    }
    return done > 0 && this.handshakeQueue.length > 0;
  }

  /** Runs every due protocol timer; the datapath's tick calls it. */
  tick(now = this.now()): void {
    if (!this.up) return;
    this.batchNow = now;
    // forEach with a callback made once: the tick runs too rarely to be optimised, and a
    // Map iterator would leave garbage every 100 ms.
    this.peersByKey.forEach(this.tickPeer);
    if (now - this.lastGc >= RATELIMITER_IDLE_MS) {
      this.rateLimiter.gc(now);
      this.cookieReplyLimiter.gc(now);
      this.lastGc = now;
    }
  }
}
