import { ErrorCode, FerryError } from '../errors.js';

/**
 * The zero-copy buffer pool: one preallocated slab cut into fixed slots. Every packet
 * lives in a slot from the moment native/ reads it until native/ writes it out; planes
 * write headers into the headroom in front and AEAD tags into the tailroom behind, so
 * nothing is ever copied or allocated per packet. Memory is fixed at construction:
 * when the pool is empty, acquire fails, the reader stops reading (backpressure) and
 * `exhausted` counts it.
 *
 * Slot layout: [ headroom | data (dataCapacity) | tailroom ], slotSize bytes in all.
 */
export interface PoolOptions {
  /** Number of slots. Default 4096. */
  slotCount?: number;
  /** Bytes per slot, headroom and tailroom included; a multiple of 64. Default 2048. */
  slotSize?: number;
  /** Bytes reserved in front of the data for encapsulation headers. Default 128. */
  headroom?: number;
  /** Bytes reserved behind the data for the AEAD tag and padding. Default 32. */
  tailroom?: number;
  /**
   * Debug mode: detects double release, writes into released slots (use after
   * release) and leaks. Default: on when FERRY_POOL_DEBUG=1 or under `node --test`.
   */
  debug?: boolean;
  /** Back the slab with a SharedArrayBuffer (for worker threads). Default false. */
  shared?: boolean;
}

export const DEFAULT_SLOT_COUNT = 4096;
export const DEFAULT_SLOT_SIZE = 2048;
export const DEFAULT_HEADROOM = 128;
export const DEFAULT_TAILROOM = 32;
/** Upper bound on a slab, so a typo in a config cannot take the machine's memory. */
export const MAX_SLAB_BYTES = 1 << 30;

const POISON = 0xdb;
const STATE_FREE = 0;
const STATE_IN_USE = 1;

function defaultDebug(): boolean {
  if (process.env.FERRY_POOL_DEBUG === '1') return true;
  if (process.env.FERRY_POOL_DEBUG === '0') return false;
  return process.env.NODE_TEST_CONTEXT !== undefined;
}

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new FerryError(ErrorCode.InvalidArgument, `pool ${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
}

interface Waiter {
  threshold: number;
  fn: () => void;
}

export class BufferPool {
  /** The whole slab as one Buffer: pass it to native/ with slot offsets. */
  readonly slab: Buffer;
  readonly slotCount: number;
  readonly slotSize: number;
  readonly headroom: number;
  readonly tailroom: number;
  /** Bytes of packet data a slot holds when the data starts at the headroom. */
  readonly dataCapacity: number;
  readonly debug: boolean;

  /** Successful acquisitions. */
  acquired = 0;
  /** Releases. */
  released = 0;
  /** Acquisitions that found the pool empty (each one is backpressure). */
  exhausted = 0;

  private readonly freeStack: Int32Array;
  private top: number;
  private readonly state: Uint8Array;
  private readonly acquiredAt: Float64Array;
  private waiters: Waiter[] = [];
  /** One slot's worth of poison, compared against released slots in debug mode. */
  private readonly poison: Buffer;

  constructor(options: PoolOptions = {}) {
    const slotCount = options.slotCount ?? DEFAULT_SLOT_COUNT;
    const slotSize = options.slotSize ?? DEFAULT_SLOT_SIZE;
    const headroom = options.headroom ?? DEFAULT_HEADROOM;
    const tailroom = options.tailroom ?? DEFAULT_TAILROOM;
    checkInt('slotCount', slotCount, 1, 1 << 20);
    checkInt('slotSize', slotSize, 64, 1 << 17);
    if (slotSize % 64 !== 0) throw new FerryError(ErrorCode.InvalidArgument, `pool slotSize must be a multiple of 64, got ${slotSize}`);
    checkInt('headroom', headroom, 0, slotSize);
    checkInt('tailroom', tailroom, 0, slotSize);
    if (headroom + tailroom >= slotSize) {
      throw new FerryError(ErrorCode.InvalidArgument, `pool headroom (${headroom}) + tailroom (${tailroom}) leave no data room in a ${slotSize}-byte slot`);
    }
    if (slotCount * slotSize > MAX_SLAB_BYTES) {
      throw new FerryError(ErrorCode.InvalidArgument, `pool of ${slotCount} x ${slotSize} bytes exceeds ${MAX_SLAB_BYTES} bytes`);
    }
    this.slotCount = slotCount;
    this.slotSize = slotSize;
    this.headroom = headroom;
    this.tailroom = tailroom;
    this.dataCapacity = slotSize - headroom - tailroom;
    this.debug = options.debug ?? defaultDebug();
    const bytes = slotCount * slotSize;
    const backing = options.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    this.slab = Buffer.from(backing, 0, bytes);
    this.freeStack = new Int32Array(slotCount);
    // Low slots on top, so a lightly loaded daemon touches few pages.
    for (let i = 0; i < slotCount; i++) this.freeStack[i] = slotCount - 1 - i;
    this.top = slotCount;
    this.state = new Uint8Array(slotCount);
    this.acquiredAt = new Float64Array(this.debug ? slotCount : 0);
    this.poison = Buffer.alloc(this.debug ? slotSize : 0, POISON);
    if (this.debug) this.slab.fill(POISON);
  }

  /** Free slots. */
  get available(): number {
    return this.top;
  }

  /** Slots held by someone. */
  get inUse(): number {
    return this.slotCount - this.top;
  }

  /** Byte offset of a slot's first byte (its headroom) in the slab. */
  base(slot: number): number {
    return slot * this.slotSize;
  }

  /** Byte offset where a freshly read packet's data starts: after the headroom. */
  dataOffset(slot: number): number {
    return slot * this.slotSize + this.headroom;
  }

  /** Slot that holds a byte offset of the slab. */
  slotOf(offset: number): number {
    return (offset / this.slotSize) | 0;
  }

  /** Takes a free slot, or returns -1 (and counts it) when the pool is empty. */
  acquire(): number {
    if (this.top === 0) {
      this.exhausted++;
      return -1;
    }
    const slot = this.freeStack[--this.top];
    if (this.debug) this.debugOnAcquire(slot);
    this.state[slot] = STATE_IN_USE;
    this.acquired++;
    return slot;
  }

  /**
   * Takes up to n slots into out[0..]. Returns how many it took; fewer than n counts
   * one exhaustion. Used by batched readers so one batch costs one call.
   */
  acquireInto(out: Int32Array, n: number): number {
    let got = n;
    if (got > this.top) {
      got = this.top;
      this.exhausted++;
    }
    for (let i = 0; i < got; i++) {
      const slot = this.freeStack[--this.top];
      if (this.debug) this.debugOnAcquire(slot);
      this.state[slot] = STATE_IN_USE;
      out[i] = slot;
    }
    this.acquired += got;
    return got;
  }

  /** Returns a slot. Exactly once per acquire: debug mode throws on a second release. */
  release(slot: number): void {
    if (this.state[slot] !== STATE_IN_USE || slot < 0 || slot >= this.slotCount || !Number.isInteger(slot)) {
      this.releaseError(slot);
    }
    this.state[slot] = STATE_FREE;
    if (this.debug) this.slab.fill(POISON, slot * this.slotSize, (slot + 1) * this.slotSize);
    this.freeStack[this.top++] = slot;
    this.released++;
    if (this.waiters.length !== 0) this.wake();
  }

  /** Returns slots[0..n). */
  releaseMany(slots: Int32Array, n: number): void {
    for (let i = 0; i < n; i++) this.release(slots[i]);
  }

  /** True when the slot is held. */
  isInUse(slot: number): boolean {
    return this.state[slot] === STATE_IN_USE;
  }

  /** Debug-mode guard for code that is handed a slot: throws if it was released. */
  assertInUse(slot: number): void {
    if (this.state[slot] !== STATE_IN_USE) {
      throw new FerryError(ErrorCode.PoolUseAfterRelease, `pool slot ${slot} used after it was released`);
    }
  }

  /**
   * Calls fn once, when at least `threshold` slots are free (at once if they are now).
   * Readers use it to resume after backpressure. Registration is rare, not per packet.
   */
  whenAvailable(threshold: number, fn: () => void): void {
    if (this.top >= threshold) {
      fn();
      return;
    }
    this.waiters.push({ threshold, fn });
  }

  /** Throws PoolLeak naming held slots when any slot is still in use. */
  assertNoLeaks(): void {
    if (this.top === this.slotCount) return;
    const held: string[] = [];
    for (let i = 0; i < this.slotCount && held.length < 16; i++) {
      if (this.state[i] === STATE_IN_USE) held.push(this.debug ? `${i} (acquisition #${this.acquiredAt[i]})` : String(i));
    }
    throw new FerryError(ErrorCode.PoolLeak, `${this.inUse} pool slot(s) still held: ${held.join(', ')}${this.inUse > held.length ? ', …' : ''}`);
  }

  private wake(): void {
    const ready = this.waiters.filter((w) => this.top >= w.threshold);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => this.top < w.threshold);
    for (const w of ready) w.fn();
  }

  private debugOnAcquire(slot: number): void {
    const start = slot * this.slotSize;
    if (this.poison.compare(this.slab, start, start + this.slotSize) !== 0) {
      let i = start;
      while (this.slab[i] === POISON) i++;
      throw new FerryError(ErrorCode.PoolUseAfterRelease, `pool slot ${slot} was written after it was released (byte ${i - start})`);
    }
    this.acquiredAt[slot] = this.acquired + 1;
  }

  private releaseError(slot: number): never {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slotCount) {
      throw new FerryError(ErrorCode.InvalidArgument, `pool slot ${slot} is not a slot of this pool`);
    }
    throw new FerryError(ErrorCode.PoolDoubleRelease, `pool slot ${slot} released twice`);
  }
}
