import type { BufferPool } from '../buffer/pool.js';

/**
 * Packets waiting for a peer's session (wireguard-go's staged queue, QueueStagedSize = 128):
 * a fixed ring of (slot, offset, length). The queue owns the slots it holds. When full, the
 * oldest packet makes room (push returns its slot for the caller to release and count),
 * so a peer that never answers holds at most `capacity` slots.
 */
export const STAGED_QUEUE_SIZE = 128;

export class StagedQueue {
  readonly capacity: number;
  private readonly slots: Int32Array;
  private readonly offsets: Int32Array;
  private readonly lengths: Int32Array;
  private head = 0;
  count = 0;

  constructor(capacity = STAGED_QUEUE_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 65536) throw new RangeError(`staged queue capacity must be an integer in [1, 65536], got ${capacity}`);
    this.capacity = capacity;
    this.slots = new Int32Array(capacity);
    this.offsets = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
  }

  /** Appends a packet; returns the slot of the oldest packet it evicted, or -1. */
  push(slot: number, offset: number, length: number): number {
    let evicted = -1;
    if (this.count === this.capacity) {
      evicted = this.slots[this.head];
      this.head = (this.head + 1) % this.capacity;
      this.count--;
    }
    const i = (this.head + this.count) % this.capacity;
    this.slots[i] = slot;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.count++;
    return evicted;
  }

  /** Oldest packet's slot, offset and length (count must be > 0). */
  peekSlot(): number {
    return this.slots[this.head];
  }

  peekOffset(): number {
    return this.offsets[this.head];
  }

  peekLength(): number {
    return this.lengths[this.head];
  }

  /** Drops the oldest entry; its slot now belongs to the caller. */
  pop(): void {
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }

  /** Releases every held slot; returns how many. */
  releaseAll(pool: BufferPool): number {
    const n = this.count;
    while (this.count > 0) {
      pool.release(this.slots[this.head]);
      this.pop();
    }
    this.head = 0;
    return n;
  }
}
