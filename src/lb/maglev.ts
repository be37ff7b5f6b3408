/**
 * Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software
 * Network Load Balancer", NSDI 2016, section 3.4). Each backend derives a permutation of
 * the table's M slots from two hashes of its name (offset and skip, M prime so every skip
 * walks all slots); backends take turns claiming their next preferred free slot until
 * the table is full. A flow's hash picks a slot, the slot names the backend.
 *
 * - Balance: with equal weights every backend holds ⌊M/N⌋ or ⌈M/N⌉ slots; M ≥ 100·N keeps
 *   the difference within 1% (the paper's rule).
 * - Weights: a backend takes a turn each time its credit, grown by its weight every round,
 *   reaches the largest weight, so slots follow the weights.
 * - Determinism: the table depends only on the set of (name, weight): backends are
 *   visited in name order and the hash is seeded with constants, so the same set gives
 *   the same table after a restart or on another node.
 * - Size: M is the smallest prime ≥ 100 × (the backend count in weight units, rounded
 *   up to a power of two), so removing one backend of N rarely changes M (a change of M
 *   reshuffles the whole table), and never more than MAGLEV_MAX_SIZE: memory is bounded
 *   per service (2 bytes a slot) and, by the config check, for all services together.
 *
 * Building is control-path work (on a change of backends or health), O(M log M).
 */
import { hashBytes } from './hash.js';
import { isPrime, nextPrime } from './prime.js';

interface MaglevBackend {
  /** Identity of the backend, e.g. "10.0.1.2:8080"; unique within a table. */
  readonly name: string;
  /** Positive integer. */
  readonly weight: number;
}

const MAGLEV_MIN_SIZE = 101;
/** 2^17 - 1, a prime: 256 KiB per table at most. */
export const MAGLEV_MAX_SIZE = 131071;
/** Backends per table: slots hold a 16-bit index. */
const MAGLEV_MAX_BACKENDS = 65535;
/** Fixed seeds of the two name hashes (offset, skip): never random, see above. */
const OFFSET_SEED = 0x4d61676c; // "Magl"
const SKIP_SEED = 0x65762d31; // "ev-1"
const EMPTY = 0xffff;

const encoder = new TextEncoder();

/** The table size for backends of these weights (see the module comment). */
export function maglevTableSize(weights: readonly number[]): number {
  if (weights.length === 0) return MAGLEV_MIN_SIZE;
  let sum = 0;
  let min = Infinity;
  for (const w of weights) {
    if (!Number.isInteger(w) || w < 1) throw new RangeError(`backend weights must be positive integers, got ${w}`);
    sum += w;
    if (w < min) min = w;
  }
  const units = Math.max(1, Math.ceil(sum / min - 1e-9));
  const bucket = 2 ** Math.ceil(Math.log2(units));
  return Math.min(MAGLEV_MAX_SIZE, nextPrime(Math.max(MAGLEV_MIN_SIZE, 100 * bucket)));
}

export class MaglevTable {
  /** Slot → index into the backends array the table was built from. */
  readonly slots: Uint16Array;

  private constructor(
    readonly size: number,
    readonly backendCount: number,
    slots: Uint16Array,
  ) {
    this.slots = slots;
  }

  /**
   * Builds the table for `backends` (indices into this array are what lookup returns).
   * `size` defaults to maglevTableSize of their weights and must be a prime.
   */
  static build(backends: readonly MaglevBackend[], size = maglevTableSize(backends.map((b) => b.weight))): MaglevTable {
    const n = backends.length;
    if (n === 0) throw new RangeError('a Maglev table needs at least one backend');
    if (n > MAGLEV_MAX_BACKENDS) throw new RangeError(`a Maglev table holds at most ${MAGLEV_MAX_BACKENDS} backends, got ${n}`);
    if (!isPrime(size) || size < n) throw new RangeError(`Maglev table size must be a prime >= the backend count, got ${size}`);
    const names = new Set<string>();
    let maxWeight = 0;
    for (const b of backends) {
      if (!Number.isInteger(b.weight) || b.weight < 1) throw new RangeError(`backend ${b.name}: weight must be a positive integer, got ${b.weight}`);
      if (names.has(b.name)) throw new RangeError(`backend ${b.name} is given twice`);
      names.add(b.name);
      if (b.weight > maxWeight) maxWeight = b.weight;
    }
    // Visit backends in name order, so the table does not depend on the order given.
    const order = backends.map((_, i) => i).sort((a, b) => (backends[a].name < backends[b].name ? -1 : backends[a].name > backends[b].name ? 1 : 0));
    const position = new Float64Array(n);
    const skip = new Float64Array(n);
    const weight = new Float64Array(n);
    const credit = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const b = backends[order[k]];
      const bytes = encoder.encode(b.name);
      position[k] = hashBytes(bytes, 0, bytes.length, OFFSET_SEED) % size;
      skip[k] = (hashBytes(bytes, 0, bytes.length, SKIP_SEED) % (size - 1)) + 1;
      weight[k] = b.weight;
    }
    const slots = new Uint16Array(size).fill(EMPTY);
    let filled = 0;
    while (filled < size) {
      for (let k = 0; k < n && filled < size; k++) {
        credit[k] += weight[k];
        if (credit[k] < maxWeight) continue;
        credit[k] -= maxWeight;
        // The next slot of this backend's permutation that nobody holds yet.
        let c = position[k];
        while (slots[c] !== EMPTY) c = (c + skip[k]) % size;
        slots[c] = order[k];
        position[k] = (c + skip[k]) % size;
        filled++;
      }
    }
    return new MaglevTable(size, n, slots);
  }

  /** The backend index for a flow hash (any unsigned 32-bit value). */
  lookup(hash: number): number {
    return this.slots[hash % this.size];
  }

  /** Slots held by each backend index. Control path (stats, tests). */
  counts(): number[] {
    const out = new Array<number>(this.backendCount).fill(0);
    for (let i = 0; i < this.size; i++) out[this.slots[i]]++;
    return out;
  }
}
