/**
 * ServiceRange: the prefixes that hold the VIPs and the SNAT addresses. A packet to one
 * of them is the load balancer's to handle (translate, answer or drop with a reason);
 * anything else passes untouched unless it is the reply of a flow without SNAT.
 */
import type { IpPrefix } from '../table/prefix-trie.js';

export class AddressRanges {
  private readonly v4Net: Uint32Array;
  private readonly v4Mask: Uint32Array;
  private readonly v6Bytes: Uint8Array;
  private readonly v6Cidr: Uint8Array;

  constructor(readonly prefixes: readonly IpPrefix[]) {
    const v4 = prefixes.filter((p) => p.family === 4);
    const v6 = prefixes.filter((p) => p.family === 6);
    this.v4Net = new Uint32Array(v4.length);
    this.v4Mask = new Uint32Array(v4.length);
    v4.forEach((p, i) => {
      const mask = p.cidr === 0 ? 0 : (0xffffffff << (32 - p.cidr)) >>> 0;
      const word = ((p.bytes[0] << 24) | (p.bytes[1] << 16) | (p.bytes[2] << 8) | p.bytes[3]) >>> 0;
      this.v4Mask[i] = mask;
      this.v4Net[i] = (word & mask) >>> 0;
    });
    this.v6Bytes = new Uint8Array(v6.length * 16);
    this.v6Cidr = new Uint8Array(v6.length);
    v6.forEach((p, i) => {
      this.v6Bytes.set(p.bytes, i * 16);
      this.v6Cidr[i] = p.cidr;
    });
  }

  /** True when the address at buf[off] (4 or 16 bytes by family) lies in a range. */
  contains(family: number, buf: Uint8Array, off: number): boolean {
    if (family === 4) {
      const a = ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
      for (let i = 0; i < this.v4Net.length; i++) if (((a & this.v4Mask[i]) >>> 0) === this.v4Net[i]) return true;
      return false;
    }
    for (let i = 0; i < this.v6Cidr.length; i++) if (prefixMatch(this.v6Bytes, i * 16, this.v6Cidr[i], buf, off)) return true;
    return false;
  }
}

function prefixMatch(net: Uint8Array, netOff: number, cidr: number, buf: Uint8Array, off: number): boolean {
  const whole = cidr >>> 3;
  for (let i = 0; i < whole; i++) if (net[netOff + i] !== buf[off + i]) return false;
  const bits = cidr & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (net[netOff + whole] & mask) === (buf[off + whole] & mask);
}
