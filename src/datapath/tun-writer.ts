/**
 * The datapath's batch toward the host: packets gather here and go to the TUN in one
 * write per wake (or when the batch fills). A refused write is counted (`tun_write_failed`)
 * and survived; every slot is released after the write, whatever its outcome.
 */
import { PacketBatch } from '../buffer/batch.js';
import type { BufferPool } from '../buffer/pool.js';
import type { TunPort } from '../io/ports.js';
import { type DropCounters, DropReason } from '../stats/drop-reasons.js';
import { CaptureDirection, type CaptureTap, tapTunBatch } from './capture-tap.js';

interface TunWriterHost {
  readonly pool: BufferPool;
  readonly tun: TunPort;
  readonly drops: DropCounters;
  readonly stats: { tunWritten: number };
  readonly capture: CaptureTap | null;
  ioError(where: string, err: unknown): void;
}

export class TunWriter {
  private readonly out: PacketBatch;

  constructor(
    private readonly host: TunWriterHost,
    batchSize: number,
  ) {
    this.out = new PacketBatch(batchSize);
  }

  push(slot: number, off: number, len: number): void {
    const out = this.out;
    if (out.count === out.capacity) this.flush();
    out.push(slot, off, len);
  }

  flush(): void {
    const out = this.out;
    const n = out.count;
    if (n === 0) return;
    const host = this.host;
    if (host.capture !== null) tapTunBatch(host.capture, host.pool.slab, out, CaptureDirection.ToHost);
    let ok = 0;
    try {
      ok = host.tun.writeBatch(out);
    } catch (err) {
      host.ioError('TUN write', err);
    }
    host.stats.tunWritten += ok;
    if (ok < n) host.drops.count(DropReason.TunWriteFailed, n - ok);
    for (let i = 0; i < n; i++) host.pool.release(out.slots[i]);
    out.count = 0;
  }

  /** Gives back every slot without writing (the datapath is closing). */
  releaseAll(): void {
    const out = this.out;
    for (let i = 0; i < out.count; i++) this.host.pool.release(out.slots[i]);
    out.count = 0;
  }
}
