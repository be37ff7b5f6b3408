/**
 * Micro benchmark: seal + open of 1420-byte packets, native batches of 128 (in place over
 * one slab) against libsodium-wrappers one packet at a time, side by side in one run.
 * Run: node --import tsx bench/aead.ts [packets]
 * Prints JSON lines; the last one is the headline ratio (baseline / native).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import sodium from 'libsodium-wrappers';
import { AEAD_TAG_LENGTH, KEY_LENGTH, openBatch, sealBatch } from '../src/crypto/aead.js';
import { wireguardNonce } from '../src/crypto/aead-reference.js';

const PACKETS = Number(process.argv[2] ?? 200_000);
const PACKET_BYTES = 1420;
const BATCH = 128;
const SLOT = 2048;
const HEADROOM = 16; // WireGuard transport header: type, receiver, counter (last 8 bytes)
const KEYPAIRS = 4;

const emit = (o: object) => console.log(JSON.stringify({ bench: 'aead', ...o }));

const keys = randomBytes(KEYPAIRS * KEY_LENGTH);
const slab = Buffer.alloc(BATCH * SLOT);
const offsets = new Int32Array(BATCH);
const plainLengths = new Int32Array(BATCH).fill(PACKET_BYTES);
const sealedLengths = new Int32Array(BATCH).fill(PACKET_BYTES + AEAD_TAG_LENGTH);
const keyIndex = new Int32Array(BATCH);
const results = new Int32Array(BATCH);
for (let i = 0; i < BATCH; i++) {
  offsets[i] = i * SLOT + HEADROOM;
  keyIndex[i] = i % KEYPAIRS;
  slab.set(randomBytes(PACKET_BYTES), offsets[i]);
}

// A number, not a bigint: a bigint per packet would allocate and muddy the GC count.
let counter = 0;
function nativeRound(packets: number): void {
  for (let done = 0; done < packets; done += BATCH) {
    const n = Math.min(BATCH, packets - done);
    for (let i = 0; i < n; i++, counter++) {
      slab.writeUInt32LE(counter % 0x1_0000_0000, offsets[i] - 8);
      slab.writeUInt32LE(Math.floor(counter / 0x1_0000_0000), offsets[i] - 4);
    }
    sealBatch(slab, offsets, plainLengths, keys, keyIndex, n);
    if (openBatch(slab, offsets, sealedLengths, keys, keyIndex, n, results) !== n) throw new Error('native open failed');
  }
}

const packet = randomBytes(PACKET_BYTES);
function sodiumRound(packets: number): void {
  for (let i = 0; i < packets; i++) {
    const key = keys.subarray((i % KEYPAIRS) * KEY_LENGTH, (i % KEYPAIRS + 1) * KEY_LENGTH);
    const nonce = wireguardNonce(BigInt(counter++));
    const sealed = sodium.crypto_aead_chacha20poly1305_ietf_encrypt(packet, null, null, nonce, key);
    const opened = sodium.crypto_aead_chacha20poly1305_ietf_decrypt(null, sealed, null, nonce, key);
    if (opened.length !== PACKET_BYTES) throw new Error('libsodium open failed');
  }
}

function timeNs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0);
}

/** Lets queued PerformanceObserver callbacks run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function main(): Promise<void> {
  await sodium.ready;
  nativeRound(BATCH * 50); // warm up both before measuring
  sodiumRound(2_000);
  await flush();

  let gcCount = 0;
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcCount++;
      gcMs += e.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  // Counts GCs during fn; the baseline's count shows the observer does see collections.
  const measure = async (fn: () => void) => {
    await flush();
    gcCount = 0;
    gcMs = 0;
    const ns = timeNs(fn);
    await flush();
    await flush();
    return { ns, gc: gcCount, gcMs };
  };
  const nat = await measure(() => nativeRound(PACKETS));
  const base = await measure(() => sodiumRound(PACKETS));
  observer.disconnect();
  const value = nat.ns / PACKETS;
  const baseline = base.ns / PACKETS;
  emit({ impl: 'native', batch: BATCH, packets: PACKETS, bytes: PACKET_BYTES, ns_per_packet: round(value), gbit_per_s: round((PACKET_BYTES * 8) / value) });
  emit({ impl: 'libsodium-wrappers', batch: 1, packets: PACKETS, bytes: PACKET_BYTES, ns_per_packet: round(baseline), gbit_per_s: round((PACKET_BYTES * 8) / baseline) });
  emit({ metric: 'gc_during_native', value: nat.gc, unit: 'count', gc_ms: round(nat.gcMs), baseline_gc: base.gc, baseline_gc_ms: round(base.gcMs) });
  emit({ metric: 'seal_open_per_packet', value: round(value), unit: 'ns', baseline: round(baseline), ratio: round(baseline / value) });
}

const round = (x: number) => Math.round(x * 100) / 100;

await main();
