/**
 * The read half of TUN offloads (docs/offloads.md#tun-offloads). The TUN hands us
 * super-packets of up to 64 KiB behind a virtio header; they are read into large slots
 * that never leave this reader, then split into one pool slot per segment, of the class
 * the interface MTU needs, and handed to the batch in order. A packet without GSO is
 * copied to its own slot the same way (its checksum completed when the kernel left it).
 *
 * What does not fit the batch stays here, unsplit, for the next call; as datagrams in
 * the UDP GRO ring do, it makes no fd readable, so the owner kicks its reader once more
 * (`pending`). A packet that does not split is dropped (`tun_offload_bad_packet`); a pool
 * that runs dry mid-way keeps the packet for later, nothing acquired is kept.
 */
import type { PacketBatch } from '../buffer/batch.js';
import { type BufferPool, SlotClass } from '../buffer/pool.js';
import { segmentCount, splitSegments } from '../packet/tso-split.js';
import { VIRTIO_NET_HDR_LEN, VirtioGsoType, VirtioNetHdr } from '../packet/virtio-net-hdr.js';
import { type DropCounters, DropReason } from '../stats/drop-reasons.js';
import type { NativeIo } from './native.js';
import { SlotReserve } from './reserve.js';

/** Largest IP packet plus its virtio header: what one read must hold whole. */
const OFFLOAD_READ_MAX = 65535 + VIRTIO_NET_HDR_LEN;
/** Large slots read into at once (each up to one super-packet). */
const READ_SLOTS = 16;

export class TunOffloadReader {
  /** Packets read with a GSO type (super-packets). */
  superPackets = 0;
  /** Segments made from them. */
  segments = 0;
  /** Packets dropped as tun_offload_bad_packet. */
  badPackets = 0;
  /** Times the pool had too few slots for a packet's segments (the packet waited). */
  splitStarved = 0;
  /** Read errors survived (reported by tunReadBatch's status; the reader may call it several times). */
  readErrors = 0;
  lastReadError = 0;
  /** Where drops are counted (the datapath's counters); the reader's own count stays too. */
  drops: DropCounters | null = null;
  /** Slots of starvedClass wanted when the pool was dry at the last call; 0 otherwise. */
  starvedFor = 0;
  /** The class starvedFor counts: segmentClass for a packet waiting to split, the reserve's (large) for reads. */
  starvedClass: SlotClass = SlotClass.Small;
  /** Class of the segment slots: small unless the MTU needs large ones. */
  segmentClass: SlotClass = SlotClass.Small;
  private readonly reserve: SlotReserve;
  private readonly hdr = new VirtioNetHdr();
  private readonly segSlots: Int32Array;
  private readonly segOffsets: Int32Array;
  private readonly segLengths: Int32Array;
  /** Read packets [next, held) of the reserve wait to be split. */
  private next = 0;
  private held = 0;
  /** Most segments one packet of the last read gave: sizes the next read. */
  private lastMaxSegments = 1;
  private readonly readLen: number;

  constructor(
    private readonly native: NativeIo,
    private readonly pool: BufferPool,
    /** Most segments a packet may give: the batch capacity of the caller. */
    private readonly maxSegments: number,
  ) {
    this.reserve = new SlotReserve(pool, Math.min(READ_SLOTS, Math.max(1, pool.largeSlotCount >> 2)), false);
    this.reserve.fit(OFFLOAD_READ_MAX);
    this.readLen = OFFLOAD_READ_MAX + 1;
    this.segSlots = new Int32Array(maxSegments);
    this.segOffsets = new Int32Array(maxSegments);
    this.segLengths = new Int32Array(maxSegments);
  }

  /** True when the pool can hold a whole super-packet in one large slot (else offloads cannot be used). */
  static fits(pool: BufferPool): boolean {
    return pool.largeSlotCount >= 4 && pool.largeDataCapacity > OFFLOAD_READ_MAX;
  }

  /** Packets read and not yet split: the owner must call readBatch again without a readable event. */
  get pending(): boolean {
    return this.next < this.held;
  }

  /** Packets dropped because a read filled the whole large slot. */
  get truncated(): number {
    return this.reserve.truncated;
  }

  /**
   * Appends segments to the batch; returns how many. starved() is told the class and the
   * count of slots wanted when the pool ran dry. status as for tunReadBatch.
   */
  readBatch(fd: number, batch: PacketBatch, status: Int32Array): number {
    const start = batch.count;
    this.starvedFor = 0;
    for (;;) {
      if (this.next < this.held && !this.splitHeld(batch)) break;
      const room = batch.capacity - batch.count;
      if (room === 0) break;
      const have = this.reserve.refill();
      if (have === 0) {
        // No large slot to read into: the owner parks the gate until one comes back, or
        // the still-readable fd would call back on every loop turn.
        this.starvedFor = 1;
        this.starvedClass = this.reserve.slotClass;
        break;
      }
      // Room for the segments of as many packets as the last read's largest gave.
      let want = Math.floor(room / this.lastMaxSegments);
      if (want < 1) want = 1;
      if (want > have) want = have;
      const n = this.native.tunReadBatch(fd, this.pool.slab, this.reserve.offsets, this.reserve.lengths, this.readLen, want, status);
      if (status[0] !== 0) {
        this.readErrors += status[0];
        this.lastReadError = status[1];
      }
      if (n === 0) break;
      this.next = 0;
      this.held = n;
      this.lastMaxSegments = 1;
    }
    return batch.count - start;
  }

  /** Gives every slot back (on close); packets not yet split are lost with the device. */
  releaseAll(): void {
    this.reserve.releaseAll();
    this.next = this.held = 0;
  }

  /** Splits held packets into the batch; false when one had to wait (batch full, pool dry). */
  private splitHeld(batch: PacketBatch): boolean {
    const reserve = this.reserve;
    const slab = this.pool.slab;
    const hdr = this.hdr;
    while (this.next < this.held) {
      const i = this.next;
      const len = reserve.lengths[i];
      if (len < 0) {
        reserve.truncated++;
        this.next++;
        continue;
      }
      const at = reserve.offsets[i] + VIRTIO_NET_HDR_LEN;
      const plen = len - VIRTIO_NET_HDR_LEN;
      let n = -1;
      if (plen > 0) {
        hdr.read(slab, reserve.offsets[i]);
        n = segmentCount(slab, at, plen, hdr);
      }
      if (n < 1 || n > this.maxSegments || n > batch.capacity) {
        this.drop();
        continue;
      }
      if (n > batch.capacity - batch.count) return false;
      const r = this.splitOne(batch, at, plen, n);
      if (r === 0) return false;
      if (r < 0) {
        this.drop();
        continue;
      }
      if (n > this.lastMaxSegments) this.lastMaxSegments = n;
      this.next++;
    }
    return true;
  }

  /** Splits one packet into n fresh slots appended to the batch: 1 done, 0 the pool is dry, -1 malformed (nothing kept either way). */
  private splitOne(batch: PacketBatch, at: number, plen: number, n: number): number {
    const pool = this.pool;
    const slab = pool.slab;
    const cls = this.segmentClass;
    const capacity = pool.dataCapacityOf(cls);
    const slots = this.segSlots;
    const offsets = this.segOffsets;
    const lengths = this.segLengths;
    const got = pool.acquireInto(slots, n, cls);
    if (got < n) {
      for (let k = 0; k < got; k++) pool.release(slots[k]);
      this.splitStarved++;
      this.starvedFor = n;
      this.starvedClass = cls;
      return 0;
    }
    this.starvedFor = 0;
    for (let k = 0; k < n; k++) offsets[k] = pool.dataOffset(slots[k]);
    const hdr = this.hdr;
    let r: number;
    if (hdr.gsoType === VirtioGsoType.None) {
      // One packet: copied to its slot, its checksum completed there (in place).
      if (plen > capacity) r = -1;
      else {
        slab.copyWithin(offsets[0], at, at + plen);
        r = splitSegments(slab, offsets[0], plen, hdr, offsets, capacity, lengths);
      }
    } else {
      r = splitSegments(slab, at, plen, hdr, offsets, capacity, lengths);
    }
    if (r !== n) {
      for (let k = 0; k < n; k++) pool.release(slots[k]);
      return -1;
    }
    for (let k = 0; k < n; k++) batch.push(slots[k], offsets[k], lengths[k]);
    if (hdr.gsoType !== VirtioGsoType.None) {
      this.superPackets++;
      this.segments += n;
    }
    return 1;
  }

  private drop(): void {
    this.badPackets++;
    this.drops?.count(DropReason.TunOffloadBadPacket);
    this.next++;
  }
}
