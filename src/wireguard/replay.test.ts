import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { COUNTER_WINDOW_SIZE, REJECT_AFTER_MESSAGES_HI, REJECT_AFTER_MESSAGES_LO, ReplayWindow } from './replay.js';

const REJECT_AFTER_MESSAGES = 2n ** 64n - 2n ** 13n - 1n;
const WINDOW = BigInt(COUNTER_WINDOW_SIZE);
const T_LIM = WINDOW + 1n;

const lo = (n: bigint): number => Number(n & 0xffffffffn);
const hi = (n: bigint): number => Number((n >> 32n) & 0xffffffffn);

/** Runs one T(n, v) line: the whole 64-bit counter goes in as its two words. */
function check(w: ReplayWindow, n: bigint, expected: boolean, label: string): void {
  assert.equal(w.validate(lo(n), hi(n)), expected, `${label}: counter ${n} should be ${expected ? 'accepted' : 'rejected'}`);
}

test('constants match the kernel', () => {
  assert.equal(COUNTER_WINDOW_SIZE, 8128);
  assert.equal(BigInt(REJECT_AFTER_MESSAGES_HI) * 2n ** 32n + BigInt(REJECT_AFTER_MESSAGES_LO), REJECT_AFTER_MESSAGES);
});

// drivers/net/wireguard/selftest/counter.c, the 34 T() lines after the first T_INIT.
const KERNEL_TABLE: Array<[bigint, boolean]> = [
  /*  1 */ [0n, true],
  /*  2 */ [1n, true],
  /*  3 */ [1n, false],
  /*  4 */ [9n, true],
  /*  5 */ [8n, true],
  /*  6 */ [7n, true],
  /*  7 */ [7n, false],
  /*  8 */ [T_LIM, true],
  /*  9 */ [T_LIM - 1n, true],
  /* 10 */ [T_LIM - 1n, false],
  /* 11 */ [T_LIM - 2n, true],
  /* 12 */ [2n, true],
  /* 13 */ [2n, false],
  /* 14 */ [T_LIM + 16n, true],
  /* 15 */ [3n, false],
  /* 16 */ [T_LIM + 16n, false],
  /* 17 */ [T_LIM * 4n, true],
  /* 18 */ [T_LIM * 4n - (T_LIM - 1n), true],
  /* 19 */ [10n, false],
  /* 20 */ [T_LIM * 4n - T_LIM, false],
  /* 21 */ [T_LIM * 4n - (T_LIM + 1n), false],
  /* 22 */ [T_LIM * 4n - (T_LIM - 2n), true],
  /* 23 */ [T_LIM * 4n + 1n - T_LIM, false],
  /* 24 */ [0n, false],
  /* 25 */ [REJECT_AFTER_MESSAGES, false],
  /* 26 */ [REJECT_AFTER_MESSAGES - 1n, true],
  /* 27 */ [REJECT_AFTER_MESSAGES, false],
  /* 28 */ [REJECT_AFTER_MESSAGES - 1n, false],
  /* 29 */ [REJECT_AFTER_MESSAGES - 2n, true],
  /* 30 */ [REJECT_AFTER_MESSAGES + 1n, false],
  /* 31 */ [REJECT_AFTER_MESSAGES + 2n, false],
  /* 32 */ [REJECT_AFTER_MESSAGES - 2n, false],
  /* 33 */ [REJECT_AFTER_MESSAGES - 3n, true],
  /* 34 */ [0n, false],
];

test('kernel counter.c: the T(n, v) table', () => {
  assert.equal(KERNEL_TABLE.length, 34);
  const w = new ReplayWindow();
  KERNEL_TABLE.forEach(([n, v], i) => check(w, n, v, `T ${i + 1}`));
});

test('kernel counter.c: bulk forward and backward runs over the window', () => {
  const W = COUNTER_WINDOW_SIZE;
  const w = new ReplayWindow();

  // for (i = 1; i <= COUNTER_WINDOW_SIZE; ++i) T(i, true); T(0, true); T(0, false);
  w.reset();
  for (let i = 1; i <= W; i++) check(w, BigInt(i), true, 'bulk 1');
  check(w, 0n, true, 'bulk 1 tail a');
  check(w, 0n, false, 'bulk 1 tail b');

  // for (i = 2; i <= COUNTER_WINDOW_SIZE + 1; ++i) T(i, true); T(1, true); T(0, false);
  w.reset();
  for (let i = 2; i <= W + 1; i++) check(w, BigInt(i), true, 'bulk 2');
  check(w, 1n, true, 'bulk 2 tail a');
  check(w, 0n, false, 'bulk 2 tail b');

  // for (i = COUNTER_WINDOW_SIZE + 1; i-- > 0;) T(i, true);
  w.reset();
  for (let i = W + 1; i-- > 0; ) check(w, BigInt(i), true, 'bulk 3');

  // for (i = COUNTER_WINDOW_SIZE + 2; i-- > 1;) T(i, true); T(0, false);
  w.reset();
  for (let i = W + 2; i-- > 1; ) check(w, BigInt(i), true, 'bulk 4');
  check(w, 0n, false, 'bulk 4 tail');

  // for (i = COUNTER_WINDOW_SIZE + 1; i-- > 1;) T(i, true); T(COUNTER_WINDOW_SIZE + 1, true); T(0, false);
  w.reset();
  for (let i = W + 1; i-- > 1; ) check(w, BigInt(i), true, 'bulk 5');
  check(w, BigInt(W + 1), true, 'bulk 5 tail a');
  check(w, 0n, false, 'bulk 5 tail b');

  // for (i = COUNTER_WINDOW_SIZE + 1; i-- > 1;) T(i, true); T(0, true); T(COUNTER_WINDOW_SIZE + 1, true);
  w.reset();
  for (let i = W + 1; i-- > 1; ) check(w, BigInt(i), true, 'bulk 6');
  check(w, 0n, true, 'bulk 6 tail a');
  check(w, BigInt(W + 1), true, 'bulk 6 tail b');
});

test('wireguard-go replay_test.go: its table with its own limit 2^64 - 2^4 - 1', () => {
  const goLimit = 2n ** 64n - 2n ** 4n - 1n;
  const w = new ReplayWindow({ lo: lo(goLimit), hi: hi(goLimit) });
  // Same first 24 lines as the kernel; 25..34 probe around wireguard-go's limit.
  const table: Array<[bigint, boolean]> = KERNEL_TABLE.slice(0, 24).concat([
    [goLimit, false],
    [goLimit - 1n, true],
    [goLimit, false],
    [goLimit - 1n, false],
    [goLimit - 2n, true],
    [goLimit + 1n, false],
    [goLimit + 2n, false],
    [goLimit - 2n, false],
    [goLimit - 3n, true],
    [0n, false],
  ]);
  table.forEach(([n, v], i) => check(w, n, v, `go T ${i + 1}`));
});

test('wireguard-go replay_test.go: bulk tests 1..6 (its loop bounds differ from the kernel)', () => {
  const W = COUNTER_WINDOW_SIZE;
  const w = new ReplayWindow();

  w.reset();
  for (let i = 1; i <= W; i++) check(w, BigInt(i), true, 'go bulk 1');
  check(w, 0n, true, 'go bulk 1 tail a');
  check(w, 0n, false, 'go bulk 1 tail b');

  w.reset();
  for (let i = 2; i <= W + 1; i++) check(w, BigInt(i), true, 'go bulk 2');
  check(w, 1n, true, 'go bulk 2 tail a');
  check(w, 0n, false, 'go bulk 2 tail b');

  w.reset();
  for (let i = W + 1; i > 0; i--) check(w, BigInt(i), true, 'go bulk 3');

  w.reset();
  for (let i = W + 2; i > 1; i--) check(w, BigInt(i), true, 'go bulk 4');
  check(w, 0n, false, 'go bulk 4 tail');

  w.reset();
  for (let i = W; i > 0; i--) check(w, BigInt(i), true, 'go bulk 5');
  check(w, BigInt(W + 1), true, 'go bulk 5 tail a');
  check(w, 0n, false, 'go bulk 5 tail b');

  w.reset();
  for (let i = W; i > 0; i--) check(w, BigInt(i), true, 'go bulk 6');
  check(w, 0n, true, 'go bulk 6 tail a');
  check(w, BigInt(W + 1), true, 'go bulk 6 tail b');
});

test('window edge: exactly COUNTER_WINDOW_SIZE behind is accepted, one more is not', () => {
  for (const base of [100_000n, 2n ** 32n - 5n, 2n ** 53n + 7n, REJECT_AFTER_MESSAGES - 1n]) {
    const w = new ReplayWindow();
    check(w, base, true, 'top');
    check(w, base - WINDOW, true, 'at edge');
    check(w, base - WINDOW - 1n, false, 'past edge');
    check(w, base - 1n, true, 'just behind');
  }
});

test('carries across the 32-bit word boundary', () => {
  const w = new ReplayWindow();
  for (let n = 2n ** 32n - 70n; n < 2n ** 32n + 70n; n++) check(w, n, true, 'rising');
  for (let n = 2n ** 32n - 70n; n < 2n ** 32n + 70n; n++) check(w, n, false, 'replayed');
  check(w, 2n ** 32n + 1000n, true, 'jump');
  check(w, 2n ** 32n + 100n, true, 'fill in');
});

test('a jump of a whole ring or more clears every word, the current one included', () => {
  // 0 sets bit 1 of word 0; 8192 (+1 = 8193) lands on bit 1 of word 128, the same ring slot.
  for (const jump of [8192n, 8192n * 2n, 8192n * 1_000_003n, 2n ** 40n]) {
    const w = new ReplayWindow();
    check(w, 0n, true, 'first');
    check(w, jump, true, `jump to ${jump}`);
    check(w, jump - 1n, true, 'just behind the jump');
  }
});

test('exhausted once limit - 1 was accepted', () => {
  const w = new ReplayWindow();
  assert.equal(w.exhausted, false);
  check(w, REJECT_AFTER_MESSAGES - 2n, true, 'second to last');
  assert.equal(w.exhausted, false);
  check(w, REJECT_AFTER_MESSAGES - 1n, true, 'last');
  assert.equal(w.exhausted, true);
  w.reset();
  assert.equal(w.exhausted, false);
});

test('validateNumber agrees with validate below 2^53 and rejects what it cannot represent', () => {
  const a = new ReplayWindow();
  const b = new ReplayWindow();
  for (const n of [0, 1, 5, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 3, 2 ** 40, 2 ** 53 - 1]) {
    assert.equal(a.validateNumber(n), b.validate(lo(BigInt(n)), hi(BigInt(n))), `n=${n}`);
  }
  const c = new ReplayWindow();
  for (const n of [-1, 0.5, 2 ** 53, Number.NaN, Infinity]) assert.equal(c.validateNumber(n), false, `n=${n}`);
  assert.equal(c.validateNumber(0), true, 'the rejects above left the window untouched');
});

test('rejects non-uint32 limits', () => {
  assert.throws(() => new ReplayWindow({ lo: -1, hi: 0 }), RangeError);
  assert.throws(() => new ReplayWindow({ lo: 0, hi: 2 ** 32 }), RangeError);
  assert.throws(() => new ReplayWindow({ lo: 0, hi: 0 }), RangeError);
});

/**
 * Reference model: the kernel's bitmap never forgets a counter still inside the window and
 * never remembers one outside it, so it accepts exactly when the counter is below the
 * limit, at most COUNTER_WINDOW_SIZE behind the highest accepted, and not seen before.
 */
class SetModel {
  private seen = new Set<bigint>();
  private max = -1n;
  validate(n: bigint): boolean {
    if (n >= REJECT_AFTER_MESSAGES) return false;
    if (this.max >= 0n && this.max - n > WINDOW) return false;
    if (this.seen.has(n)) return false;
    this.seen.add(n);
    if (n > this.max) this.max = n;
    return true;
  }
}

test('property: agrees with a set model on random walks anywhere in the 64-bit range', () => {
  const bases = [0n, 2n ** 31n, 2n ** 32n - 3000n, 2n ** 53n - 9000n, 2n ** 63n, REJECT_AFTER_MESSAGES - 20_000n];
  fc.assert(
    fc.property(
      fc.constantFrom(...bases),
      fc.array(fc.oneof(fc.integer({ min: -9000, max: 200 }), fc.integer({ min: -20, max: 20 }), fc.integer({ min: 0, max: 40_000 }), fc.constantFrom(8192, 8191, 8193, 16384, 8192 * 977)), { minLength: 1, maxLength: 400, size: 'max' }),
      (base, steps) => {
        const w = new ReplayWindow();
        const m = new SetModel();
        let cur = base;
        for (const s of steps) {
          cur += BigInt(s);
          if (cur < 0n) cur = 0n;
          if (cur >= 2n ** 64n) cur = 2n ** 64n - 1n;
          assert.equal(w.validate(lo(cur), hi(cur)), m.validate(cur), `counter ${cur}`);
        }
      },
    ),
    { numRuns: 300 },
  );
});
