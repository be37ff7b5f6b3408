/**
 * Prefix-table test helpers: addresses as bytes, and a lookup made the two ways the
 * datapath makes it (IPv4 as a number and in place, IPv6 in place at an odd offset).
 */
import assert from 'node:assert/strict';
import type { PrefixTrie } from '../../src/table/prefix-trie.js';

export const ip4 = (a: number, b: number, c: number, d: number): Uint8Array => Uint8Array.of(a, b, c, d);
export function ip6(a: number, b: number, c: number, d: number): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  [a, b, c, d].forEach((w, i) => v.setUint32(4 * i, w >>> 0));
  return out;
}
export const u32 = (b: Uint8Array): number => ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;

/** Looks an address up the way the datapath does: v4 as a number, v6 in place at an odd offset. */
export function lookup<P>(t: PrefixTrie<P>, addr: Uint8Array): P | undefined {
  if (addr.length === 4) {
    const viaNumber = t.lookupV4(u32(addr));
    const packet = new Uint8Array(40);
    packet.set(addr, 16);
    assert.equal(t.lookupV4At(packet, 16), viaNumber, 'lookupV4At agrees with lookupV4');
    return viaNumber;
  }
  const packet = new Uint8Array(64);
  packet.set(addr, 27);
  return t.lookupV6(packet, 27);
}
