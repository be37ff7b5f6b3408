import { ErrorCode, FerryError } from '../errors.js';
import { KEY_SIZE } from './constants.js';

/**
 * The transport keys of every live keypair, in one Uint8Array of 32-byte slots: the form
 * the native batch AEAD takes (keys + a per-packet slot index), so a batch mixing many
 * peers is one native call. Each keypair holds two slots (send, receive).
 *
 * Bounded: starts at `initialSlots` and doubles on the control path (a handshake) up to
 * `maxSlots`; alloc() then returns -1 and the handshake is dropped. Growing replaces
 * `keys`, so the datapath reads `table.keys` once per batch and never caches it.
 * free() wipes the slot, so no key outlives its keypair in memory we own.
 */
const DEFAULT_KEY_TABLE_SLOTS = 64;
const DEFAULT_KEY_TABLE_MAX_SLOTS = 1 << 20;

export class KeyTable {
  keys: Uint8Array;
  readonly maxSlots: number;
  private freeStack: Int32Array;
  private top: number;
  private inUse: Uint8Array;

  constructor(initialSlots = DEFAULT_KEY_TABLE_SLOTS, maxSlots = DEFAULT_KEY_TABLE_MAX_SLOTS) {
    for (const [name, v] of [['initialSlots', initialSlots], ['maxSlots', maxSlots]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > 1 << 24) throw new FerryError(ErrorCode.InvalidArgument, `key table ${name} must be an integer in [1, 2^24], got ${v}`);
    }
    if (initialSlots > maxSlots) throw new FerryError(ErrorCode.InvalidArgument, `key table initialSlots (${initialSlots}) exceeds maxSlots (${maxSlots})`);
    this.maxSlots = maxSlots;
    this.keys = new Uint8Array(initialSlots * KEY_SIZE);
    this.freeStack = new Int32Array(initialSlots);
    for (let i = 0; i < initialSlots; i++) this.freeStack[i] = initialSlots - 1 - i;
    this.top = initialSlots;
    this.inUse = new Uint8Array(initialSlots);
  }

  /** Slots the table has room for now. */
  get capacity(): number {
    return this.inUse.length;
  }

  /** Slots held by keypairs. */
  get size(): number {
    return this.capacity - this.top;
  }

  /** Takes a slot, growing the table if needed; -1 at maxSlots. Control path. */
  alloc(): number {
    if (this.top === 0 && !this.grow()) return -1;
    const slot = this.freeStack[--this.top];
    this.inUse[slot] = 1;
    return slot;
  }

  /** Copies a 32-byte key into a held slot. */
  set(slot: number, key: Uint8Array): void {
    this.check(slot);
    if (key.length !== KEY_SIZE) throw new RangeError(`key must be ${KEY_SIZE} bytes`);
    this.keys.set(key, slot * KEY_SIZE);
  }

  /** Wipes and returns a slot. Freeing a slot twice throws. */
  free(slot: number): void {
    this.check(slot);
    this.keys.fill(0, slot * KEY_SIZE, (slot + 1) * KEY_SIZE);
    this.inUse[slot] = 0;
    this.freeStack[this.top++] = slot;
  }

  isInUse(slot: number): boolean {
    return slot >= 0 && slot < this.inUse.length && this.inUse[slot] === 1;
  }

  private check(slot: number): void {
    if (!this.isInUse(slot)) throw new FerryError(ErrorCode.InvalidArgument, `key table slot ${slot} is not held`);
  }

  private grow(): boolean {
    const old = this.capacity;
    if (old >= this.maxSlots) return false;
    const next = Math.min(old * 2, this.maxSlots);
    const keys = new Uint8Array(next * KEY_SIZE);
    keys.set(this.keys);
    this.keys.fill(0);
    this.keys = keys;
    const inUse = new Uint8Array(next);
    inUse.set(this.inUse);
    this.inUse = inUse;
    const stack = new Int32Array(next);
    stack.set(this.freeStack.subarray(0, this.top));
    // New slots go under the old free ones' top, lowest on top.
    for (let s = next - 1; s >= old; s--) stack[this.top++] = s;
    this.freeStack = stack;
    return true;
  }
}
