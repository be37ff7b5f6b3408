/**
 * The slot reserve every reading port keeps (see src/io/ports.ts), shared by the fakes so
 * they follow the same backpressure rules as the native ports.
 */
import type { BufferPool } from '../../src/buffer/pool.js';

export class SlotReserve {
  private readonly slots: Int32Array;
  private count = 0;

  constructor(
    private readonly pool: BufferPool,
    size: number,
  ) {
    this.slots = new Int32Array(size);
  }

  /** Tops the reserve up from the pool; returns the number of slots ready. */
  fill(): number {
    if (this.count < this.slots.length) {
      const missing = this.slots.length - this.count;
      const got = this.pool.acquireInto(this.slots.subarray(this.count), missing);
      this.count += got;
    }
    return this.count;
  }

  /** Takes one slot out of the reserve (caller owns it); -1 when empty. */
  take(): number {
    if (this.count === 0) return -1;
    return this.slots[--this.count];
  }

  /** Returns all reserved slots to the pool. */
  releaseAll(): void {
    for (let i = 0; i < this.count; i++) this.pool.release(this.slots[i]);
    this.count = 0;
  }
}
