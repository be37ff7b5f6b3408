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
   * release: checked over the first POISON_SPAN bytes of each slot) and leaks.
   * Default: on when FERRY_POOL_DEBUG=1 or under `node --test`.
   */
  debug?: boolean;
  /** Back the slab with a SharedArrayBuffer (for worker threads). Default false. */
  shared?: boolean;
}

const DEFAULT_SLOT_COUNT = 4096;
const DEFAULT_SLOT_SIZE = 2048;
const DEFAULT_HEADROOM = 128;
const DEFAULT_TAILROOM = 32;
/** Upper bound on a slab, so a typo in a config cannot take the machine's memory. */
const MAX_SLAB_BYTES = 1 << 30;

const POISON = 0xdb;
/**
 * Debug mode poisons and checks only this many bytes at the start of each slot (the
 * headroom and the packet's start, where writes after release land): for large slots
 * (68 KiB for a 65535 MTU) the whole slot would cost a 68 KiB memset and memcmp per
 * acquire and release.
 */
export const POISON_SPAN = 4096;
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
  /**
   * Waiters for free slots, as parallel arrays with a count: registering reuses the
   * entries of waiters already gone, and release only compares `top` with the smallest
   * threshold, so neither allocates. One entry per distinct function.
   */
  private readonly waiterFns: ((() => void) | undefined)[] = [];
  private readonly waiterThresholds: number[] = [];
  private waiterCount = 0;
  private minThreshold = Infinity;
  /** Waiters being called by wake() (taken out of the list first, so they may re-register). */
  private readonly firing: ((() => void) | undefined)[] = [];
  private firingCount = 0;
  private firingNext = 0;
  private waking = false;
  /** Bytes at the start of each slot that debug mode poisons and checks. */
  private readonly poisonSpan: number;
  /** poisonSpan bytes of poison, compared against released slots in debug mode. */
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
    this.poisonSpan = Math.min(slotSize, POISON_SPAN);
    this.poison = Buffer.alloc(this.debug ? this.poisonSpan : 0, POISON);
    if (this.debug) {
      if (this.poisonSpan === slotSize) this.slab.fill(POISON);
      else for (let slot = 0; slot < slotCount; slot++) this.poisonSlot(slot);
    }
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
    if (this.debug) this.poisonSlot(slot);
    this.freeStack[this.top++] = slot;
    this.released++;
    if (this.top >= this.minThreshold) this.wake();
  }

  /** Returns slots[0..n). */
  releaseMany(slots: Int32Array, n: number): void {
    for (let i = 0; i < n; i++) this.release(slots[i]);
  }

  /** True when the slot is held. */
  isInUse(slot: number): boolean {
    return this.state[slot] === STATE_IN_USE;
  }

  /**
   * Calls fn once, when at least `threshold` slots are free (at once if they are now).
   * Readers use it to resume after backpressure. A function already waiting keeps one
   * entry (with the lower threshold), so the list is bounded by the waiting functions.
   */
  whenAvailable(threshold: number, fn: () => void): void {
    if (this.top >= threshold) {
      fn();
      return;
    }
    const fns = this.waiterFns;
    for (let i = 0; i < this.waiterCount; i++) {
      if (fns[i] === fn) {
        if (threshold < this.waiterThresholds[i]) this.waiterThresholds[i] = threshold;
        if (threshold < this.minThreshold) this.minThreshold = threshold;
        return;
      }
    }
    const i = this.waiterCount++;
    fns[i] = fn;
    this.waiterThresholds[i] = threshold;
    if (threshold < this.minThreshold) this.minThreshold = threshold;
  }

  /** Forgets fn registered with whenAvailable (a port closing). Returns true when it was waiting. */
  cancelWhenAvailable(fn: () => void): boolean {
    const fns = this.waiterFns;
    const thresholds = this.waiterThresholds;
    let kept = 0;
    let min = Infinity;
    for (let i = 0; i < this.waiterCount; i++) {
      const f = fns[i];
      if (f === fn) continue;
      fns[kept] = f;
      thresholds[kept] = thresholds[i];
      if (thresholds[i] < min) min = thresholds[i];
      kept++;
    }
    const removed = kept !== this.waiterCount;
    for (let i = kept; i < this.waiterCount; i++) fns[i] = undefined;
    this.waiterCount = kept;
    this.minThreshold = min;
    for (let k = this.firingNext; k < this.firingCount; k++) {
      if (this.firing[k] === fn) this.firing[k] = undefined;
    }
    return removed;
  }

  /** Functions waiting for free slots. */
  get waiting(): number {
    return this.waiterCount;
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

  /**
   * Calls the waiters whose threshold is met. They leave the list before any is called,
   * so a callback may register again, release slots (a nested wake only marks the loop
   * to run again) or cancel a waiter still to be called.
   */
  private wake(): void {
    if (this.waking) return;
    this.waking = true;
    try {
      while (this.top >= this.minThreshold) {
        this.takeReady();
        while (this.firingNext < this.firingCount) {
          const fn = this.firing[this.firingNext];
          this.firing[this.firingNext++] = undefined;
          fn?.();
        }
      }
    } finally {
      // A callback threw: the ones not called yet wait again, for one free slot.
      for (let k = this.firingNext; k < this.firingCount; k++) {
        const fn = this.firing[k];
        this.firing[k] = undefined;
        if (fn !== undefined) this.whenAvailable(this.top + 1, fn);
      }
      this.firingCount = this.firingNext = 0;
      this.waking = false;
    }
  }

  /** Moves the waiters whose threshold is met from the list to `firing`. */
  private takeReady(): void {
    const fns = this.waiterFns;
    const thresholds = this.waiterThresholds;
    let kept = 0;
    let min = Infinity;
    this.firingCount = this.firingNext = 0;
    for (let i = 0; i < this.waiterCount; i++) {
      const t = thresholds[i];
      if (this.top >= t) {
        this.firing[this.firingCount++] = fns[i];
        continue;
      }
      fns[kept] = fns[i];
      thresholds[kept] = t;
      if (t < min) min = t;
      kept++;
    }
    for (let i = kept; i < this.waiterCount; i++) fns[i] = undefined;
    this.waiterCount = kept;
    this.minThreshold = min;
  }

  private poisonSlot(slot: number): void {
    const start = slot * this.slotSize;
    this.slab.fill(POISON, start, start + this.poisonSpan);
  }

  private debugOnAcquire(slot: number): void {
    const start = slot * this.slotSize;
    if (this.poison.compare(this.slab, start, start + this.poisonSpan) !== 0) {
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
