/**
 * In-memory TUN: the test plays the kernel. inject() queues a packet as if an
 * application sent it into the tunnel; packets ferry writes land in `written`.
 *
 * Faults, like TunDevice reports them (one-shot unless said):
 *   failWrites = true                 every write fails with -EIO until cleared;
 *   failNextWrites(from, errno, n?)   entries [from, from + n) of the next writeBatch fail
 *                                     with -errno (n default: to the end);
 *   injectReadError(errno)            the next readBatch counts a survived read error
 *                                     (readErrors, lastReadError) and ends there, reading
 *                                     nothing, as TunDevice does; the queue stays.
 * writeResults holds each entry's result of the last writeBatch (0 or -errno).
 */
import { constants as osConstants } from 'node:os';
import type { BufferPool } from '../../src/buffer/pool.js';
import type { PacketBatch } from '../../src/buffer/batch.js';
import type { TunPort } from '../../src/io/ports.js';
import { SlotReserve } from './reserve.js';
import { FakeReadiness } from './readiness.js';

const EIO = osConstants.errno.EIO;

export class FakeTun implements TunPort {
  readonly written: Uint8Array[] = [];
  writeErrors = 0;
  lastWriteError = 0;
  /** Per entry of the last writeBatch: 0 written, else -errno. */
  readonly writeResults = new Int32Array(4096);
  readErrors = 0;
  lastReadError = 0;
  /** Called for every packet ferry writes (after it is recorded). */
  onWrite: ((packet: Uint8Array) => void) | undefined;
  /** Set to make writes fail (the kernel refusing a packet). */
  failWrites = false;
  private readonly inbox: Uint8Array[] = [];
  private readonly reserve: SlotReserve;
  private readonly pendingReadErrors: number[] = [];
  private readonly readiness = new FakeReadiness(() => this.inbox.length > 0 || this.pendingReadErrors.length > 0);
  private failFrom = -1;
  private failErrno = 0;
  private failCount = 0;

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

  /** The next writeBatch fails entries [fromIndex, fromIndex + count) with -errno (once). */
  failNextWrites(fromIndex: number, errno: number, count = Infinity): void {
    if (!Number.isInteger(fromIndex) || fromIndex < 0 || !(errno > 0) || !(count > 0)) throw new RangeError('failNextWrites(fromIndex >= 0, errno > 0, count > 0)');
    this.failFrom = fromIndex;
    this.failErrno = errno;
    this.failCount = count;
  }

  /** The next readBatch counts a survived read error (-errno) and reads nothing. */
  injectReadError(errno: number): void {
    if (!(errno > 0)) throw new RangeError('injectReadError(errno > 0)');
    this.pendingReadErrors.push(errno);
    this.readiness.kick();
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
    const err = this.pendingReadErrors.shift();
    if (err !== undefined) {
      this.readErrors++;
      this.lastReadError = -err;
      return 0;
    }
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
    const failFrom = this.failFrom;
    const failEnd = failFrom + this.failCount;
    this.failFrom = -1;
    for (let i = 0; i < batch.count; i++) {
      let err = 0;
      if (this.failWrites) err = EIO;
      else if (failFrom >= 0 && i >= failFrom && i < failEnd) err = this.failErrno;
      if (err !== 0) {
        this.writeResults[i] = -err;
        this.writeErrors++;
        this.lastWriteError = -err;
        continue;
      }
      this.writeResults[i] = 0;
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
