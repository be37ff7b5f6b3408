/**
 * The slots a port reads into (see ports.ts). native/ reads straight into
 * slots[0..k) at offsets[0..k); packets that arrived whole are handed to the caller's
 * batch with their slots, a packet reported truncated (length -1) keeps its slot here
 * for the next read, and the reserve is topped up from the pool. Every array is
 * allocated once; a read costs no allocation.
 *
 * The reserve holds slots of one class, small unless fit() is told of packets too large
 * for them (a jumbo MTU); then it holds large slots, at most a quarter of them, so the
 * reserves of the TUN and a port leave large slots for the packets in flight.
 */
import type { PacketBatch } from '../buffer/batch.js';
import { type BufferPool, SlotClass } from '../buffer/pool.js';
import { ENDPOINT_STRIDE } from './endpoint.js';

export const DEFAULT_RESERVE = 128;

export class SlotReserve {
  readonly size: number;
  /** Slots held: slots[0..count). */
  count = 0;
  readonly slots: Int32Array;
  /** Where packet data starts in each slot (after the headroom): pass to native/. */
  readonly offsets: Int32Array;
  /** Filled by native/: packet sizes, -1 for a truncated packet. */
  readonly lengths: Int32Array;
  /** Filled by native/ for UDP: the sender of each datagram. */
  readonly endpoints: Uint8Array;
  /** Packets dropped because they did not fit in a slot. */
  truncated = 0;
  /** The class of the slots held. */
  slotClass: SlotClass = SlotClass.Small;
  /** Bytes of data each slot held takes from its data offset: the read size to give native/. */
  capacity: number;
  /** Slots held at most: size for small slots, less for large ones (see above). */
  private limit: number;

  constructor(
    readonly pool: BufferPool,
    size: number,
    withEndpoints: boolean,
  ) {
    if (!Number.isInteger(size) || size < 1 || size > pool.slotCount) {
      throw new RangeError(`reserve size must be an integer in [1, ${pool.slotCount}] (the pool's slot count), got ${size}`);
    }
    this.size = size;
    this.limit = size;
    this.capacity = pool.dataCapacity;
    this.slots = new Int32Array(size);
    this.offsets = new Int32Array(size);
    this.lengths = new Int32Array(size);
    this.endpoints = new Uint8Array(withEndpoints ? size * ENDPOINT_STRIDE : 0);
  }

  /** Tops the reserve up from the pool; returns the slots held (0: pool exhausted). */
  refill(): number {
    const pool = this.pool;
    let c = this.count;
    while (c < this.limit) {
      const slot = pool.acquire(this.slotClass);
      if (slot < 0) break;
      this.slots[c] = slot;
      this.offsets[c] = pool.dataOffset(slot);
      c++;
    }
    this.count = c;
    return c;
  }

  /**
   * Moves the n packets native/ just read (in reserve order) into the batch, which must
   * have room for n; returns how many were added (n minus truncated ones).
   */
  handOver(batch: PacketBatch, n: number): number {
    const slots = this.slots;
    const offsets = this.offsets;
    const lengths = this.lengths;
    const eps = this.endpoints;
    let kept = 0;
    let added = 0;
    for (let i = 0; i < n; i++) {
      const slot = slots[i];
      const offset = offsets[i];
      const len = lengths[i];
      if (len < 0) {
        // Truncated: the slot stays ours and is read into again.
        slots[kept] = slot;
        offsets[kept] = offset;
        kept++;
        this.truncated++;
        continue;
      }
      const k = batch.push(slot, offset, len);
      if (eps.length !== 0) {
        const src = i * ENDPOINT_STRIDE;
        const dst = k * ENDPOINT_STRIDE;
        const out = batch.endpoints;
        for (let b = 0; b < ENDPOINT_STRIDE; b++) out[dst + b] = eps[src + b];
      }
      added++;
    }
    if (kept !== n) {
      slots.copyWithin(kept, n, this.count);
      offsets.copyWithin(kept, n, this.count);
    }
    this.count = this.count - n + kept;
    return added;
  }

  /**
   * Reads from now on into the smallest class of slots that holds `largest` bytes of
   * data (small slots when the pool has no larger ones). When the class changes the held
   * slots go back to the pool; returns true then.
   */
  fit(largest: number): boolean {
    const pool = this.pool;
    const cls = largest > pool.dataCapacity && pool.largeSlotCount > 0 ? SlotClass.Large : SlotClass.Small;
    if (cls === this.slotClass) return false;
    this.releaseAll();
    this.slotClass = cls;
    this.capacity = pool.dataCapacityOf(cls);
    this.limit = cls === SlotClass.Small ? this.size : Math.min(this.size, Math.max(1, pool.largeSlotCount >> 2));
    return true;
  }

  /** Slots held when full: the starving threshold is a quarter of it. */
  get target(): number {
    return this.limit;
  }

  /** Gives every held slot back to the pool (on close). */
  releaseAll(): void {
    for (let i = 0; i < this.count; i++) this.pool.release(this.slots[i]);
    this.count = 0;
  }
}
