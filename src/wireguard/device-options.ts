/** WgDevice's constructor options, defaults and events (device.ts re-exports them). */
import type { BufferPool } from '../buffer/pool.js';
import type { TunPort, UdpPort } from '../io/ports.js';
import type { BatchAead } from './batch-aead.js';
import type { DeviceLogger, Peer } from './peer.js';

export const DEFAULT_MTU = 1420;
/** Handshake messages processed per callback before yielding to data (setImmediate for the rest). */
export const DEFAULT_HANDSHAKE_BUDGET = 16;
export const DEFAULT_TICK_INTERVAL_MS = 100;
export const DEFAULT_BATCHES_PER_WAKE = 4;

export interface WgDeviceOptions {
  pool: BufferPool;
  tun: TunPort;
  udp: UdpPort;
  /** Monotonic clock, ms. Default performance.now. */
  now?: () => number;
  /** Wall clock, ms since the epoch (TAI64N, last handshake). Default Date.now. */
  wallNow?: () => number;
  /** Uniform [0, 1) for timer jitter. Default Math.random. */
  random?: () => number;
  /** Transport AEAD. Default: the native batch kernels. */
  aead?: BatchAead;
  /** Packets per batch (TUN in, UDP in, seal, TUN out). Default 128. */
  batchSize?: number;
  /** Inner MTU for padding. Default 1420. */
  mtu?: number;
  /** Handshake queue slots: min(this (default 1024), pool.slotCount / 4). */
  handshakeQueueSize?: number;
  /** Handshake messages per callback. Default 16. */
  handshakeBudget?: number;
  /** Queue length from which the device is under load. Default handshakeQueueSize / 8. */
  underLoadThreshold?: number;
  /** Per-peer staged packets. Default 128. */
  stagedQueueSize?: number;
  /** Key table: initial and maximum 32-byte slots (two per keypair). */
  keyTableSlots?: number;
  keyTableMaxSlots?: number;
  indexTableCapacity?: number;
  rateLimiterCapacity?: number;
  /** Period of the internal tick() timer; 0 = none (the caller ticks). Default 100 ms. */
  tickIntervalMs?: number;
  /** Full batches read per readiness callback before yielding. Default 4. */
  batchesPerWake?: number;
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
