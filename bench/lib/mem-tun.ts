/**
 * The datapath benchmark's TUN (bench/datapath.ts): a source and a sink in memory that
 * allocate nothing per packet, unlike test/fakes/fake-tun.ts (which copies every packet
 * into a new array). It reads into pool slots through the real SlotReserve, as
 * TunDevice does, minus the syscall.
 *
 * Source: readBatch fills slots from prebuilt packet templates (slab.set of a
 * preallocated array), stamping a sequence number into the payload, while `budget`
 * allows. Sink: writeBatch checks each packet's length and sequence number (and every
 * 64th packet byte for byte against its template), counts it and leaves the slot to the
 * datapath, which releases it. Readiness: start() keeps the callback; the bench loop
 * calls fire() instead of an event loop.
 */
import type { PacketBatch } from '../../src/buffer/batch.js';
import type { BufferPool } from '../../src/buffer/pool.js';
import type { TunPort } from '../../src/io/ports.js';
import { DEFAULT_RESERVE, SlotReserve } from '../../src/io/reserve.js';

/** Where the sequence number sits in every template: the first 4 bytes of the UDP payload. */
export interface PacketTemplate {
  bytes: Uint8Array;
  seqOffset: number;
}

const FULL_CHECK_EVERY = 64;

function writeSeq(buf: Uint8Array, off: number, seq: number): void {
  buf[off] = seq >>> 24;
  buf[off + 1] = seq >>> 16;
  buf[off + 2] = seq >>> 8;
  buf[off + 3] = seq;
}

function readSeq(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

export class MemTun implements TunPort {
  readonly writeErrors = 0;
  /** Packets the source may still produce (the bench tops it up). */
  budget = 0;
  produced = 0;
  /** Packets written to this TUN that were right (length, sequence, sampled bytes) and wrong. */
  delivered = 0;
  deliveredBytes = 0;
  wrong = 0;
  paused = false;
  private onReadable: (() => void) | null = null;
  private readonly reserve: SlotReserve;
  /** What this TUN sends, and (a copy, to stamp expected sequence numbers into) what it should receive. */
  private readonly out: PacketTemplate;
  private readonly expected: PacketTemplate;
  private nextSeq = 0;

  constructor(
    readonly name: string,
    readonly pool: BufferPool,
    out: PacketTemplate,
    expected: PacketTemplate,
  ) {
    this.reserve = new SlotReserve(pool, Math.min(DEFAULT_RESERVE, pool.slotCount), false);
    this.out = { bytes: Uint8Array.from(out.bytes), seqOffset: out.seqOffset };
    this.expected = { bytes: Uint8Array.from(expected.bytes), seqOffset: expected.seqOffset };
  }

  /** Slots held in the read reserve. */
  get reserved(): number {
    return this.reserve.count;
  }

  /** Runs the datapath's readiness callback, as the poller would when packets wait. */
  fire(): void {
    if (this.onReadable !== null && !this.paused && this.budget > 0) this.onReadable();
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

  readBatch(batch: PacketBatch): number {
    const room = batch.capacity - batch.count;
    const have = this.reserve.refill();
    let n = room < have ? room : have;
    if (n > this.budget) n = this.budget;
    if (n <= 0) return 0;
    const slab = this.pool.slab;
    const t = this.out;
    const len = t.bytes.length;
    const offsets = this.reserve.offsets;
    const lengths = this.reserve.lengths;
    for (let i = 0; i < n; i++) {
      writeSeq(t.bytes, t.seqOffset, this.produced + i);
      slab.set(t.bytes, offsets[i]);
      lengths[i] = len;
    }
    this.produced += n;
    this.budget -= n;
    return this.reserve.handOver(batch, n);
  }

  writeBatch(batch: PacketBatch): number {
    const slab = this.pool.slab;
    const e = this.expected;
    const len = e.bytes.length;
    const n = batch.count;
    for (let i = 0; i < n; i++) {
      const off = batch.offsets[i];
      const seq = this.nextSeq;
      if (batch.lengths[i] !== len) {
        this.wrong++;
        continue;
      }
      const got = readSeq(slab, off + e.seqOffset);
      if (got !== seq) {
        // Lost, repeated or reordered: count it and follow the stream from here.
        this.wrong++;
        this.nextSeq = got + 1;
        continue;
      }
      if (seq % FULL_CHECK_EVERY === 0) {
        writeSeq(e.bytes, e.seqOffset, seq);
        if (slab.compare(e.bytes, 0, len, off, off + len) !== 0) {
          this.wrong++;
          continue;
        }
      }
      this.nextSeq = seq + 1;
      this.delivered++;
      this.deliveredBytes += len;
    }
    return n;
  }

  /** Returns the reserve's slots to the pool. */
  close(): void {
    this.onReadable = null;
    this.reserve.releaseAll();
  }
}
