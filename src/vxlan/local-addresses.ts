/**
 * The addresses a VTEP answers ARP requests and neighbour solicitations for: the
 * interface's own addresses, each with its prefix length (10.244.1.0/32 answers for one
 * address as flannel.1 has it; 10.244.1.1/24 for the whole /24). Held in typed arrays so
 * a per-request check allocates nothing; the list is short and set on the control path.
 */
import type { IpPrefix } from '../table/prefix-trie.js';

/** At most this many prefixes per family (a config holds a handful). */
const MAX_LOCAL_PREFIXES = 256;

function maskOf(cidr: number): number {
  return cidr === 0 ? 0 : (0xffffffff << (32 - cidr)) >>> 0;
}

export class LocalAddresses {
  private v4Net = new Uint32Array(0);
  private v4Mask = new Uint32Array(0);
  private v6Net = new Uint8Array(0);
  private v6Cidr = new Uint8Array(0);
  private list: IpPrefix[] = [];

  constructor(prefixes: readonly IpPrefix[] = []) {
    this.set(prefixes);
  }

  /** Replaces the set (control path). */
  set(prefixes: readonly IpPrefix[]): void {
    const v4 = prefixes.filter((p) => p.family === 4).slice(0, MAX_LOCAL_PREFIXES);
    const v6 = prefixes.filter((p) => p.family === 6).slice(0, MAX_LOCAL_PREFIXES);
    this.v4Net = new Uint32Array(v4.length);
    this.v4Mask = new Uint32Array(v4.length);
    v4.forEach((p, i) => {
      const m = maskOf(p.cidr);
      this.v4Mask[i] = m;
      this.v4Net[i] = (((p.bytes[0] << 24) | (p.bytes[1] << 16) | (p.bytes[2] << 8) | p.bytes[3]) & m) >>> 0;
    });
    this.v6Net = new Uint8Array(v6.length * 16);
    this.v6Cidr = new Uint8Array(v6.length);
    v6.forEach((p, i) => {
      this.v6Net.set(p.bytes, i * 16);
      this.v6Cidr[i] = p.cidr;
    });
    this.list = [...v4, ...v6];
  }

  get prefixes(): readonly IpPrefix[] {
    return this.list;
  }

  /** True when the IPv4 address (uint32) is inside one of the prefixes. */
  hasV4(addr: number): boolean {
    for (let i = 0; i < this.v4Net.length; i++) if (((addr & this.v4Mask[i]) >>> 0) === this.v4Net[i]) return true;
    return false;
  }

  /** True when the IPv6 address at buf[off] is inside one of the prefixes. */
  hasV6(buf: Uint8Array, off: number): boolean {
    const nets = this.v6Net;
    for (let i = 0; i < this.v6Cidr.length; i++) {
      const cidr = this.v6Cidr[i];
      const base = i * 16;
      let k = 0;
      let bits = cidr;
      for (; bits >= 8; k++, bits -= 8) if (buf[off + k] !== nets[base + k]) break;
      if (bits >= 8) continue;
      if (bits === 0 || ((buf[off + k] ^ nets[base + k]) & (0xff << (8 - bits)) & 0xff) === 0) return true;
    }
    return false;
  }
}
