/**
 * In-memory TUN: the test plays the kernel. inject() queues a packet as if an
 * application sent it into the tunnel; packets ferry writes land in `written`.
 */
import type { BufferPool } from '../../src/buffer/pool.js';
import type { PacketBatch } from '../../src/buffer/batch.js';
import type { TunPort } from '../../src/io/ports.js';
import { SlotReserve } from './reserve.js';
import { FakeReadiness } from './readiness.js';

export class FakeTun implements TunPort {
  readonly written: Uint8Array[] = [];
  writeErrors = 0;
  /** Called for every packet ferry writes (after it is recorded). */
  onWrite: ((packet: Uint8Array) => void) | undefined;
  /** Set to make writes fail (the kernel refusing a packet). */
  failWrites = false;
  private readonly inbox: Uint8Array[] = [];
  private readonly reserve: SlotReserve;
  private readonly readiness = new FakeReadiness(() => this.inbox.length > 0);

  constructor(
    readonly name: string,
    readonly pool: BufferPool,
    reserveSize = 64,
  ) {
    this.reserve = new SlotReserve(pool, reserveSize);
  }

  inject(packet: Uint8Array): void {
    this.inbox.push(Uint8Array.from(packet));
    this.readiness.kick();
  }

  get pending(): number {
    return this.inbox.length;
  }

  start(onReadable: () => void): void {
    this.readiness.start(onReadable);
  }

  pause(): void {
    this.readiness.pause();
  }

  resume(): void {
    this.readiness.resume();
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
    this.readiness.closed = true;
    this.reserve.releaseAll();
  }
}
