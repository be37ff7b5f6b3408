/**
 * The write half of TUN offloads (docs/offloads.md#tun-offloads): a batch becomes a
 * TunWritePlan (TCP packets of one flow coalesced into super-packets, UDP datagrams too
 * when the kernel has USO, every packet behind a virtio header written into its headroom)
 * and each group goes out with one writev, straight from the slots. A coalesced group the kernel refuses with EINVAL is written
 * again packet by packet with plain headers (`fallbacks`); results stay per input packet.
 */
import type { PacketBatch } from '../buffer/batch.js';
import type { BufferPool } from '../buffer/pool.js';
import { TunWritePlan } from '../packet/tun-write-plan.js';
import { VIRTIO_NET_HDR_LEN } from '../packet/virtio-net-hdr.js';
import type { NativeIo } from './native.js';

const EINVAL = -22;

export class TunOffloadWriter {
  /** writev calls that succeeded (a group: one super-packet or one plain packet). */
  groupsWritten = 0;
  /** Packets that went out merged into a super-packet. */
  packetsCoalesced = 0;
  /** Coalesced groups refused with EINVAL and written again packet by packet. */
  fallbacks = 0;
  private readonly plan: TunWritePlan;
  private readonly groupResults: Int32Array;
  private readonly members: Int32Array;
  /** The packet-by-packet writes of a fallback: one iovec per group. */
  private readonly oneOffsets: Int32Array;
  private readonly oneLengths: Int32Array;
  private readonly oneStart: Int32Array;
  private readonly oneCount: Int32Array;
  private readonly oneIndex: Int32Array;
  private readonly oneResults: Int32Array;

  constructor(
    private readonly native: NativeIo,
    private readonly pool: BufferPool,
    maxPackets: number,
    /** Merge the TCP packets of a flow (false: every packet alone behind a plain header). */
    private readonly coalesce = true,
    /** Merge UDP datagrams too: only when the kernel accepted USO (TUN_F_USO4 and TUN_F_USO6). */
    udp = false,
  ) {
    this.plan = new TunWritePlan(maxPackets);
    this.plan.udp = udp;
    this.groupResults = new Int32Array(maxPackets);
    this.members = new Int32Array(maxPackets);
    this.oneOffsets = new Int32Array(maxPackets);
    this.oneLengths = new Int32Array(maxPackets);
    this.oneStart = new Int32Array(maxPackets);
    this.oneCount = new Int32Array(maxPackets).fill(1);
    this.oneIndex = new Int32Array(maxPackets);
    this.oneResults = new Int32Array(maxPackets);
    for (let i = 0; i < maxPackets; i++) this.oneStart[i] = i;
  }

  /** True when every packet has room for its virtio header in its own slot's headroom. */
  static fits(pool: BufferPool): boolean {
    return pool.headroom >= VIRTIO_NET_HDR_LEN;
  }

  /**
   * Writes batch[0, count): results[i] = 0 or -errno per packet; returns the packets the
   * kernel accepted. A packet without VIRTIO_NET_HDR_LEN bytes of headroom in its slot is
   * refused (-EINVAL) before anything is written, so no other slot's bytes are touched.
   */
  write(fd: number, batch: PacketBatch, results: Int32Array): number {
    const count = batch.count;
    const pool = this.pool;
    const slab = pool.slab;
    let bad = 0;
    for (let i = 0; i < count; i++) {
      results[i] = 0;
      if (batch.offsets[i] - pool.slotBase(batch.slots[i]) < VIRTIO_NET_HDR_LEN) bad++;
    }
    if (bad !== 0) return this.writeEach(fd, batch, results);
    const plan = this.plan;
    const groups = plan.build(slab, batch.offsets, batch.lengths, count, this.coalesce);
    // -1: a packet the plan cannot place (not expected after the check above): no merging then.
    if (groups < 0) return this.writeEach(fd, batch, results);
    const gr = this.groupResults;
    this.native.tunWritevBatch(fd, slab, plan.iovOffsets, plan.iovLengths, plan.groupIovStart, plan.groupIovCount, groups, gr);
    let accepted = 0;
    let retry = 0;
    for (let g = 0; g < groups; g++) {
      const packets = plan.groupPackets[g];
      if (gr[g] === 0) {
        accepted += packets;
        this.groupsWritten++;
        if (packets > 1) this.packetsCoalesced += packets;
        continue;
      }
      const m = plan.unmerge(slab, g, this.members);
      if (gr[g] === EINVAL && packets > 1) {
        this.fallbacks++;
        for (let k = 0; k < m; k++) retry = this.stagePlain(batch, this.members[k], retry);
      } else {
        for (let k = 0; k < m; k++) results[this.members[k]] = gr[g];
      }
    }
    if (retry !== 0) accepted += this.flushPlain(fd, retry, results);
    return accepted;
  }

  /** Every packet alone; those without headroom refused. */
  private writeEach(fd: number, batch: PacketBatch, results: Int32Array): number {
    const pool = this.pool;
    let n = 0;
    for (let i = 0; i < batch.count; i++) {
      if (batch.offsets[i] - pool.slotBase(batch.slots[i]) < VIRTIO_NET_HDR_LEN) results[i] = EINVAL;
      else n = this.stagePlain(batch, i, n);
    }
    return this.flushPlain(fd, n, results);
  }

  /** Puts packet i behind a plain virtio header (all zero: no offload) as one-iovec group n. */
  private stagePlain(batch: PacketBatch, i: number, n: number): number {
    const at = batch.offsets[i] - VIRTIO_NET_HDR_LEN;
    this.pool.slab.fill(0, at, at + VIRTIO_NET_HDR_LEN);
    this.oneOffsets[n] = at;
    this.oneLengths[n] = batch.lengths[i] + VIRTIO_NET_HDR_LEN;
    this.oneIndex[n] = i;
    return n + 1;
  }

  private flushPlain(fd: number, n: number, results: Int32Array): number {
    const r = this.oneResults;
    const ok = this.native.tunWritevBatch(fd, this.pool.slab, this.oneOffsets, this.oneLengths, this.oneStart, this.oneCount, n, r);
    for (let k = 0; k < n; k++) results[this.oneIndex[k]] = r[k];
    this.groupsWritten += ok;
    return ok;
  }
}
