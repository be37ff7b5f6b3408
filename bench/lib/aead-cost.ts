/**
 * The native batch seal + open of 1420-byte packets on one slab (bench aead, and bench wg's
 * "crypto alone" yardstick). Key layout: `alternating` gives every packet another keypair
 * than the one before it (the context is re-keyed per packet); `runs` gives a batch runs
 * of one keypair (as traffic to a few peers does), so the key is set once per run.
 */
import { randomBytes } from 'node:crypto';
import { AEAD_TAG_LENGTH, KEY_LENGTH, openBatch, sealBatch } from '../../src/crypto/aead.js';

export const PACKET_BYTES = 1420;
export const BATCH = 128;
const SLOT = 2048;
const HEADROOM = 16; // WireGuard transport header: type, receiver, counter (last 8 bytes)
export const KEYPAIRS = 4;

export type KeyLayout = 'alternating' | 'runs';

/** A function that seals and opens `packets` packets in batches of BATCH, allocating nothing. */
export function nativeRounds(layout: KeyLayout): (packets: number) => void {
  const keys = randomBytes(KEYPAIRS * KEY_LENGTH);
  const slab = Buffer.alloc(BATCH * SLOT);
  const offsets = new Int32Array(BATCH);
  const plainLengths = new Int32Array(BATCH).fill(PACKET_BYTES);
  const sealedLengths = new Int32Array(BATCH).fill(PACKET_BYTES + AEAD_TAG_LENGTH);
  const keyIndex = new Int32Array(BATCH);
  const results = new Int32Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    offsets[i] = i * SLOT + HEADROOM;
    keyIndex[i] = layout === 'alternating' ? i % KEYPAIRS : Math.floor((i * KEYPAIRS) / BATCH);
    slab.set(randomBytes(PACKET_BYTES), offsets[i]);
  }
  // A number, not a bigint: a bigint per packet would allocate and muddy the GC count.
  let counter = 0;
  return (packets) => {
    for (let done = 0; done < packets; done += BATCH) {
      const n = Math.min(BATCH, packets - done);
      for (let i = 0; i < n; i++, counter++) {
        slab.writeUInt32LE(counter % 0x1_0000_0000, offsets[i] - 8);
        slab.writeUInt32LE(Math.floor(counter / 0x1_0000_0000), offsets[i] - 4);
      }
      sealBatch(slab, offsets, plainLengths, keys, keyIndex, n);
      if (openBatch(slab, offsets, sealedLengths, keys, keyIndex, n, results) !== n) throw new Error('native open failed');
    }
  };
}

export function timeNs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0);
}

/** This process's CPU time (user + system) spent in fn, in ns: what other load on the machine moves least. */
function cpuNs(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) * 1000;
}

/**
 * CPU seconds per GB of payload for seal + open alone (each packet is sealed by one daemon
 * and opened by the other): the floor under both daemons' CPU per GB. The least of a few
 * slices, so a slice that other load disturbed does not count.
 */
export function aeadSecondsPerGB(packets = 60_000, slices = 6): { nsPerPacket: number; cpuSecondsPerGB: number } {
  const round = nativeRounds('runs');
  round(BATCH * 20);
  let ns = Infinity;
  for (let s = 0; s < slices; s++) ns = Math.min(ns, cpuNs(() => round(packets / slices)) / (packets / slices));
  return { nsPerPacket: ns, cpuSecondsPerGB: ns / PACKET_BYTES };
}
