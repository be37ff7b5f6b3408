import { ErrorCode, FerryError } from '../errors.js';
import { SlotWaiters } from './slot-waiters.js';

/**
 * The zero-copy buffer pool: one preallocated slab cut into fixed slots. Every packet
 * lives in a slot from the moment native/ reads it until native/ writes it out; planes
 * write headers into the headroom in front and AEAD tags into the tailroom behind, so
 * nothing is ever copied or allocated per packet. Memory is fixed at construction:
 * when the pool is empty, acquire fails, the reader stops reading (backpressure) and
 * `exhausted` counts it.
 *
 * Slot layout: [ headroom | data (dataCapacity) | tailroom ], slotSize bytes in all.
 *
 * Two classes of slots share the slab: small slots [0, slotCount) for packets of the
 * usual MTU, then optionally large slots [slotCount, slotCount + largeSlotCount) for
 * jumbo packets. One slab, so a slot index and a slab offset mean the same everywhere;
 * each class has its own free stack, so a reader of one class never starves the other.
 */
export interface PoolOptions {
  /** Number of slots. Default 4096. */
  slotCount?: number;
  /** Bytes per slot, headroom and tailroom included; a multiple of 64. Default 2048. */
  slotSize?: number;
  /** Number of large slots, after the small ones. Default 0 (none). */
  largeSlotCount?: number;
  /** Bytes per large slot (a multiple of 64, at least slotSize). Default 69632 (any MTU up to 65535). */
  largeSlotSize?: number;
  /** Bytes reserved in front of the data for encapsulation headers (both classes). Default 128. */
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

export const DEFAULT_SLOT_COUNT = 4096;
export const DEFAULT_SLOT_SIZE = 2048;
const DEFAULT_LARGE_SLOT_SIZE = 65536 + 4096;
export const DEFAULT_HEADROOM = 128;
export const DEFAULT_TAILROOM = 32;
/** Upper bound on a slab, so a typo in a config cannot take the machine's memory. */
export const MAX_SLAB_BYTES = 1 << 30;

const POISON = 0xdb;
/**
 * Debug mode poisons and checks only this many bytes at the start of each slot (the
 * headroom and the packet's start, where writes after release land): for large slots
 * (68 KiB for a 65535 MTU) the whole slot would cost a 68 KiB memset and memcmp per
 * acquire and release.
 */
export const POISON_SPAN = 4096;
/** Slot classes: acquire and acquireInto take one, small by default. */
export const SlotClass = { Small: 0, Large: 1 } as const;
export type SlotClass = (typeof SlotClass)[keyof typeof SlotClass];
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
  /** Small slots: [0, slotCount). */
  readonly slotCount: number;
  /** Bytes per small slot. */
  readonly slotSize: number;
  /** Large slots: [slotCount, slotCount + largeSlotCount). */
  readonly largeSlotCount: number;
  /** Bytes per large slot (0 without large slots). */
  readonly largeSlotSize: number;
  readonly headroom: number;
  readonly tailroom: number;
  /** Bytes of packet data a small slot holds when the data starts at the headroom. */
  readonly dataCapacity: number;
  /** The same for a large slot (0 without large slots). */
  readonly largeDataCapacity: number;
  readonly debug: boolean;

  /** Successful acquisitions (both classes). */
  acquired = 0;
  /** Releases (both classes). */
  released = 0;
  /** Acquisitions of a small slot that found none free (each one is backpressure). */
  exhausted = 0;
  /** The same for large slots. */
  largeExhausted = 0;

  /** Byte offset of the first large slot. */
  private readonly largeBase: number;
  /** Free slots per class: the tops of the free stacks. */
  private readonly free = new Int32Array(2);
  private readonly freeSmall: Int32Array;
  private readonly freeLarge: Int32Array;
  private readonly state: Uint8Array;
  private readonly acquiredAt: Float64Array;
  private readonly waiters: SlotWaiters;
  /** Bytes at the start of each slot that debug mode poisons and checks, per class. */
  private readonly poisonSmall: number;
  private readonly poisonLarge: number;
  /** Poison bytes, compared against released slots in debug mode. */
  private readonly poison: Buffer;

  constructor(options: PoolOptions = {}) {
    const slotCount = options.slotCount ?? DEFAULT_SLOT_COUNT;
    const slotSize = options.slotSize ?? DEFAULT_SLOT_SIZE;
    const largeSlotCount = options.largeSlotCount ?? 0;
    const largeSlotSize = largeSlotCount === 0 ? 0 : (options.largeSlotSize ?? Math.max(DEFAULT_LARGE_SLOT_SIZE, slotSize));
    const headroom = options.headroom ?? DEFAULT_HEADROOM;
    const tailroom = options.tailroom ?? DEFAULT_TAILROOM;
    checkInt('slotCount', slotCount, 1, 1 << 20);
    checkInt('slotSize', slotSize, 64, 1 << 17);
    if (slotSize % 64 !== 0) throw new FerryError(ErrorCode.InvalidArgument, `pool slotSize must be a multiple of 64, got ${slotSize}`);
    checkInt('largeSlotCount', largeSlotCount, 0, 1 << 16);
    if (largeSlotCount > 0) {
      checkInt('largeSlotSize', largeSlotSize, slotSize, 1 << 17);
      if (largeSlotSize % 64 !== 0) throw new FerryError(ErrorCode.InvalidArgument, `pool largeSlotSize must be a multiple of 64, got ${largeSlotSize}`);
    }
    checkInt('headroom', headroom, 0, slotSize);
    checkInt('tailroom', tailroom, 0, slotSize);
    if (headroom + tailroom >= slotSize) {
      throw new FerryError(ErrorCode.InvalidArgument, `pool headroom (${headroom}) + tailroom (${tailroom}) leave no data room in a ${slotSize}-byte slot`);
    }
    const bytes = slotCount * slotSize + largeSlotCount * largeSlotSize;
    if (bytes > MAX_SLAB_BYTES) {
      const large = largeSlotCount === 0 ? '' : ` + ${largeSlotCount} x ${largeSlotSize}`;
      throw new FerryError(ErrorCode.InvalidArgument, `pool of ${slotCount} x ${slotSize}${large} bytes exceeds ${MAX_SLAB_BYTES} bytes`);
    }
    this.slotCount = slotCount;
    this.slotSize = slotSize;
    this.largeSlotCount = largeSlotCount;
    this.largeSlotSize = largeSlotSize;
    this.headroom = headroom;
    this.tailroom = tailroom;
    this.dataCapacity = slotSize - headroom - tailroom;
    this.largeDataCapacity = largeSlotCount === 0 ? 0 : largeSlotSize - headroom - tailroom;
    this.largeBase = slotCount * slotSize;
    this.debug = options.debug ?? defaultDebug();
    // Zero-filled and untouched: the kernel backs a page only when a packet lands in it.
    const backing = options.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    this.slab = Buffer.from(backing, 0, bytes);
    // Low slots on top, so a lightly loaded daemon touches few pages.
    this.freeSmall = new Int32Array(slotCount);
    for (let i = 0; i < slotCount; i++) this.freeSmall[i] = slotCount - 1 - i;
    this.freeLarge = new Int32Array(largeSlotCount);
    for (let i = 0; i < largeSlotCount; i++) this.freeLarge[i] = slotCount + largeSlotCount - 1 - i;
    this.free[SlotClass.Small] = slotCount;
    this.free[SlotClass.Large] = largeSlotCount;
    this.waiters = new SlotWaiters(this.free);
    const total = slotCount + largeSlotCount;
    this.state = new Uint8Array(total);
    this.acquiredAt = new Float64Array(this.debug ? total : 0);
    this.poisonSmall = Math.min(slotSize, POISON_SPAN);
    this.poisonLarge = Math.min(largeSlotSize, POISON_SPAN);
    this.poison = Buffer.alloc(this.debug ? Math.max(this.poisonSmall, this.poisonLarge) : 0, POISON);
    if (this.debug) {
      if (this.poisonSmall === slotSize) this.slab.fill(POISON, 0, this.largeBase);
      else for (let slot = 0; slot < slotCount; slot++) this.poisonSlot(slot);
      for (let slot = slotCount; slot < total; slot++) this.poisonSlot(slot);
    }
  }

  /** Free small slots. */
  get available(): number {
    return this.free[SlotClass.Small];
  }

  /** Free large slots. */
  get largeAvailable(): number {
    return this.free[SlotClass.Large];
  }

  /** Slots held by someone (both classes). */
  get inUse(): number {
    return this.slotCount + this.largeSlotCount - this.free[SlotClass.Small] - this.free[SlotClass.Large];
  }

  /** Slots of both classes. */
  get totalSlots(): number {
    return this.slotCount + this.largeSlotCount;
  }

  /** Slots of a class. */
  slotsOf(cls: SlotClass): number {
    return cls === SlotClass.Small ? this.slotCount : this.largeSlotCount;
  }

  /** Bytes of packet data a slot of the class holds after the headroom (0: no such slots). */
  dataCapacityOf(cls: SlotClass): number {
    return cls === SlotClass.Small ? this.dataCapacity : this.largeDataCapacity;
  }

  /** The class of a slot. */
  classOf(slot: number): SlotClass {
    return slot < this.slotCount ? SlotClass.Small : SlotClass.Large;
  }

  /** Byte offset of a slot's first byte (its headroom) in the slab. */
  slotBase(slot: number): number {
    return slot < this.slotCount ? slot * this.slotSize : this.largeBase + (slot - this.slotCount) * this.largeSlotSize;
  }

  /** Byte offset just past a slot's tailroom. */
  slotEnd(slot: number): number {
    return slot < this.slotCount ? (slot + 1) * this.slotSize : this.largeBase + (slot + 1 - this.slotCount) * this.largeSlotSize;
  }

  /** Byte offset where a freshly read packet's data starts: after the headroom. */
  dataOffset(slot: number): number {
    return this.slotBase(slot) + this.headroom;
  }

  /** Bytes of packet data this slot holds from dataOffset(slot) (its class's data capacity). */
  capacityOf(slot: number): number {
    return slot < this.slotCount ? this.dataCapacity : this.largeDataCapacity;
  }

  /** Takes a free slot of the class, or returns -1 (and counts it) when there is none. */
  acquire(cls: SlotClass = SlotClass.Small): number {
    const free = this.free;
    const top = free[cls];
    if (top === 0) {
      this.countExhausted(cls);
      return -1;
    }
    free[cls] = top - 1;
    const slot = cls === SlotClass.Small ? this.freeSmall[top - 1] : this.freeLarge[top - 1];
    if (this.debug) this.debugOnAcquire(slot);
    this.state[slot] = STATE_IN_USE;
    this.acquired++;
    return slot;
  }

  /**
   * Takes up to n slots of the class into out[0..]. Returns how many it took; fewer than
   * n counts one exhaustion. Used by batched readers so one batch costs one call.
   */
  acquireInto(out: Int32Array, n: number, cls: SlotClass = SlotClass.Small): number {
    const free = this.free;
    let top = free[cls];
    let got = n;
    if (got > top) {
      got = top;
      this.countExhausted(cls);
    }
    const stack = cls === SlotClass.Small ? this.freeSmall : this.freeLarge;
    for (let i = 0; i < got; i++) {
      const slot = stack[--top];
      if (this.debug) this.debugOnAcquire(slot);
      this.state[slot] = STATE_IN_USE;
      out[i] = slot;
    }
    free[cls] = top;
    this.acquired += got;
    return got;
  }

  /** Returns a slot. Exactly once per acquire: a second release throws. */
  release(slot: number): void {
    if (this.state[slot] !== STATE_IN_USE || slot < 0 || !Number.isInteger(slot)) this.releaseError(slot);
    this.state[slot] = STATE_FREE;
    if (this.debug) this.poisonSlot(slot);
    const free = this.free;
    let cls: SlotClass = SlotClass.Small;
    if (slot < this.slotCount) {
      this.freeSmall[free[0]++] = slot;
    } else {
      this.freeLarge[free[1]++] = slot;
      cls = SlotClass.Large;
    }
    this.released++;
    if (free[cls] >= this.waiters.minThreshold[cls]) this.waiters.wake();
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
   * Calls fn once, when at least `threshold` slots of the class are free (at once if they
   * are now). Readers use it to resume after backpressure. A function already waiting
   * keeps one entry, so the list is bounded by the waiting functions.
   */
  whenAvailable(threshold: number, fn: () => void, cls: SlotClass = SlotClass.Small): void {
    this.waiters.add(threshold, fn, cls);
  }

  /** Forgets fn registered with whenAvailable (a port closing). Returns true when it was waiting. */
  cancelWhenAvailable(fn: () => void): boolean {
    return this.waiters.cancel(fn);
  }

  /** Functions waiting for free slots. */
  get waiting(): number {
    return this.waiters.waiting;
  }

  /** Throws PoolLeak naming held slots when any slot is still in use. */
  assertNoLeaks(): void {
    const inUse = this.inUse;
    if (inUse === 0) return;
    const held: string[] = [];
    for (let i = 0; i < this.state.length && held.length < 16; i++) {
      if (this.state[i] === STATE_IN_USE) held.push(this.debug ? `${i} (acquisition #${this.acquiredAt[i]})` : String(i));
    }
    throw new FerryError(ErrorCode.PoolLeak, `${inUse} pool slot(s) still held: ${held.join(', ')}${inUse > held.length ? ', …' : ''}`);
  }

  private countExhausted(cls: SlotClass): void {
    if (cls === SlotClass.Small) this.exhausted++;
    else this.largeExhausted++;
  }

  private poisonSlot(slot: number): void {
    const start = this.slotBase(slot);
    this.slab.fill(POISON, start, start + (slot < this.slotCount ? this.poisonSmall : this.poisonLarge));
  }

  private debugOnAcquire(slot: number): void {
    const start = this.slotBase(slot);
    const span = slot < this.slotCount ? this.poisonSmall : this.poisonLarge;
    if (this.poison.compare(this.slab, start, start + span, 0, span) !== 0) {
      let i = start;
      while (this.slab[i] === POISON) i++;
      throw new FerryError(ErrorCode.PoolUseAfterRelease, `pool slot ${slot} was written after it was released (byte ${i - start})`);
    }
    this.acquiredAt[slot] = this.acquired + 1;
  }

  private releaseError(slot: number): never {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.state.length) {
      throw new FerryError(ErrorCode.InvalidArgument, `pool slot ${slot} is not a slot of this pool`);
    }
    throw new FerryError(ErrorCode.PoolDoubleRelease, `pool slot ${slot} released twice`);
  }
}
