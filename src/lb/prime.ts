/** Primes for Maglev table sizes (at most a few hundred thousand: trial division is plenty). */

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** The smallest prime >= n. */
export function nextPrime(n: number): number {
  if (!Number.isFinite(n)) throw new RangeError(`nextPrime needs a finite number, got ${n}`);
  let p = Math.max(2, Math.ceil(n));
  while (!isPrime(p)) p++;
  return p;
}
