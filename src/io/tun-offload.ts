/**
 * TUN offloads (docs/offloads.md#tun-offloads): the start-up probe and the state a
 * TunDevice keeps when they are on. The device is opened with IFF_VNET_HDR and asks for
 * TUN_F_CSUM|TSO4|TSO6 (and USO4|USO6 where the kernel has them). If the kernel refuses,
 * or the pool cannot hold a 64 KiB super-packet in one slot, the device is opened plain
 * and `refused` says why, once.
 */
import type { PacketBatch } from '../buffer/batch.js';
import { type BufferPool, SlotClass } from '../buffer/pool.js';
import type { NativeIo } from './native.js';
import type { ReadGate } from './gate.js';
import { TunOffloadReader } from './tun-offload-read.js';
import { TunOffloadWriter } from './tun-offload-write.js';

/** Packets one writeBatch may carry (PacketBatch's limit); also the most segments a read packet may give. */
const MAX_PACKETS = 4096;

type Opened = { fd: number; name: string; flags: number };

/**
 * Opens the TUN, with offloads when `options.offload` asks and everything allows it.
 * Returns the fd, the offload state (null: plain) and the reason they are off when asked for.
 */
export function openOffloads(
  native: NativeIo,
  name: string,
  flags: number,
  options: { pool: BufferPool; tap?: boolean; offload?: boolean },
): { opened: Opened; offloads: TunOffloads | null; refused: string | null } {
  if (options.offload !== true) return { opened: native.tunOpen(name, flags), offloads: null, refused: null };
  const pool = options.pool;
  let refused: string | null = null;
  if (options.tap === true) refused = 'a TAP carries Ethernet frames (offloads are for the TUN)';
  else if (!TunOffloadReader.fits(pool)) refused = `the pool has no large slots for 64 KiB super-packets (${pool.largeSlotCount} of ${pool.largeDataCapacity} bytes)`;
  else if (!TunOffloadWriter.fits(pool)) refused = `the pool's headroom (${pool.headroom} bytes) has no room for a virtio header`;
  if (refused !== null) return { opened: native.tunOpen(name, flags), offloads: null, refused };
  const opened = native.tunOpen(name, flags | native.TUN_VNET_HDR);
  const want = native.TUN_F_CSUM | native.TUN_F_TSO4 | native.TUN_F_TSO6 | native.TUN_F_USO4 | native.TUN_F_USO6;
  let accepted: number;
  try {
    accepted = native.tunSetOffload(opened.fd, want);
  } catch (err) {
    native.closeFd(opened.fd);
    throw err;
  }
  if (accepted >= 0) return { opened, offloads: new TunOffloads(native, pool, accepted), refused: null };
  // A kernel without TUN offloads: the device is made again without the virtio header.
  // Closing the only fd deletes a device this open created, so the name stays free.
  native.closeFd(opened.fd);
  return { opened: native.tunOpen(opened.name, flags), offloads: null, refused: `the kernel refused TUNSETOFFLOAD (errno ${-accepted})` };
}

export class TunOffloads {
  readonly reader: TunOffloadReader;
  readonly writer: TunOffloadWriter;
  /** kicks: readable callbacks run again because split packets were waiting (no fd event). */
  kicks = 0;
  private onReadable: (() => void) | null = null;
  private gate: ReadGate | null = null;
  private paused = false;
  private kickScheduled = false;
  private waitingForPool = false;

  constructor(
    native: NativeIo,
    private readonly pool: BufferPool,
    /** The TUN_F_* bits the kernel accepted. */
    readonly flags: number,
  ) {
    this.reader = new TunOffloadReader(native, pool, MAX_PACKETS);
    const uso = native.TUN_F_USO4 | native.TUN_F_USO6;
    this.writer = new TunOffloadWriter(native, pool, MAX_PACKETS, true, (flags & uso) === uso);
  }

  /** What `ferry stats` and /metrics show (made on request, never per packet). */
  counters(): Record<string, number> {
    const r = this.reader;
    const w = this.writer;
    return {
      flags: this.flags,
      superPacketsRead: r.superPackets,
      segmentsMade: r.segments,
      badPackets: r.badPackets,
      splitStarved: r.splitStarved,
      kicks: this.kicks,
      groupsWritten: w.groupsWritten,
      packetsCoalesced: w.packetsCoalesced,
      fallbacks: w.fallbacks,
    };
  }

  /** Segments go to slots of the class this MTU needs. */
  fitSegments(mtu: number): void {
    const pool = this.pool;
    this.reader.segmentClass = mtu > pool.dataCapacity && pool.largeSlotCount > 0 ? SlotClass.Large : SlotClass.Small;
  }

  read(fd: number, batch: PacketBatch, status: Int32Array): number {
    const reader = this.reader;
    const n = reader.readBatch(fd, batch, status);
    if (reader.starvedFor > 0 && !this.waitingForPool && this.gate !== null) {
      // The gate stops polling until the pool has slots; the waiter runs the packet waiting here.
      this.gate.starve(reader.starvedFor, reader.starvedClass);
      this.waitingForPool = true;
      this.pool.whenAvailable(reader.starvedFor, this.onPool, reader.starvedClass);
    }
    return n;
  }

  /** The callback to give the gate: the owner's, run again on the next turn while packets wait here. */
  readable(onReadable: () => void, gate: ReadGate): () => void {
    this.onReadable = onReadable;
    this.gate = gate;
    return this.runReadable;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (this.reader.pending) this.scheduleKick();
  }

  close(): void {
    this.onReadable = null;
    if (this.waitingForPool) this.pool.cancelWhenAvailable(this.onPool);
    this.waitingForPool = false;
    this.reader.releaseAll();
  }

  private readonly runReadable = (): void => {
    this.onReadable?.();
    if (this.reader.pending) this.scheduleKick();
  };

  private readonly kick = (): void => {
    this.kickScheduled = false;
    if (this.onReadable === null || this.paused || this.waitingForPool || !this.reader.pending) return;
    this.runReadable();
  };

  private readonly onPool = (): void => {
    this.waitingForPool = false;
    this.scheduleKick();
  };

  private scheduleKick(): void {
    if (this.kickScheduled || this.onReadable === null) return;
    this.kickScheduled = true;
    this.kicks++;
    setImmediate(this.kick);
  }
}
