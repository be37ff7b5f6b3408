/**
 * The remote VTEPs a plane knows (configured peers, and in L2 the VTEPs its FDB points
 * at), by underlay address, each with its own drop counters: what `ferry drops` lists
 * under "vteps". Keys are the address part of an endpoint record (family, address; the
 * port is a flow hash on receive and plays no part), read per packet straight from the
 * record. Every holder (a peer, an FDB entry) takes a reference; the VTEP goes when the
 * last one does, so the table never holds more than its holders and an unknown source
 * never adds a row. Open addressing at most half full, backward-shift deletion, a random
 * seed per table. Counters are made on a VTEP's first drop and kept for the slot's next
 * VTEP (zeroed), so a busy table does not churn objects.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, FerryError } from '../errors.js';
import { decodeEndpoint, ENDPOINT_STRIDE, encodeEndpoint } from '../io/endpoint.js';
import { DropCounters } from '../stats/drop-reasons.js';

/** Bytes of a key: the family, then up to 16 address bytes. */
const KEY = 17;
/** Where the address starts in an endpoint record. */
const ADDRESS_OFFSET = 4;
const EMPTY = -1;

export interface VtepDrops {
  /** The VTEP's underlay address. */
  remote: string;
  drops: DropCounters;
}

export class VtepAddresses {
  readonly maxEntries: number;
  private readonly mask: number;
  /** Bucket -> slot, or EMPTY. */
  private readonly buckets: Int32Array;
  private readonly keys: Uint8Array;
  private readonly refs: Int32Array;
  private readonly counters: (DropCounters | null)[];
  /** Whether the slot's counters belong to its current VTEP (a reused slot's are stale until zeroed). */
  private readonly fresh: Uint8Array;
  private readonly free: Int32Array;
  private freeTop: number;
  private readonly seed: number;

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 1 << 22) throw new FerryError(ErrorCode.InvalidArgument, `VTEP table size must be an integer in [1, ${1 << 22}], got ${maxEntries}`);
    let n = 2;
    while (n < maxEntries * 2) n *= 2;
    this.maxEntries = maxEntries;
    this.mask = n - 1;
    this.buckets = new Int32Array(n).fill(EMPTY);
    this.keys = new Uint8Array(maxEntries * KEY);
    this.refs = new Int32Array(maxEntries);
    this.counters = new Array<DropCounters | null>(maxEntries).fill(null);
    this.fresh = new Uint8Array(maxEntries);
    this.free = new Int32Array(maxEntries);
    for (let i = 0; i < maxEntries; i++) this.free[i] = maxEntries - 1 - i;
    this.freeTop = maxEntries;
    this.seed = randomBytes(4).readUInt32LE(0);
  }

  get size(): number {
    return this.maxEntries - this.freeTop;
  }

  /** The VTEP of the endpoint record at rec[off] (its remote part), or -1. Hot path. */
  find(rec: Uint8Array, off: number): number {
    const b = this.probe(rec, off);
    return b < 0 ? EMPTY : this.buckets[b];
  }

  /** Takes a reference on the VTEP of the record at rec[off], adding it when new. Returns it, or -1 when the table is full. Hot path (learning). */
  ref(rec: Uint8Array, off: number): number {
    const b = this.probe(rec, off);
    if (b < 0) return EMPTY;
    const found = this.buckets[b];
    if (found !== EMPTY) {
      this.refs[found]++;
      return found;
    }
    const family = rec[off];
    if (this.freeTop === 0) return EMPTY;
    const s = this.free[--this.freeTop];
    const k = s * KEY;
    this.keys[k] = family;
    const len = family === 4 ? 4 : 16;
    for (let i = 0; i < 16; i++) this.keys[k + 1 + i] = i < len ? rec[off + ADDRESS_OFFSET + i] : 0;
    this.refs[s] = 1;
    this.fresh[s] = 0;
    this.buckets[b] = s;
    return s;
  }

  /** Gives a reference back; the VTEP goes with its last one. -1 is ignored. */
  unref(slot: number): void {
    if (slot < 0 || this.refs[slot] <= 0) return;
    if (--this.refs[slot] > 0) return;
    let b = this.hashOf(slot) & this.mask;
    while (this.buckets[b] !== slot) b = (b + 1) & this.mask;
    this.free[this.freeTop++] = slot;
    // Backward shift: pull later members of the run into the hole so probes stay unbroken.
    const mask = this.mask;
    let next = (b + 1) & mask;
    while (this.buckets[next] !== EMPTY) {
      const home = this.hashOf(this.buckets[next]) & mask;
      if (((next - home) & mask) >= ((next - b) & mask)) {
        this.buckets[b] = this.buckets[next];
        b = next;
      }
      next = (next + 1) & mask;
    }
    this.buckets[b] = EMPTY;
  }

  /** Counts a drop against a VTEP (-1: none known, nothing counted). Hot path. */
  countDrop(slot: number, reason: number, n = 1): void {
    if (slot >= 0) this.countersOf(slot).count(reason, n);
  }

  /** The slot's counters for its current VTEP: made on the slot's first drop ever, zeroed on a reused slot's. */
  private countersOf(slot: number): DropCounters {
    let c = this.counters[slot];
    if (c === null) {
      c = new DropCounters();
      this.counters[slot] = c;
    } else if (this.fresh[slot] === 0) {
      c.counts.fill(0);
    }
    this.fresh[slot] = 1;
    return c;
  }

  /** The VTEP's drop counters, or null when it dropped nothing. */
  drops(slot: number): DropCounters | null {
    return slot < 0 || this.refs[slot] <= 0 || this.fresh[slot] === 0 ? null : this.counters[slot];
  }

  /** The VTEP's address as text (control path). */
  remoteOf(slot: number): string {
    const rec = new Uint8Array(24);
    rec[0] = this.keys[slot * KEY];
    rec.set(this.keys.subarray(slot * KEY + 1, slot * KEY + KEY), ADDRESS_OFFSET);
    return decodeEndpoint(rec, 0)?.address ?? '?';
  }

  /** The drop counters of the VTEP at this underlay address, or null (control path). */
  dropsOf(address: string): DropCounters | null {
    const rec = new Uint8Array(ENDPOINT_STRIDE);
    encodeEndpoint({ family: address.includes(':') ? 6 : 4, address, port: 0 }, rec, 0);
    return this.drops(this.find(rec, 0));
  }

  /** Every VTEP that dropped something, with its counters (control path). */
  withDrops(): VtepDrops[] {
    const out: VtepDrops[] = [];
    for (let s = 0; s < this.maxEntries; s++) {
      const d = this.drops(s);
      if (d !== null && d.total() > 0) out.push({ remote: this.remoteOf(s), drops: d });
    }
    return out;
  }

  /** The bucket holding the record's address, else the empty bucket where it would go; -1 for an unset record. */
  private probe(rec: Uint8Array, off: number): number {
    const family = rec[off];
    if (family !== 4 && family !== 6) return EMPTY;
    let b = this.hash(rec, off + ADDRESS_OFFSET, family) & this.mask;
    for (;;) {
      const s = this.buckets[b];
      if (s === EMPTY || this.keyEquals(s, rec, off)) return b;
      b = (b + 1) & this.mask;
    }
  }

  private hashOf(slot: number): number {
    return this.hash(this.keys, slot * KEY + 1, this.keys[slot * KEY]);
  }

  /** FNV-1a over a family and the address at buf[at]. */
  private hash(buf: Uint8Array, at: number, family: number): number {
    let h = Math.imul((0x811c9dc5 ^ this.seed) ^ family, 0x01000193);
    const len = family === 4 ? 4 : 16;
    for (let i = 0; i < len; i++) h = Math.imul(h ^ buf[at + i], 0x01000193);
    return h >>> 0;
  }

  /** The slot's key is the family and address of the record at rec[off]. */
  private keyEquals(slot: number, rec: Uint8Array, off: number): boolean {
    const k = slot * KEY;
    const family = this.keys[k];
    if (rec[off] !== family) return false;
    const len = family === 4 ? 4 : 16;
    for (let i = 0; i < len; i++) if (this.keys[k + 1 + i] !== rec[off + ADDRESS_OFFSET + i]) return false;
    return true;
  }
}
