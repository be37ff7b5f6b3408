/**
 * The write side of TUN offloads: a plan of writev() groups for a batch of IP packets,
 * coalescing TCP packets of one flow into super-packets (first version: not yet implemented).
 */

export class TunWritePlan {
  readonly iovOffsets: Int32Array;
  readonly iovLengths: Int32Array;
  readonly groupIovStart: Int32Array;
  readonly groupIovCount: Int32Array;
  readonly groupPackets: Int32Array;
  groupCount = 0;

  constructor(maxPackets: number) {
    this.iovOffsets = new Int32Array(maxPackets * 2);
    this.iovLengths = new Int32Array(maxPackets * 2);
    this.groupIovStart = new Int32Array(maxPackets);
    this.groupIovCount = new Int32Array(maxPackets);
    this.groupPackets = new Int32Array(maxPackets);
  }

  /** Every packet has ≥ VIRTIO_NET_HDR_LEN bytes of headroom before offsets[i] that may be overwritten. */
  build(buf: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number, coalesce: boolean): number {
    void buf; void offsets; void lengths; void count; void coalesce;
    throw new Error('TunWritePlan.build: not yet');
  }

  /** Restores group g's head packet and returns its members' input indices (how many). */
  unmerge(buf: Uint8Array, g: number, members: Int32Array): number {
    void buf; void g; void members;
    throw new Error('TunWritePlan.unmerge: not yet');
  }
}
