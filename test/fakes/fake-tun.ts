/**
 * In-memory TUN: the test plays the kernel. inject() queues a packet as if an
 * application sent it into the tunnel; packets ferry writes land in `written`.
 */
import type { BufferPool } from '../../src/buffer/pool.js';
import type { PacketBatch } from '../../src/buffer/batch.js';
import type { TunPort } from '../../src/io/ports.js';
import { SlotReserve } from './reserve.js';

export class FakeTun implements TunPort {
  readonly written: Uint8Array[] = [];
  writeErrors = 0;
  /** Called for every packet ferry writes (after it is recorded). */
  onWrite: ((packet: Uint8Array) => void) | undefined;
  /** Set to make writes fail (the kernel refusing a packet). */
  failWrites = false;
  private readonly inbox: Uint8Array[] = [];
  private readonly reserve: SlotReserve;
  private onReadable: (() => void) | undefined;
  private paused = false;
  private scheduled = false;
  private closed = false;

  constructor(
    readonly name: string,
    readonly pool: BufferPool,
    reserveSize = 64,
  ) {
    this.reserve = new SlotReserve(pool, reserveSize);
  }

  inject(packet: Uint8Array): void {
    this.inbox.push(Uint8Array.from(packet));
    this.schedule();
  }

  get pending(): number {
    return this.inbox.length;
  }

  start(onReadable: () => void): void {
    this.onReadable = onReadable;
    this.schedule();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  readBatch(batch: PacketBatch): number {
    let added = 0;
    this.reserve.fill();
    while (this.inbox.length > 0 && !batch.full) {
      const slot = this.reserve.take();
      if (slot < 0) break;
      const pkt = this.inbox.shift() as Uint8Array;
      const off = this.pool.dataOffset(slot);
      const len = Math.min(pkt.length, this.pool.dataCapacity);
      this.pool.slab.set(pkt.subarray(0, len), off);
      batch.push(slot, off, len);
      added++;
    }
    this.reserve.fill();
    return added;
  }

  writeBatch(batch: PacketBatch): number {
    let ok = 0;
    for (let i = 0; i < batch.count; i++) {
      if (this.failWrites) {
        this.writeErrors++;
        continue;
      }
      const pkt = Uint8Array.from(this.pool.slab.subarray(batch.offsets[i], batch.offsets[i] + batch.lengths[i]));
      this.written.push(pkt);
      ok++;
      this.onWrite?.(pkt);
    }
    return ok;
  }

  close(): void {
    this.closed = true;
    this.reserve.releaseAll();
  }

  private schedule(): void {
    if (this.scheduled || this.paused || this.closed || !this.onReadable || this.inbox.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.paused || this.closed || this.inbox.length === 0) return;
      this.onReadable?.();
      this.schedule();
    });
  }
}
