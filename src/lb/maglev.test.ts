import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { hashBytes } from './hash.js';
import { MAGLEV_MAX_SIZE, MaglevTable, maglevTableSize } from './maglev.js';
import { isPrime } from './prime.js';

const bytes = (s: string) => new TextEncoder().encode(s);

function backends(n: number, weight = 1) {
  return Array.from({ length: n }, (_, i) => ({ name: `10.${(i >> 8) & 255}.${i & 255}.2:8080`, weight }));
}

/** Fraction of slots whose backend (by name) differs between two tables of one size. */
function changed(a: MaglevTable, aNames: { name: string }[], b: MaglevTable, bNames: { name: string }[]): number {
  assert.equal(a.size, b.size);
  let n = 0;
  for (let i = 0; i < a.size; i++) if (aNames[a.slots[i]].name !== bNames[b.slots[i]].name) n++;
  return n / a.size;
}

test('the name hash is MurmurHash3_x86_32 (reference vectors)', () => {
  assert.equal(hashBytes(bytes(''), 0, 0, 0), 0);
  assert.equal(hashBytes(bytes(''), 0, 0, 1), 0x514e28b7);
  assert.equal(hashBytes(bytes('test'), 0, 4, 0), 0xba6bd213);
  assert.equal(hashBytes(bytes('Hello, world!'), 0, 13, 1234), 0xfaf6cdb3);
  const fox = bytes('The quick brown fox jumps over the lazy dog');
  assert.equal(hashBytes(fox, 0, fox.length, 0), 0x2e4ff723);
});

test('table size: a prime of at least 100 slots per backend (in weight units, by powers of two), bounded', () => {
  assert.equal(maglevTableSize([1]), 101);
  assert.equal(maglevTableSize([1, 1, 1]), 401);
  assert.equal(maglevTableSize([1, 1, 1, 1]), 401, 'one backend more or less within a power of two keeps M');
  assert.equal(maglevTableSize([1, 2, 1]), 401);
  assert.equal(maglevTableSize(new Array(100).fill(1)), 12809);
  assert.equal(maglevTableSize(new Array(5000).fill(1)), MAGLEV_MAX_SIZE);
  for (const n of [1, 2, 3, 7, 50, 100, 999]) {
    const m = maglevTableSize(new Array(n).fill(1));
    assert.ok(isPrime(m) && m >= 100 * n, `${n} backends: M=${m}`);
  }
});

test('equal weights: every backend holds its share of slots within 1%, and so do real flow hashes', () => {
  for (const n of [2, 3, 10, 100]) {
    const t = MaglevTable.build(backends(n));
    const c = t.counts();
    const mean = t.size / n;
    assert.ok(Math.max(...c) - Math.min(...c) <= 1, `${n}: ${Math.min(...c)}..${Math.max(...c)}`);
    for (const k of c) assert.ok(Math.abs(k - mean) / mean <= 0.01, `${n} backends: ${k} slots, mean ${mean}`);
  }
  // 300,000 flows (distinct 5-tuples) through 3 backends.
  const t = MaglevTable.build(backends(3));
  const hits = [0, 0, 0];
  const tuple = new Uint8Array(13);
  for (let i = 0; i < 300_000; i++) {
    tuple[0] = 10;
    tuple[1] = 200;
    tuple[2] = (i >>> 16) & 255;
    tuple[3] = (i >>> 8) & 255;
    tuple[4] = i & 255;
    tuple[8] = i % 251;
    tuple[12] = 6;
    hits[t.lookup(hashBytes(tuple, 0, 13, 7))]++;
  }
  for (const h of hits) assert.ok(Math.abs(h / 100_000 - 1) < 0.01, `flows per backend ${hits}`);
});

test('weights are respected: slots follow 1:2:3 and 1:10 within 1%', () => {
  for (const weights of [[1, 2, 3], [1, 10], [5, 5, 1]]) {
    const bs = weights.map((w, i) => ({ name: `192.0.2.${i + 1}:80`, weight: w }));
    const t = MaglevTable.build(bs);
    const total = weights.reduce((a, b) => a + b, 0);
    t.counts().forEach((k, i) => {
      const want = (t.size * weights[i]) / total;
      assert.ok(Math.abs(k - want) / want <= 0.01, `weights ${weights}: backend ${i} holds ${k}, expected ${want.toFixed(1)}`);
    });
  }
});

test('disruption when backends leave is close to the paper (N=1000, M=65537 and 655373) and shrinks with M', () => {
  // Eisenbud et al. 2016, section 5.3 (resilience): 1000 backends, k% of them removed.
  const bs = backends(1000);
  const results: Record<string, number> = {};
  for (const m of [65537, 655373]) {
    const full = MaglevTable.build(bs, m);
    for (const k of [1, 10]) {
      const gone = new Set(Array.from({ length: k * 10 }, (_, i) => (i * 7) % 1000));
      const rest = bs.filter((_, i) => !gone.has(i));
      const frac = changed(full, bs, MaglevTable.build(rest, m), rest);
      results[`${m}/${k}%`] = frac;
      // At least the removed backends' own slots move; Maglev moves some others too.
      assert.ok(frac >= k / 100, `${m}, ${k}%: ${frac}`);
    }
  }
  assert.ok(results['65537/1%'] < 0.04 && results['65537/10%'] < 0.16, JSON.stringify(results));
  assert.ok(results['655373/1%'] < 0.02 && results['655373/10%'] < 0.12, JSON.stringify(results));
  assert.ok(results['655373/1%'] < results['65537/1%'] && results['655373/10%'] < results['65537/10%']);
  // Ferry's own sizing: one of 100 leaves, M unchanged (12809): under 2.5× the unavoidable 1%.
  const hundred = backends(100);
  const before = MaglevTable.build(hundred);
  const rest = hundred.slice(1);
  const after = MaglevTable.build(rest);
  assert.equal(after.size, before.size);
  const frac = changed(before, hundred, after, rest);
  assert.ok(frac >= 0.01 && frac < 0.025, `one of 100 left: ${frac}`);
  // Every slot that did not belong to the removed backend and changed went to a survivor: no slot is empty.
  assert.ok(after.counts().every((c) => c > 0));
});

test('the same backends give the same table: whatever the order, in every run (pinned digest)', () => {
  const bs = [
    { name: '10.0.1.2:8080', weight: 1 },
    { name: '10.0.2.2:8080', weight: 2 },
    { name: '10.0.3.2:8080', weight: 1 },
  ];
  const a = MaglevTable.build(bs);
  const reversed = [...bs].reverse();
  const b = MaglevTable.build(reversed);
  for (let i = 0; i < a.size; i++) assert.equal(bs[a.slots[i]].name, reversed[b.slots[i]].name);
  // Recorded once; a change means tables differ from those of earlier versions or runs.
  assert.equal(a.size, 401);
  assert.equal(createHash('sha256').update(a.slots).digest('hex'), 'a83c9007961cef0736d5cce06c80dbe551ed215db05863a0472f869a2c515baa');
  assert.deepEqual(a.counts(), [100, 201, 100]);
});

test('bad input is refused: no backends, duplicates, bad weights, a size that is not prime', () => {
  assert.throws(() => MaglevTable.build([]), RangeError);
  assert.throws(() => MaglevTable.build([{ name: 'a', weight: 1 }, { name: 'a', weight: 1 }]), /twice/);
  assert.throws(() => MaglevTable.build([{ name: 'a', weight: 0 }]), /weight/);
  assert.throws(() => MaglevTable.build([{ name: 'a', weight: 1 }], 100), /prime/);
});
