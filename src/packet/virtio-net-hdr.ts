/**
 * struct virtio_net_hdr (linux/virtio_net.h, without num_buffers): the 10 bytes a TUN
 * opened with IFF_VNET_HDR puts before every packet. It says whether the packet is a
 * GSO super-packet (gsoType, gsoSize = segment payload size, hdrLen = headers to copy
 * into each segment) and whether its L4 checksum is left to us (NeedsCsum: the field at
 * csumStart + csumOffset holds the pseudo-header sum, the rest is ours to add).
 * Multi-byte fields are little-endian: the TUN uses virtio's modern (LE) byte order on
 * the little-endian hosts ferry runs on (x86-64, arm64).
 */

export const VIRTIO_NET_HDR_LEN = 10;

export const VirtioNetFlag = { NeedsCsum: 1, DataValid: 2 } as const;

/** gsoType values; Ecn is a flag or-ed into TcpV4/TcpV6 when the burst started with CWR. */
export const VirtioGsoType = { None: 0, TcpV4: 1, UdpL4: 5, TcpV6: 4, Ecn: 0x80 } as const;

function readLe16(buf: Uint8Array, off: number): number {
  return buf[off] | (buf[off + 1] << 8);
}

function writeLe16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v;
  buf[off + 1] = v >>> 8;
}

/** One reusable header; fields in host order. The caller checks the 10 bytes are there. */
export class VirtioNetHdr {
  flags = 0;
  gsoType = 0;
  hdrLen = 0;
  gsoSize = 0;
  csumStart = 0;
  csumOffset = 0;

  read(buf: Uint8Array, off: number): void {
    this.flags = buf[off];
    this.gsoType = buf[off + 1];
    this.hdrLen = readLe16(buf, off + 2);
    this.gsoSize = readLe16(buf, off + 4);
    this.csumStart = readLe16(buf, off + 6);
    this.csumOffset = readLe16(buf, off + 8);
  }

  write(buf: Uint8Array, off: number): void {
    buf[off] = this.flags;
    buf[off + 1] = this.gsoType;
    writeLe16(buf, off + 2, this.hdrLen);
    writeLe16(buf, off + 4, this.gsoSize);
    writeLe16(buf, off + 6, this.csumStart);
    writeLe16(buf, off + 8, this.csumOffset);
  }

  /** A plain header: no GSO, no checksum work (what every non-coalesced write carries). */
  clear(): void {
    this.flags = 0;
    this.gsoType = VirtioGsoType.None;
    this.hdrLen = 0;
    this.gsoSize = 0;
    this.csumStart = 0;
    this.csumOffset = 0;
  }
}
