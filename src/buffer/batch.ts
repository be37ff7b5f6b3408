/**
 * A batch of packets in pool slots, as struct-of-arrays so it crosses into native/
 * without conversion: packet i lives at slab[offsets[i] .. offsets[i] + lengths[i]) in
 * slot slots[i]; for UDP, its peer address is endpoints[i * ENDPOINT_STRIDE ..] (size in
 * endpoint-record.ts, layout in src/io/endpoint.ts). Batches are allocated once and
 * reused forever.
 */
import { ENDPOINT_STRIDE } from './endpoint-record.js';

export const DEFAULT_BATCH_SIZE = 128;

export class PacketBatch {
  readonly capacity: number;
  /** Packets in the batch; entries past count are stale. */
  count = 0;
  readonly slots: Int32Array;
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  readonly endpoints: Uint8Array;

  constructor(capacity = DEFAULT_BATCH_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 4096) {
      throw new RangeError(`batch capacity must be an integer in [1, 4096], got ${capacity}`);
    }
    this.capacity = capacity;
    this.slots = new Int32Array(capacity);
    this.offsets = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.endpoints = new Uint8Array(capacity * ENDPOINT_STRIDE);
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /** Appends a packet; returns its index, or -1 when the batch is full. */
  push(slot: number, offset: number, length: number): number {
    const i = this.count;
    if (i === this.capacity) return -1;
    this.slots[i] = slot;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.count = i + 1;
    return i;
  }

  /** Copies an encoded endpoint (ENDPOINT_STRIDE bytes at src[srcOffset]) to entry i. */
  setEndpoint(i: number, src: Uint8Array, srcOffset = 0): void {
    const dst = i * ENDPOINT_STRIDE;
    for (let k = 0; k < ENDPOINT_STRIDE; k++) this.endpoints[dst + k] = src[srcOffset + k];
  }

  clear(): void {
    this.count = 0;
  }
}
