import type { BufferPool } from '../buffer/pool.js';
import { ENDPOINT_STRIDE } from '../io/endpoint.js';

/**
 * Handshake messages waiting for the control path (wireguard-go's handshake queue,
 * QueueHandshakeSize = 1024): a fixed ring that holds each message in its pool slot (no
 * copy) with its type and source endpoint record. The datapath pushes; the device drains
 * it after the data of each batch with a budget, so handshakes never starve data. Full:
 * push returns false and the caller drops the message (WgHandshakeQueueFull). Its
 * length also says whether the device is under load (cookie replies, rate limiting).
 */
export const HANDSHAKE_QUEUE_SIZE = 1024;

export class HandshakeQueue {
  readonly capacity: number;
  readonly slots: Int32Array;
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  readonly types: Uint8Array;
  /** Source endpoint records, ENDPOINT_STRIDE bytes per entry. */
  readonly endpoints: Uint8Array;
  private head = 0;
  length = 0;

  constructor(capacity = HANDSHAKE_QUEUE_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 16) throw new RangeError(`handshake queue capacity must be an integer in [1, 65536], got ${capacity}`);
    this.capacity = capacity;
    this.slots = new Int32Array(capacity);
    this.offsets = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.types = new Uint8Array(capacity);
    this.endpoints = new Uint8Array(capacity * ENDPOINT_STRIDE);
  }

  /** Takes ownership of the slot; false (slot still the caller's) when full. */
  push(slot: number, offset: number, length: number, type: number, endpoints: Uint8Array, endpointOffset: number): boolean {
    if (this.length === this.capacity) return false;
    const i = (this.head + this.length) % this.capacity;
    this.slots[i] = slot;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.types[i] = type;
    const dst = i * ENDPOINT_STRIDE;
    for (let k = 0; k < ENDPOINT_STRIDE; k++) this.endpoints[dst + k] = endpoints[endpointOffset + k];
    this.length++;
    return true;
  }

  /**
   * Removes the oldest message and returns its position in the arrays (its slot now
   * belongs to the caller); -1 when empty. The position stays valid until the next push.
   */
  shift(): number {
    if (this.length === 0) return -1;
    const i = this.head;
    this.head = (this.head + 1) % this.capacity;
    this.length--;
    return i;
  }

  /** Releases every held slot; returns how many. */
  releaseAll(pool: BufferPool): number {
    const n = this.length;
    for (let i = this.shift(); i >= 0; i = this.shift()) pool.release(this.slots[i]);
    this.head = 0;
    return n;
  }
}
