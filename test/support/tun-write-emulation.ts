/**
 * What the kernel sees of a TunWritePlan: each group's iovecs concatenated (one writev),
 * the virtio header taken off, a GSO super-packet split again by splitSegments (as the
 * kernel would resegment it). Used to check coalescing end to end without a TUN.
 */
import assert from 'node:assert/strict';
import { splitSegments } from '../../src/packet/tso-split.js';
import type { TunWritePlan } from '../../src/packet/tun-write-plan.js';
import { VIRTIO_NET_HDR_LEN, VirtioGsoType, VirtioNetFlag, VirtioNetHdr } from '../../src/packet/virtio-net-hdr.js';

export const SLOT = 2048;
export const HEADROOM = 16;

/** A pool-like buffer with packet i at i * SLOT + HEADROOM. */
export function layOut(packets: Uint8Array[]): { buf: Uint8Array; offsets: Int32Array; lengths: Int32Array } {
  const buf = new Uint8Array(SLOT * packets.length);
  const offsets = new Int32Array(packets.length);
  const lengths = new Int32Array(packets.length);
  packets.forEach((p, i) => {
    offsets[i] = i * SLOT + HEADROOM;
    lengths[i] = p.length;
    buf.set(p, offsets[i]);
  });
  return { buf, offsets, lengths };
}

/** The bytes one writev of group g hands the TUN. */
export function groupBytes(plan: TunWritePlan, buf: Uint8Array, g: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let k = plan.groupIovStart[g]; k < plan.groupIovStart[g] + plan.groupIovCount[g]; k++) {
    parts.push(buf.slice(plan.iovOffsets[k], plan.iovOffsets[k] + plan.iovLengths[k]));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The packets the kernel gets from group g's write, in order (a super-packet resegmented). */
export function kernelReceives(plan: TunWritePlan, buf: Uint8Array, g: number): Uint8Array[] {
  const wire = groupBytes(plan, buf, g);
  const hdr = new VirtioNetHdr();
  hdr.read(wire, 0);
  const len = wire.length - VIRTIO_NET_HDR_LEN;
  if (hdr.gsoType === VirtioGsoType.None) {
    assert.equal(hdr.flags, 0, 'a plain write asks nothing of the kernel');
    return [wire.slice(VIRTIO_NET_HDR_LEN)];
  }
  assert.equal(hdr.flags, VirtioNetFlag.NeedsCsum);
  const scratch = new Uint8Array(70000 + 64 * SLOT);
  scratch.set(wire.subarray(VIRTIO_NET_HDR_LEN), 64 * SLOT);
  const offsets = Int32Array.from({ length: 64 }, (_, i) => (i === 0 ? 64 * SLOT : i * SLOT));
  const lengths = new Int32Array(64);
  const n = splitSegments(scratch, 64 * SLOT, len, hdr, offsets, SLOT, lengths);
  assert.ok(n >= 2, `super-packet of group ${g} splits (${n})`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(scratch.slice(offsets[i], offsets[i] + lengths[i]));
  return out;
}

/** Every packet the kernel receives from the plan, group by group. */
export function kernelReceivesAll(plan: TunWritePlan, buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let g = 0; g < plan.groupCount; g++) out.push(...kernelReceives(plan, buf, g));
  return out;
}
