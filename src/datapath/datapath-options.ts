/** What a Datapath is built from, its defaults, and the counters it keeps of itself. */
import type { BufferPool } from '../buffer/pool.js';
import { ErrorCode, FerryError } from '../errors.js';
import type { TunPort } from '../io/ports.js';
import type { DeviceKind } from './l2-path.js';

export const DEFAULT_TICK_INTERVAL_MS = 100;
export const DEFAULT_BATCHES_PER_WAKE = 4;
/** Deferred plane work (handshakes) per turn, before yielding to data. */
export const DEFAULT_POLL_BUDGET = 16;

export interface DatapathOptions {
  pool: BufferPool;
  tun: TunPort;
  /** Inner MTU; packets from the TUN above it are answered with ICMP. Default 1420. */
  mtu?: number;
  /** Monotonic clock, ms. Default performance.now. */
  now?: () => number;
  /** Packets per batch. Default 128. */
  batchSize?: number;
  /** Full batches read per readiness callback before yielding. Default 4. */
  batchesPerWake?: number;
  /** Period of the internal tick; 0 = none (the caller ticks). Default 100 ms. */
  tickIntervalMs?: number;
  /** Deferred plane work per turn. Default 16. */
  pollBudget?: number;
  /** Told about I/O errors that were survived (rate-limited by the caller's logger). */
  onIoError?: (where: string, err: unknown) => void;
  /** 'tap': the device carries Ethernet frames, all of them for one L2 plane (setL2Plane). Default 'tun'. */
  device?: DeviceKind;
}

/** Counters of the datapath itself (planes count their own). */
export interface DatapathStats {
  tunRead: number;
  tunWritten: number;
  sendBlocks: number;
  ioErrors: number;
  tooBig: number;
}

export function checkMtu(mtu: number): number {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new FerryError(ErrorCode.InvalidArgument, `MTU must be an integer in [68, 65535], got ${mtu}`);
  return mtu;
}
