import { webcrypto } from 'node:crypto';
import { ErrorCode, FerryError } from '../errors.js';

/**
 * The table of local receiver indices (wireguard-go device/indextable.go, kernel
 * peerlookup.c index_hashtable): every handshake we take part in and every keypair it
 * becomes is known to peers by a random 32-bit index, which they echo in responses,
 * cookie replies and every transport packet. This maps index -> entry (peer plus the
 * handshake or keypair; the entry type is the caller's).
 *
 * - Indices are random and unique among live entries. 0 is never handed out, so callers
 *   can use 0 as "no index" in preallocated records (wireguard-go and the kernel both
 *   allow 0; skipping it costs one value in 2^32 and changes nothing on the wire).
 * - Bounded: insert() returns 0 when `capacity` entries are live (the caller drops the
 *   handshake). Live entries are at most ~3 keypairs + 1 handshake per peer, so the
 *   default of 2^20 only bites if something leaks.
 * - lookup() is the per-packet call: one Map.get on an int32 key, no allocation.
 *   Keys are stored as int32 (`index | 0`) so they stay small integers in V8 rather than
 *   heap numbers; the API takes and returns uint32 (what the wire carries).
 */

export const DEFAULT_INDEX_CAPACITY = 1 << 20;
/** Random draws per insert before concluding the random source is broken. */
const MAX_DRAWS = 64;
const BATCH = 64;

interface IndexTableOptions {
  /** Maximum live entries. Default 2^20. */
  capacity?: number;
  /** Fills its argument with random uint32s. Default crypto.getRandomValues; tests inject. */
  randomFill?: (out: Uint32Array) => void;
}

export class IndexTable<T> {
  readonly capacity: number;
  private readonly map = new Map<number, T>();
  private readonly randomFill: (out: Uint32Array) => void;
  /** Random values drawn in batches; next unread at `cursor`. */
  private readonly pool = new Uint32Array(BATCH);
  private cursor = BATCH;

  constructor(options: IndexTableOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_INDEX_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 2 ** 31) {
      throw new FerryError(ErrorCode.InvalidArgument, `index table capacity must be an integer in [1, 2^31], got ${capacity}`);
    }
    this.capacity = capacity;
    this.randomFill = options.randomFill ?? ((out) => void webcrypto.getRandomValues(out));
  }

  get size(): number {
    return this.map.size;
  }

  /**
   * Stores entry under a fresh random index and returns it (uint32, never 0), or 0 when
   * the table is full. Control path (one per handshake).
   */
  insert(entry: T): number {
    if (this.map.size >= this.capacity) return 0;
    for (let draw = 0; draw < MAX_DRAWS; draw++) {
      const index = this.nextRandom();
      if (index === 0 || this.map.has(index | 0)) continue;
      this.map.set(index | 0, entry);
      return index;
    }
    // With at most 2^31 of 2^32 values taken, 64 misses in a row means the source is broken.
    throw new FerryError(ErrorCode.InvalidArgument, `index table: no free index after ${MAX_DRAWS} random draws`);
  }

  /** The entry for a received index (uint32 or int32), or undefined. Hot path: no allocation. */
  lookup(index: number): T | undefined {
    return this.map.get(index | 0);
  }

  /**
   * Replaces the entry under a live index, keeping the index: a handshake becoming a
   * keypair (kernel wg_index_hashtable_replace, wireguard-go SwapIndexForKeypair).
   * With `expected`, only if the current entry is that one. False when nothing replaced.
   */
  replace(index: number, entry: T, expected?: T): boolean {
    const key = index | 0;
    if (!this.map.has(key)) return false;
    if (expected !== undefined && this.map.get(key) !== expected) return false;
    this.map.set(key, entry);
    return true;
  }

  /**
   * Frees an index. With `expected`, only if it still maps to that entry, so a stale
   * owner cannot free an index that was since handed to someone else (the kernel
   * removes by entry for the same reason). False when nothing was removed.
   */
  remove(index: number, expected?: T): boolean {
    const key = index | 0;
    if (expected !== undefined && this.map.get(key) !== expected) return false;
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  private nextRandom(): number {
    if (this.cursor >= BATCH) {
      this.randomFill(this.pool);
      this.cursor = 0;
    }
    return this.pool[this.cursor++];
  }
}
