/**
 * Micro benchmark: seal + open of 1420-byte packets, native batches of 128 (in place over
 * one slab) against libsodium-wrappers one packet at a time, side by side in one run.
 * Run: node --import tsx bench/aead.ts [packets]
 * Prints JSON lines; the last one is the headline ratio (baseline / native).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import sodium from 'libsodium-wrappers';
import { KEY_LENGTH } from '../src/crypto/aead.js';
import { wireguardNonce } from '../src/crypto/aead-reference.js';
import { BATCH, KEYPAIRS, PACKET_BYTES, nativeRounds, timeNs } from './lib/aead-cost.js';

const PACKETS = Number(process.argv[2] ?? 200_000);

const emit = (o: object) => console.log(JSON.stringify({ bench: 'aead', ...o }));

const keys = randomBytes(KEYPAIRS * KEY_LENGTH);
let counter = 0;
const nativeRound = nativeRounds('alternating');
const nativeRunsRound = nativeRounds('runs');

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

/** Lets queued PerformanceObserver callbacks run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function main(): Promise<void> {
  await sodium.ready;
  nativeRound(BATCH * 50); // warm up all three before measuring
  nativeRunsRound(BATCH * 50);
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
  const runs = await measure(() => nativeRunsRound(PACKETS));
  const base = await measure(() => sodiumRound(PACKETS));
  observer.disconnect();
  const value = nat.ns / PACKETS;
  const baseline = base.ns / PACKETS;
  emit({ impl: 'native', keys: 'one run per keypair', batch: BATCH, packets: PACKETS, bytes: PACKET_BYTES, ns_per_packet: round(runs.ns / PACKETS), gbit_per_s: round((PACKET_BYTES * 8) / (runs.ns / PACKETS)) });
  emit({ impl: 'native', keys: 'a new keypair every packet', batch: BATCH, packets: PACKETS, bytes: PACKET_BYTES, ns_per_packet: round(value), gbit_per_s: round((PACKET_BYTES * 8) / value) });
  emit({ impl: 'libsodium-wrappers', batch: 1, packets: PACKETS, bytes: PACKET_BYTES, ns_per_packet: round(baseline), gbit_per_s: round((PACKET_BYTES * 8) / baseline) });
  emit({ metric: 'gc_during_native', value: nat.gc, unit: 'count', gc_ms: round(nat.gcMs), baseline_gc: base.gc, baseline_gc_ms: round(base.gcMs) });
  emit({ metric: 'seal_open_per_packet', value: round(value), unit: 'ns', baseline: round(baseline), ratio: round(baseline / value) });
}

const round = (x: number) => Math.round(x * 100) / 100;

await main();
