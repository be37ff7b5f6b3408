/**
 * The read side of TUN offloads: a TSO/USO super-packet from a TUN opened with
 * IFF_VNET_HDR is split into MSS-sized segments (first version: not yet implemented).
 */
import type { VirtioNetHdr } from './virtio-net-hdr.js';

/** How many segments splitting the packet will give (1 when gsoType is None); -1 when malformed. */
export function segmentCount(buf: Uint8Array, off: number, len: number, hdr: VirtioNetHdr): number {
  void buf; void off; void len; void hdr;
  throw new Error('segmentCount: not yet');
}

/** See contract-offload: returns the segment count, -1 malformed, -2 dstOffsets too small. */
export function splitSegments(
  buf: Uint8Array,
  off: number,
  len: number,
  hdr: VirtioNetHdr,
  dstOffsets: Int32Array,
  dstCapacity: number,
  dstLengths: Int32Array,
): number {
  void buf; void off; void len; void hdr; void dstOffsets; void dstCapacity; void dstLengths;
  throw new Error('splitSegments: not yet');
}
