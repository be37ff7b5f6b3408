/**
 * A bounded hash table from 48-bit MAC addresses to small integers (an FDB entry, a peer's
 * index), read per packet straight from a buffer: keys live in typed arrays as a 16-bit
 * high half and a 32-bit low half, so a lookup boxes no number and allocates nothing.
 * Open addressing with linear probing at most half full, backward-shift deletion (no
 * tombstones), and a per-table random seed so chosen MACs cannot pile into one run.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, FerryError } from '../errors.js';

const EMPTY = -1;

export class MacTable {
  /** Most keys the table holds. */
  readonly maxEntries: number;
  private readonly mask: number;
  private readonly hi: Uint16Array;
  private readonly lo: Uint32Array;
  /** The value at each bucket; EMPTY marks a free bucket. */
  private readonly values: Int32Array;
  private readonly seed: number;
  private count = 0;

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 1 << 22) {
      throw new FerryError(ErrorCode.InvalidArgument, `MAC table size must be an integer in [1, ${1 << 22}], got ${maxEntries}`);
    }
    let buckets = 2;
    while (buckets < maxEntries * 2) buckets *= 2;
    this.maxEntries = maxEntries;
    this.mask = buckets - 1;
    this.hi = new Uint16Array(buckets);
    this.lo = new Uint32Array(buckets);
    this.values = new Int32Array(buckets).fill(EMPTY);
    this.seed = randomBytes(4).readUInt32LE(0) | 1;
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.maxEntries;
  }

  /** The value for the MAC at buf[off], or -1. */
  get(buf: Uint8Array, off: number): number {
    const b = this.find((buf[off] << 8) | buf[off + 1], ((buf[off + 2] << 24) | (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5]) >>> 0);
    return b < 0 ? EMPTY : this.values[b];
  }

  /** Sets the MAC at buf[off] to value (>= 0). Returns false when the MAC is new and the table is full. */
  set(buf: Uint8Array, off: number, value: number): boolean {
    return this.setKey((buf[off] << 8) | buf[off + 1], ((buf[off + 2] << 24) | (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5]) >>> 0, value);
  }

  /** Removes the MAC at buf[off]; returns its value, or -1 when it was absent. */
  delete(buf: Uint8Array, off: number): number {
    let b = this.find((buf[off] << 8) | buf[off + 1], ((buf[off + 2] << 24) | (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5]) >>> 0);
    if (b < 0) return EMPTY;
    const old = this.values[b];
    // Backward shift: pull later members of the run into the hole so probes stay unbroken.
    const mask = this.mask;
    let next = (b + 1) & mask;
    while (this.values[next] !== EMPTY) {
      const home = this.bucket(this.hi[next], this.lo[next]);
      if (((next - home) & mask) >= ((next - b) & mask)) {
        this.hi[b] = this.hi[next];
        this.lo[b] = this.lo[next];
        this.values[b] = this.values[next];
        b = next;
      }
      next = (next + 1) & mask;
    }
    this.values[b] = EMPTY;
    this.count--;
    return old;
  }

  clear(): void {
    this.values.fill(EMPTY);
    this.count = 0;
  }

  /** The values held, in bucket order (control path: listings). */
  heldValues(): number[] {
    const out: number[] = [];
    for (let b = 0; b <= this.mask; b++) if (this.values[b] !== EMPTY) out.push(this.values[b]);
    return out;
  }

  private setKey(hi: number, lo: number, value: number): boolean {
    const mask = this.mask;
    let b = this.bucket(hi, lo);
    while (this.values[b] !== EMPTY) {
      if (this.hi[b] === hi && this.lo[b] === lo) {
        this.values[b] = value;
        return true;
      }
      b = (b + 1) & mask;
    }
    if (this.count >= this.maxEntries) return false;
    this.hi[b] = hi;
    this.lo[b] = lo;
    this.values[b] = value;
    this.count++;
    return true;
  }

  private find(hi: number, lo: number): number {
    const mask = this.mask;
    let b = this.bucket(hi, lo);
    while (this.values[b] !== EMPTY) {
      if (this.lo[b] === lo && this.hi[b] === hi) return b;
      b = (b + 1) & mask;
    }
    return -1;
  }

  private bucket(hi: number, lo: number): number {
    let h = Math.imul(lo ^ this.seed, 0x85ebca6b);
    h ^= Math.imul(hi + (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    return h & this.mask;
  }
}
