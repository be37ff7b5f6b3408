/**
 * A minimal plane for datapath tests: it wraps each inner packet in a 4-byte "TSTP"
 * header written in the slot's headroom and sends it to one fixed endpoint; what arrives
 * on its port with that header is unwrapped and delivered to the host. It counts what it
 * saw, so a test can tell which plane got which packet.
 */
import type { PacketBatch } from '../../src/buffer/batch.js';
import type { OutBatch } from '../../src/datapath/out-batch.js';
import type { Plane, PlaneIo } from '../../src/datapath/plane.js';
import { encodeEndpoint, ENDPOINT_STRIDE, type Endpoint } from '../../src/io/endpoint.js';
import { DropCounters, DropReason } from '../../src/stats/drop-reasons.js';

const MAGIC = [0x54, 0x53, 0x54, 0x50];

export class TestPlane implements Plane {
  readonly drops = new DropCounters();
  io: PlaneIo | null = null;
  encapsulated = 0;
  decapsulated = 0;
  sentOk = 0;
  refs: unknown[] = [];
  private readonly remote = new Uint8Array(ENDPOINT_STRIDE);

  constructor(
    readonly name: string,
    remote: Endpoint,
  ) {
    encodeEndpoint(remote, this.remote, 0);
  }

  attach(io: PlaneIo): void {
    this.io = io;
  }

  start(): void {}
  stop(): void {}

  encapsulate(batch: PacketBatch, refs: readonly unknown[]): void {
    const io = this.io!;
    for (let i = 0; i < batch.count; i++) {
      const off = batch.offsets[i] - 4;
      for (let k = 0; k < 4; k++) io.pool.slab[off + k] = MAGIC[k];
      this.refs.push(refs[i]);
      io.queue(batch.slots[i], off, batch.lengths[i] + 4, this.remote, 0, refs[i], 0);
      this.encapsulated++;
    }
    batch.count = 0;
  }

  decapsulate(batch: PacketBatch): void {
    const io = this.io!;
    const slab = io.pool.slab;
    for (let i = 0; i < batch.count; i++) {
      const off = batch.offsets[i];
      if (batch.lengths[i] < 24 || MAGIC.some((m, k) => slab[off + k] !== m)) {
        io.pool.release(batch.slots[i]);
        this.drops.count(DropReason.BadHeaderLength);
        continue;
      }
      this.decapsulated++;
      io.deliver(batch.slots[i], off + 4, batch.lengths[i] - 4);
    }
    batch.count = 0;
  }

  prepare(): void {}

  sent(_out: OutBatch, count: number, results: Int32Array): void {
    for (let i = 0; i < count; i++) if (results[i] === 0) this.sentOk++;
  }

  poll(): boolean {
    return false;
  }

  tick(): void {}
  close(): void {}
}
