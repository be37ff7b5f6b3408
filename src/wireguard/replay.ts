/**
 * The receive-side replay window of one keypair: RFC 6479's bitmap, exactly as the Linux
 * kernel's WireGuard has it (drivers/net/wireguard/receive.c, counter_validate): a ring
 * of 128 words of 64 bits (8192 bits), of which one word is always being recycled, so a
 * counter up to 8128 below the highest seen is still accepted once.
 *
 * Counters are 64-bit on the wire. JavaScript numbers are exact only below 2^53 and BigInt
 * allocates, so validate() takes the counter as its two little-endian uint32 words (what
 * the datapath reads from the packet) and does all arithmetic on the pair: exact over the
 * whole 64-bit range, allocation-free, and faithful to the kernel up to
 * REJECT_AFTER_MESSAGES = 2^64 - 2^13 - 1.
 *
 * Like the kernel, the stored counter is "highest accepted + 1" (0 = nothing received),
 * and bit positions are taken from counter + 1. The 64-bit words are emulated as pairs of
 * uint32 in one Uint32Array, so word recycling happens at the same boundaries as on a
 * 64-bit kernel.
 */

// The replay window's constants (the kernel's counter.c), kept with the only code that reads
// them; REJECT_AFTER_MESSAGES (constants.ts) in u32 halves for the allocation-free compare.
/** REJECT_AFTER_MESSAGES = 2^64 - 2^13 - 1 (whitepaper §6.2, kernel messages.h), high word. */
export const REJECT_AFTER_MESSAGES_HI = 0xffffffff;
/** REJECT_AFTER_MESSAGES, low word: 2^32 - 2^13 - 1. */
export const REJECT_AFTER_MESSAGES_LO = 0xffffdfff;
/** Kernel COUNTER_BITS_TOTAL: bits in the ring. */
const COUNTER_BITS_TOTAL = 8192;
/** Kernel COUNTER_REDUNDANT_BITS: one word (BITS_PER_LONG on 64-bit) is always being recycled. */
const COUNTER_REDUNDANT_BITS = 64;
/** Kernel COUNTER_WINDOW_SIZE: how far behind the highest counter a packet may still arrive. */
export const COUNTER_WINDOW_SIZE = COUNTER_BITS_TOTAL - COUNTER_REDUNDANT_BITS;

const WORDS = COUNTER_BITS_TOTAL / COUNTER_REDUNDANT_BITS; // 128 logical 64-bit words
const WORD_MASK = WORDS - 1;
const TWO32 = 0x1_0000_0000;

interface ReplayLimit {
  /** Low 32 bits of the first counter to reject. */
  lo: number;
  /** High 32 bits of the first counter to reject. */
  hi: number;
}

export class ReplayWindow {
  /** Highest accepted counter + 1, as two uint32 words (kernel: receive.counter). */
  private counterLo = 0;
  private counterHi = 0;
  /** 128 64-bit words as 256 uint32: word w is [2w] (bits 0..31) and [2w + 1] (bits 32..63). */
  private readonly backtrack = new Uint32Array(WORDS * 2);
  private readonly limitLo: number;
  private readonly limitHi: number;

  /**
   * @param limit first counter to reject; REJECT_AFTER_MESSAGES unless a test (for example
   *   wireguard-go's replay_test.go, which uses 2^64 - 2^4 - 1) asks for another.
   */
  constructor(limit: ReplayLimit = { lo: REJECT_AFTER_MESSAGES_LO, hi: REJECT_AFTER_MESSAGES_HI }) {
    for (const v of [limit.lo, limit.hi]) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`replay limit words must be uint32, got ${v}`);
    }
    if (limit.lo === 0 && limit.hi === 0) throw new RangeError('replay limit must be above 0');
    this.limitLo = limit.lo;
    this.limitHi = limit.hi;
  }

  /** Forgets everything, as for a fresh keypair (kernel T_INIT). */
  reset(): void {
    this.counterLo = 0;
    this.counterHi = 0;
    this.backtrack.fill(0);
  }

  /**
   * True when the 64-bit counter (lo, hi: its little-endian uint32 halves) has not been
   * seen and is not too old; it is then marked as seen. False for replays, counters more
   * than COUNTER_WINDOW_SIZE behind the highest, and counters >= the reject limit.
   * Per packet: allocation-free; call it only after the packet authenticated.
   */
  validate(lo: number, hi: number): boolean {
    lo >>>= 0;
    hi >>>= 0;
    const limitLo = this.limitLo;
    const limitHi = this.limitHi;
    const cLo = this.counterLo;
    const cHi = this.counterHi;

    // counter->receive.counter >= limit + 1, or their_counter >= limit
    if (cHi > limitHi || (cHi === limitHi && cLo > limitLo)) return false;
    if (hi > limitHi || (hi === limitHi && lo >= limitLo)) return false;

    // ++their_counter (cannot leave 64 bits: it is below the limit)
    lo += 1;
    if (lo === TWO32) {
      lo = 0;
      hi += 1;
    }

    // COUNTER_WINDOW_SIZE + their_counter < counter: too old. Compared as true values
    // (the high word may reach 2^32), so a limit near 2^64 cannot wrap.
    let tLo = lo + COUNTER_WINDOW_SIZE;
    let tHi = hi;
    if (tLo >= TWO32) {
      tLo -= TWO32;
      tHi += 1;
    }
    if (tHi < cHi || (tHi === cHi && tLo < cLo)) return false;

    if (hi > cHi || (hi === cHi && lo > cLo)) {
      // Move the window forward: clear the words between the old and the new top,
      // at most the whole ring. Word indices are counter >> 6 (58 bits): low/high halves.
      const iLo = ((lo >>> 6) | (hi << 26)) >>> 0;
      const iHi = hi >>> 6;
      const jLo = ((cLo >>> 6) | (cHi << 26)) >>> 0;
      const jHi = cHi >>> 6;
      let top: number;
      if (iHi - jHi > 1) {
        top = WORDS;
      } else {
        const diff = (iHi - jHi) * TWO32 + iLo - jLo; // < 2^33, exact
        top = diff > WORDS ? WORDS : diff;
      }
      const current = jLo & WORD_MASK;
      const bt = this.backtrack;
      for (let i = 1; i <= top; i++) {
        const w = (current + i) & WORD_MASK;
        bt[w << 1] = 0;
        bt[(w << 1) | 1] = 0;
      }
      this.counterLo = lo;
      this.counterHi = hi;
    }

    const bit = lo & 63;
    const slot = (((lo >>> 6) & WORD_MASK) << 1) | (bit >>> 5);
    const mask = 1 << (bit & 31);
    const old = this.backtrack[slot];
    if ((old & mask) !== 0) return false;
    this.backtrack[slot] = old | mask;
    return true;
  }

  /**
   * validate() for a counter given as a number: exact for integers up to 2^53; anything
   * else (fractions, negatives, above 2^53) is rejected. Convenience for control paths
   * and tests; the datapath passes the two words.
   */
  validateNumber(counter: number): boolean {
    if (!Number.isSafeInteger(counter) || counter < 0) return false;
    return this.validate(counter >>> 0, Math.floor(counter / TWO32));
  }

  /**
   * True once the limit's last counter (limit - 1) has been accepted: nothing more can be
   * received with this keypair (the kernel's decrypt_packet then invalidates the key).
   */
  get exhausted(): boolean {
    return this.counterHi > this.limitHi || (this.counterHi === this.limitHi && this.counterLo >= this.limitLo);
  }
}
