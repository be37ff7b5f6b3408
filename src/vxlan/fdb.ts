/**
 * The forwarding database of an L2 VTEP, as Linux's vxlan device keeps it: MAC → remote
 * VTEP, learned from the source of received frames (refreshed by each, aged out after
 * 300 s without one) or static (`bridge fdb add … permanent`); and the all-zero-MAC
 * entries `bridge fdb append 00:00:00:00:00:00 … dst IP` makes, the VTEPs that get a copy
 * of broadcast, multicast and unknown-unicast frames. Bounded: a full table learns no
 * new MAC (the caller counts it, the frame still goes through, as in the kernel). A static
 * entry seen from another VTEP is not moved: the caller drops that frame (kernel rule).
 * Time is injected; records are endpoint records (src/io/endpoint.ts) at the overlay port.
 * Every entry and flood entry holds a reference on its VTEP's row in `vteps` (drop
 * counters by remote address), so a VTEP is known while some entry points at it.
 */
import { ErrorCode, FerryError } from '../errors.js';
import { ENDPOINT_REMOTE_SIZE, ENDPOINT_STRIDE, decodeEndpoint, encodeEndpoint, type Endpoint, formatEndpoint } from '../io/endpoint.js';
import { MAC_LENGTH } from '../packet/constants.js';
import { macToString } from '../packet/format.js';
import { DEFAULT_FDB_MAX, FDB_AGEING_MS } from './constants.js';
import { MacTable } from './mac-table.js';
import { VtepAddresses } from './vtep-addresses.js';

export const LearnResult = {
  /** A new MAC learned, or a learned one refreshed (and moved, when its VTEP changed). */
  Learned: 0,
  /** A static entry, from its own VTEP: nothing to do. */
  Static: 1,
  /** The table is full: the MAC was not learned. */
  Full: 2,
  /** A static entry seen from another VTEP: the frame must be dropped. */
  StaticMoved: 3,
} as const;

/** Most all-zero (flood) entries, one per remote VTEP. */
const MAX_FLOOD_ENTRIES = 4096;
/** Ageing sweeps run at most this often: entries live 300 s give or take a second. */
const SWEEP_INTERVAL_MS = 1000;

interface FdbEntryView {
  mac: string;
  remote: string;
  /** The remote VTEP's address and port, apart. */
  address: string;
  port: number;
  static: boolean;
  /** Milliseconds since the MAC was last seen (learned entries). */
  ageMs: number;
}

export class Fdb {
  readonly maxEntries: number;
  readonly ageingMs: number;
  /** The remote VTEP record of each entry (index * ENDPOINT_STRIDE). */
  readonly endpoints: Uint8Array;
  /** Flood records, [0, floodCount). */
  readonly flood = new Uint8Array(MAX_FLOOD_ENTRIES * ENDPOINT_STRIDE);
  floodCount = 0;
  /** The remote VTEPs entries point at, with their drop counters. */
  readonly vteps: VtepAddresses;
  /** Each entry's row in vteps. */
  readonly vtepOf: Int32Array;
  /** Each flood entry's row in vteps, [0, floodCount). */
  readonly floodVteps = new Int32Array(MAX_FLOOD_ENTRIES);
  private readonly table: MacTable;
  private readonly macs: Uint8Array;
  private readonly lastSeen: Float64Array;
  private readonly isStatic: Uint8Array;
  private readonly inUse: Uint8Array;
  private readonly free: Int32Array;
  private freeTop: number;
  private nextSweep = 0;

  constructor(maxEntries = DEFAULT_FDB_MAX, ageingMs = FDB_AGEING_MS) {
    this.maxEntries = maxEntries;
    this.ageingMs = ageingMs;
    this.table = new MacTable(maxEntries);
    this.endpoints = new Uint8Array(maxEntries * ENDPOINT_STRIDE);
    this.macs = new Uint8Array(maxEntries * MAC_LENGTH);
    this.lastSeen = new Float64Array(maxEntries);
    this.isStatic = new Uint8Array(maxEntries);
    this.inUse = new Uint8Array(maxEntries);
    this.free = new Int32Array(maxEntries);
    for (let i = 0; i < maxEntries; i++) this.free[i] = maxEntries - 1 - i;
    this.freeTop = maxEntries;
    // Room for every holder's VTEP: the table can never be full.
    this.vteps = new VtepAddresses(maxEntries + MAX_FLOOD_ENTRIES);
    this.vtepOf = new Int32Array(maxEntries).fill(-1);
  }

  get size(): number {
    return this.table.size;
  }

  /** The entry of the MAC at buf[off], or -1; its VTEP record is at endpoints[entry * ENDPOINT_STRIDE]. Hot path. */
  lookup(buf: Uint8Array, off: number): number {
    return this.table.get(buf, off);
  }

  /**
   * The frame from the VTEP at src[srcOff] (a received datagram's endpoint record) had
   * the source MAC at buf[off]: learn or refresh it, pointing at that VTEP's address on
   * `port`. Returns a LearnResult. Hot path.
   */
  learn(buf: Uint8Array, off: number, src: Uint8Array, srcOff: number, port: number, now: number): number {
    let e = this.table.get(buf, off);
    if (e >= 0) {
      const at = e * ENDPOINT_STRIDE;
      const same = this.sameVtep(at, src, srcOff, port);
      if (this.isStatic[e] === 1) return same ? LearnResult.Static : LearnResult.StaticMoved;
      this.lastSeen[e] = now;
      if (!same) {
        this.vteps.unref(this.vtepOf[e]);
        this.writeRecord(at, src, srcOff, port);
        this.vtepOf[e] = this.vteps.ref(this.endpoints, at);
      }
      return LearnResult.Learned;
    }
    if (this.freeTop === 0) return LearnResult.Full;
    e = this.free[--this.freeTop];
    this.table.set(buf, off, e);
    for (let i = 0; i < MAC_LENGTH; i++) this.macs[e * MAC_LENGTH + i] = buf[off + i];
    this.writeRecord(e * ENDPOINT_STRIDE, src, srcOff, port);
    this.vtepOf[e] = this.vteps.ref(this.endpoints, e * ENDPOINT_STRIDE);
    this.lastSeen[e] = now;
    this.isStatic[e] = 0;
    this.inUse[e] = 1;
    return LearnResult.Learned;
  }

  /** Removes learned entries not seen for ageingMs (checked at most once a second). Returns how many went. */
  age(now: number): number {
    if (now < this.nextSweep) return 0;
    this.nextSweep = now + SWEEP_INTERVAL_MS;
    let removed = 0;
    for (let e = 0; e < this.maxEntries; e++) {
      if (this.inUse[e] === 1 && this.isStatic[e] === 0 && now - this.lastSeen[e] >= this.ageingMs) {
        this.removeEntry(e);
        removed++;
      }
    }
    return removed;
  }

  /** Adds or replaces a static entry MAC → VTEP (control path). Throws when the table is full. */
  addStatic(mac: Uint8Array, remote: Endpoint): void {
    let e = this.table.get(mac, 0);
    if (e < 0) {
      if (this.freeTop === 0) throw new FerryError(ErrorCode.InvalidArgument, `the FDB is full (${this.maxEntries} entries)`);
      e = this.free[--this.freeTop];
      this.table.set(mac, 0, e);
      this.macs.set(mac, e * MAC_LENGTH);
    } else {
      this.vteps.unref(this.vtepOf[e]);
    }
    encodeEndpoint(remote, this.endpoints, e * ENDPOINT_STRIDE);
    this.vtepOf[e] = this.vteps.ref(this.endpoints, e * ENDPOINT_STRIDE);
    this.isStatic[e] = 1;
    this.inUse[e] = 1;
    this.lastSeen[e] = 0;
  }

  /** Removes the entry of a MAC, static or learned. */
  remove(mac: Uint8Array): boolean {
    const e = this.table.get(mac, 0);
    if (e < 0) return false;
    this.removeEntry(e);
    return true;
  }

  /** `bridge fdb append 00:00:00:00:00:00 … dst REMOTE`: one more VTEP that gets flooded frames. */
  appendFlood(remote: Endpoint): void {
    const record = new Uint8Array(ENDPOINT_STRIDE);
    encodeEndpoint(remote, record, 0);
    for (let i = 0; i < this.floodCount; i++) if (this.recordEquals(this.flood, i * ENDPOINT_STRIDE, record, 0)) return;
    if (this.floodCount === MAX_FLOOD_ENTRIES) throw new FerryError(ErrorCode.InvalidArgument, `at most ${MAX_FLOOD_ENTRIES} flood entries`);
    this.flood.set(record, this.floodCount * ENDPOINT_STRIDE);
    this.floodVteps[this.floodCount] = this.vteps.ref(record, 0);
    this.floodCount++;
  }

  removeFlood(remote: Endpoint): boolean {
    const record = new Uint8Array(ENDPOINT_STRIDE);
    encodeEndpoint(remote, record, 0);
    for (let i = 0; i < this.floodCount; i++) {
      if (!this.recordEquals(this.flood, i * ENDPOINT_STRIDE, record, 0)) continue;
      this.vteps.unref(this.floodVteps[i]);
      this.flood.copyWithin(i * ENDPOINT_STRIDE, (i + 1) * ENDPOINT_STRIDE, this.floodCount * ENDPOINT_STRIDE);
      this.floodVteps.copyWithin(i, i + 1, this.floodCount);
      this.floodCount--;
      return true;
    }
    return false;
  }

  /** Every entry, flood entries as MAC 00:00:00:00:00:00 (control path: `ferry vxlan fdb`). */
  list(now: number): FdbEntryView[] {
    const out: FdbEntryView[] = [];
    for (let e = 0; e < this.maxEntries; e++) {
      if (this.inUse[e] === 0) continue;
      const ep = decodeEndpoint(this.endpoints, e * ENDPOINT_STRIDE);
      out.push({ mac: macToString(this.macs, e * MAC_LENGTH), remote: ep ? formatEndpoint(ep) : '?', address: ep?.address ?? '?', port: ep?.port ?? 0, static: this.isStatic[e] === 1, ageMs: this.isStatic[e] === 1 ? 0 : now - this.lastSeen[e] });
    }
    for (let i = 0; i < this.floodCount; i++) {
      const ep = decodeEndpoint(this.flood, i * ENDPOINT_STRIDE);
      out.push({ mac: '00:00:00:00:00:00', remote: ep ? formatEndpoint(ep) : '?', address: ep?.address ?? '?', port: ep?.port ?? 0, static: true, ageMs: 0 });
    }
    return out;
  }

  /** Points every entry, flood entries too, at a new overlay port (a reload with a new Port). */
  setPort(port: number): void {
    for (let e = 0; e < this.maxEntries; e++) {
      if (this.inUse[e] === 0) continue;
      this.endpoints[e * ENDPOINT_STRIDE + 2] = port >>> 8;
      this.endpoints[e * ENDPOINT_STRIDE + 3] = port & 0xff;
    }
    for (let i = 0; i < this.floodCount; i++) {
      this.flood[i * ENDPOINT_STRIDE + 2] = port >>> 8;
      this.flood[i * ENDPOINT_STRIDE + 3] = port & 0xff;
    }
  }

  /** Forgets every learned entry (static and flood entries stay). */
  flushLearned(): number {
    let removed = 0;
    for (let e = 0; e < this.maxEntries; e++) {
      if (this.inUse[e] === 1 && this.isStatic[e] === 0) {
        this.removeEntry(e);
        removed++;
      }
    }
    return removed;
  }

  private removeEntry(e: number): void {
    this.table.delete(this.macs, e * MAC_LENGTH);
    this.vteps.unref(this.vtepOf[e]);
    this.vtepOf[e] = -1;
    this.inUse[e] = 0;
    this.isStatic[e] = 0;
    this.free[this.freeTop++] = e;
  }

  /** The entry's remote names the same address as src's (port compared with the overlay's). */
  private sameVtep(at: number, src: Uint8Array, srcOff: number, port: number): boolean {
    const eps = this.endpoints;
    if (eps[at] !== src[srcOff] || eps[at + 2] !== port >>> 8 || eps[at + 3] !== (port & 0xff)) return false;
    for (let i = 4; i < ENDPOINT_REMOTE_SIZE; i++) if (eps[at + i] !== src[srcOff + i]) return false;
    return true;
  }

  /**
   * Copies a received record with its port set to the overlay's and the TOS byte cleared;
   * its local part stays, so frames to that MAC leave from the address its VTEP sent to.
   */
  private writeRecord(at: number, src: Uint8Array, srcOff: number, port: number): void {
    const eps = this.endpoints;
    for (let i = 0; i < ENDPOINT_STRIDE; i++) eps[at + i] = src[srcOff + i];
    eps[at + 1] = 0;
    eps[at + 2] = port >>> 8;
    eps[at + 3] = port & 0xff;
  }

  private recordEquals(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
    for (let i = 0; i < ENDPOINT_REMOTE_SIZE; i++) if (a[aOff + i] !== b[bOff + i]) return false;
    return true;
  }
}
