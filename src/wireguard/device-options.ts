/** WgDevice's constructor options, defaults and events (device.ts re-exports them). */
import type { BufferPool } from '../buffer/pool.js';
import type { BatchAead } from './batch-aead.js';
import type { DeviceLogger, Peer } from './peer.js';

export const DEFAULT_MTU = 1420;
/** Handshake messages processed per callback before yielding to data (setImmediate for the rest). */
export const DEFAULT_HANDSHAKE_BUDGET = 16;
/**
 * Milliseconds of handshake work per callback (checked after each message, so one message
 * may overrun it): with the count above, whichever comes first. Running out of it with work
 * left in two polls running puts the device under load for a second (cookie replies, no DH).
 */
export const DEFAULT_HANDSHAKE_TIME_BUDGET_MS = 1;

export interface WgDeviceOptions {
  pool: BufferPool;
  /** Monotonic clock, ms. Default performance.now. */
  now?: () => number;
  /** Wall clock, ms since the epoch (TAI64N, last handshake). Default Date.now. */
  wallNow?: () => number;
  /** Uniform [0, 1) for timer jitter. Default Math.random. */
  random?: () => number;
  /** Transport AEAD. Default: the native batch kernels. */
  aead?: BatchAead;
  /** Packets per batch (the datapath's batch size: open and seal scratch). Default 128. */
  batchSize?: number;
  /** Inner MTU for padding until the device is mounted (then the datapath's). Default 1420. */
  mtu?: number;
  /** Handshake queue slots: min(this (default 1024), pool.slotCount / 4). */
  handshakeQueueSize?: number;
  /** Handshake messages per callback. Default 16. */
  handshakeBudget?: number;
  /** Milliseconds of handshake work per callback, on the `now` clock. Default 1. */
  handshakeTimeBudgetMs?: number;
  /** Queue length from which the device is under load. Default handshakeQueueSize / 8. */
  underLoadThreshold?: number;
  /** Per-peer staged packets. Default 128. */
  stagedQueueSize?: number;
  /** Key table: initial and maximum 32-byte slots (two per keypair). */
  keyTableSlots?: number;
  keyTableMaxSlots?: number;
  indexTableCapacity?: number;
  /** Sources tracked by the DH rate limiter and by the cookie-reply limiter (each). Default 4096. */
  rateLimiterCapacity?: number;
  /** Cookie replies a second, all sources together (each source also 20/s). Default 1000. */
  cookieRepliesPerSecond?: number;
  logger?: DeviceLogger;
}

/** Events, for the control socket and logs (never on a per-packet path). */
export interface WgDeviceEvents {
  /** A session was established: we consumed a response (initiator) or our keypair was confirmed (responder). */
  handshake: [peer: Peer, initiator: boolean];
  /** A peer's endpoint changed because an authenticated packet came from elsewhere (roaming). */
  endpoint: [peer: Peer];
  /** Handshake attempts ran out (MAX_TIMER_HANDSHAKES): staged packets dropped. */
  handshakeGiveUp: [peer: Peer];
  /** All of a peer's keys were destroyed (3 x REJECT_AFTER_TIME without a new session). */
  keysZeroed: [peer: Peer];
}

export type PortConfigHook = (what: 'listenPort' | 'fwmark', value: number) => void;
