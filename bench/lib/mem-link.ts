/**
 * The datapath benchmark's UDP underlay (bench/datapath.ts): two in-memory ports joined
 * by two rings, one per direction, allocating nothing per datagram (unlike
 * test/fakes/fake-udp.ts, which makes an array per datagram).
 *
 * sendBatch copies each datagram out of the sender's pool into the ring the other end
 * reads; recvBatch copies it from the ring into a slot of the receiver's pool (through
 * the real SlotReserve, as UdpSocket does), with the sender's endpoint record, as the
 * kernel would. Copies between two slabs cannot use copyWithin, and Buffer#copy or a
 * subarray would allocate a view per call, so every slot and every ring entry has one
 * view made at construction, covering the first `entryBytes` of it (headroom and the
 * largest datagram of the run); TypedArray#set of such a view copies without allocating.
 * A datagram keeps its offset from the start of its slot across the link.
 *
 * Like the kernel, a full ring drops the datagram at the receiver (the sender sees it
 * sent) and counts it; the bench sizes the ring so that it never does and checks it.
 */
import type { PacketBatch } from '../../src/buffer/batch.js';
import type { BufferPool } from '../../src/buffer/pool.js';
import { encodeEndpoint, type Endpoint, ENDPOINT_STRIDE, endpointEquals } from '../../src/io/endpoint.js';
import type { UdpPort } from '../../src/io/ports.js';
import { DEFAULT_RESERVE, SlotReserve } from '../../src/io/reserve.js';

const MAX_BATCH = 4096;
const EHOSTUNREACH = -113;

/** Views of the first `bytes` of every slot of a pool, both classes (made once). */
export function slotViews(pool: BufferPool, bytes: number): Uint8Array[] {
  const views: Uint8Array[] = [];
  for (let s = 0; s < pool.totalSlots; s++) views.push(pool.slab.subarray(pool.slotBase(s), Math.min(pool.slotBase(s) + bytes, pool.slotEnd(s))));
  return views;
}

/** Datagrams in flight toward one port: a fixed ring of copies. */
export class DatagramRing {
  readonly capacity: number;
  /** Address of the port that reads this ring (datagrams must be sent to it). */
  readonly to = new Uint8Array(ENDPOINT_STRIDE);
  /** Datagrams dropped because the ring was full, or too long for an entry. */
  overflow = 0;
  oversize = 0;
  private readonly views: Uint8Array[] = [];
  private readonly inSlot: Int32Array;
  private readonly lengths: Int32Array;
  private readonly from: Uint8Array;
  private head = 0;
  private countValue = 0;
  /** Length of the datagram the last shiftInto moved. */
  lastLength = 0;

  constructor(
    capacity: number,
    readonly entryBytes: number,
    to: Endpoint,
  ) {
    this.capacity = capacity;
    const data = new Uint8Array(capacity * entryBytes);
    for (let k = 0; k < capacity; k++) this.views.push(data.subarray(k * entryBytes, (k + 1) * entryBytes));
    this.inSlot = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.from = new Uint8Array(capacity * ENDPOINT_STRIDE);
    encodeEndpoint(to, this.to);
  }

  get count(): number {
    return this.countValue;
  }

  /** Copies a datagram (at inSlot within the slot `slotView` shows) into the ring. */
  push(slotView: Uint8Array, inSlot: number, length: number, from: Uint8Array): void {
    if (inSlot + length > this.entryBytes) {
      this.oversize++;
      return;
    }
    if (this.countValue === this.capacity) {
      this.overflow++;
      return;
    }
    let k = this.head + this.countValue;
    if (k >= this.capacity) k -= this.capacity;
    this.views[k].set(slotView);
    this.inSlot[k] = inSlot;
    this.lengths[k] = length;
    for (let b = 0; b < ENDPOINT_STRIDE; b++) this.from[k * ENDPOINT_STRIDE + b] = from[b];
    this.countValue++;
  }

  /**
   * Moves the oldest datagram into a slot of the receiver (at the same offset from the
   * slot's start) and its sender into eps[epOff]; returns that offset within the slot.
   * `lastLength` then holds its length.
   */
  shiftInto(slab: Uint8Array, slotBase: number, eps: Uint8Array, epOff: number): number {
    const k = this.head;
    slab.set(this.views[k], slotBase);
    for (let b = 0; b < ENDPOINT_STRIDE; b++) eps[epOff + b] = this.from[k * ENDPOINT_STRIDE + b];
    this.lastLength = this.lengths[k];
    this.head = k + 1 === this.capacity ? 0 : k + 1;
    this.countValue--;
    return this.inSlot[k];
  }
}

/** One end of the link: a UdpPort over two rings. */
export class MemUdp implements UdpPort {
  readonly sendResults = new Int32Array(MAX_BATCH);
  sendErrors = 0;
  readonly recvErrors = 0;
  readonly lastRecvError = 0;
  sent = 0;
  received = 0;
  paused = false;
  /** Set by whenWritable; never needed here (nothing returns -EAGAIN), kept for the contract. */
  writable: (() => void) | null = null;
  private onReadable: (() => void) | null = null;
  private readonly reserve: SlotReserve;
  private readonly views: Uint8Array[];
  private readonly local = new Uint8Array(ENDPOINT_STRIDE);

  constructor(
    readonly pool: BufferPool,
    local: Endpoint,
    private readonly rx: DatagramRing,
    private readonly tx: DatagramRing,
  ) {
    encodeEndpoint(local, this.local);
    this.reserve = new SlotReserve(pool, Math.min(DEFAULT_RESERVE, pool.slotCount), true);
    this.views = slotViews(pool, tx.entryBytes);
  }

  /** Slots held in the receive reserve. */
  get reserved(): number {
    return this.reserve.count;
  }

  get localPort(): number {
    return (this.local[2] << 8) | this.local[3];
  }

  /** Datagrams waiting in the ring toward this port. */
  get pending(): number {
    return this.rx.count;
  }

  /** Runs the datapath's readiness callback while datagrams wait, as the poller would. */
  fire(): void {
    if (this.onReadable !== null && !this.paused && this.rx.count > 0) this.onReadable();
  }

  start(onReadable: () => void): void {
    this.onReadable = onReadable;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  whenWritable(fn: () => void): void {
    this.writable = fn;
  }

  recvBatch(batch: PacketBatch): number {
    const rx = this.rx;
    const room = batch.capacity - batch.count;
    const reserve = this.reserve;
    const have = reserve.refill();
    let n = room < have ? room : have;
    if (n > rx.count) n = rx.count;
    if (n <= 0) return 0;
    const pool = this.pool;
    const slab = pool.slab;
    for (let i = 0; i < n; i++) {
      const base = pool.slotBase(reserve.slots[i]);
      reserve.offsets[i] = base + rx.shiftInto(slab, base, reserve.endpoints, i * ENDPOINT_STRIDE);
      reserve.lengths[i] = rx.lastLength;
    }
    const added = reserve.handOver(batch, n);
    this.received += added;
    return added;
  }

  sendBatch(batch: PacketBatch): number {
    const tx = this.tx;
    const pool = this.pool;
    const results = this.sendResults;
    const n = batch.count;
    let ok = 0;
    for (let i = 0; i < n; i++) {
      if (!endpointEquals(batch.endpoints, i * ENDPOINT_STRIDE, tx.to, 0)) {
        results[i] = EHOSTUNREACH;
        this.sendErrors++;
        continue;
      }
      const slot = batch.slots[i];
      tx.push(this.views[slot], batch.offsets[i] - pool.slotBase(slot), batch.lengths[i], this.local);
      results[i] = 0;
      ok++;
    }
    this.sent += ok;
    return ok;
  }

  close(): void {
    this.onReadable = null;
    this.reserve.releaseAll();
  }
}

/** Two ports joined both ways; `entryBytes` covers headroom plus the largest datagram. */
export function memLink(poolA: BufferPool, a: Endpoint, poolB: BufferPool, b: Endpoint, capacity: number, entryBytes: number): { a: MemUdp; b: MemUdp; toA: DatagramRing; toB: DatagramRing } {
  const toA = new DatagramRing(capacity, entryBytes, a);
  const toB = new DatagramRing(capacity, entryBytes, b);
  return { a: new MemUdp(poolA, a, toA, toB), b: new MemUdp(poolB, b, toB, toA), toA, toB };
}
