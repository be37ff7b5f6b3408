import { webcrypto } from 'node:crypto';
import { ErrorCode, FerryError } from '../errors.js';

/**
 * Per-source rate limiter for handshake messages about to cost a DH (under load or not:
 * handshake-path.ts says why) and, a second instance, for cookie replies
 * (cookie-reply-limiter.ts); as the kernel's ratelimiter.c and wireguard-go's
 * ratelimiter/: a token bucket per source that allows 20 packets a second with bursts of 5.
 * Sources are IPv4 addresses and IPv6 /64s (one host owns a whole /64, so it gets one
 * bucket). Entries idle for more than a second are dropped by gc(), which the device tick
 * calls about once a second.
 *
 * Bounded: at most `capacity` sources (default 4096). When the table is full a *new*
 * source is refused (allow() returns false) until gc() frees room; known sources keep
 * their buckets. This is the kernel's policy (max_entries, then err_oom -> false).
 *
 * Time is injected (milliseconds, any monotonic origin). Memory is fixed at
 * construction: an open-addressing table in typed arrays, at most half full, probed
 * linearly, so allow() allocates nothing, not even for a new source. The slot hash is
 * simple tabulation over the key bytes with random tables, so remote senders cannot
 * aim many sources at one probe chain without knowing the tables.
 */

// The limiter's constants (wireguard-go ratelimiter.go), kept with the only code that reads them.
export const PACKETS_PER_SECOND = 20;
export const PACKETS_BURSTABLE = 5;
/** Tokens are milliseconds of credit: one packet costs 50 ms, a full bucket holds 250 ms. */
const PACKET_COST_MS = 1000 / PACKETS_PER_SECOND;
const TOKEN_MAX_MS = PACKET_COST_MS * PACKETS_BURSTABLE;
/** gc() drops sources idle for longer than this. */
export const RATELIMITER_IDLE_MS = 1000;
export const DEFAULT_RATELIMITER_CAPACITY = 4096;
const MAX_CAPACITY = 1 << 24;

interface RateLimiterOptions {
  /** Maximum tracked sources. Default 4096. */
  capacity?: number;
  /** Fills the hash tables with random uint32s. Default crypto.getRandomValues; tests inject. */
  randomFill?: (out: Uint32Array) => void;
}

export class RateLimiter {
  readonly capacity: number;
  private count = 0;
  /** The key probed last (probe() sets them; allow() stores them for a new source). */
  private probeFamily = 0;
  private probeA = 0;
  private probeB = 0;
  private readonly mask: number;
  /** Per slot: family 0 (empty), 4 or 6; key words; tokens (ms); last refill time (ms). */
  private readonly family: Uint8Array;
  private readonly keyA: Int32Array;
  private readonly keyB: Int32Array;
  private readonly tokens: Float64Array;
  private readonly last: Float64Array;
  /** Tabulation hash: 8 key bytes and the family, 256 random words each. */
  private readonly tab = new Uint32Array(9 * 256);
  /** Survivors while gc() rebuilds the table. */
  private readonly spare: { family: Uint8Array; keyA: Int32Array; keyB: Int32Array; tokens: Float64Array; last: Float64Array };

  constructor(options: RateLimiterOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_RATELIMITER_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new FerryError(ErrorCode.InvalidArgument, `rate limiter capacity must be an integer in [1, ${MAX_CAPACITY}], got ${capacity}`);
    }
    this.capacity = capacity;
    let slots = 2;
    while (slots < 2 * capacity) slots *= 2;
    this.mask = slots - 1;
    this.family = new Uint8Array(slots);
    this.keyA = new Int32Array(slots);
    this.keyB = new Int32Array(slots);
    this.tokens = new Float64Array(slots);
    this.last = new Float64Array(slots);
    this.spare = {
      family: new Uint8Array(capacity),
      keyA: new Int32Array(capacity),
      keyB: new Int32Array(capacity),
      tokens: new Float64Array(capacity),
      last: new Float64Array(capacity),
    };
    (options.randomFill ?? ((out: Uint32Array) => void webcrypto.getRandomValues(out)))(this.tab);
  }

  /** Sources currently tracked. */
  get size(): number {
    return this.count;
  }

  /**
   * True when the source of a handshake may be processed now, and its token is taken.
   * `endpoint` holds the remote part of the endpoint record of src/io/endpoint.ts at
   * `offset` (the port is ignored). Records of unknown family are refused. Hot path under
   * load: allocation-free.
   */
  allow(endpoint: Uint8Array, offset: number, nowMs: number): boolean {
    const i = this.probe(endpoint, offset);
    if (i < 0) return false;
    if (this.family[i] !== 0) {
      const tokens = this.refilled(i, nowMs);
      if (nowMs > this.last[i]) this.last[i] = nowMs;
      const ok = tokens >= PACKET_COST_MS;
      this.tokens[i] = ok ? tokens - PACKET_COST_MS : tokens;
      return ok;
    }
    if (this.count >= this.capacity) return false;
    this.family[i] = this.probeFamily;
    this.keyA[i] = this.probeA;
    this.keyB[i] = this.probeB;
    this.tokens[i] = TOKEN_MAX_MS - PACKET_COST_MS;
    this.last[i] = nowMs;
    this.count++;
    return true;
  }

  /** What allow() would answer now, changing nothing: no token taken, no source added. */
  wouldAllow(endpoint: Uint8Array, offset: number, nowMs: number): boolean {
    const i = this.probe(endpoint, offset);
    if (i < 0) return false;
    if (this.family[i] === 0) return this.count < this.capacity;
    return this.refilled(i, nowMs) >= PACKET_COST_MS;
  }

  /** The slot of the source (family non-zero) or the empty slot where it would go; -1 for an unknown family. */
  private probe(endpoint: Uint8Array, offset: number): number {
    const fam = endpoint[offset];
    if (fam !== 4 && fam !== 6) return -1;
    const o = offset + 4;
    const a = (endpoint[o] << 24) | (endpoint[o + 1] << 16) | (endpoint[o + 2] << 8) | endpoint[o + 3];
    // IPv6: the /64, i.e. the next 4 bytes too; IPv4: nothing more.
    const b = fam === 6 ? (endpoint[o + 4] << 24) | (endpoint[o + 5] << 16) | (endpoint[o + 6] << 8) | endpoint[o + 7] : 0;
    this.probeFamily = fam;
    this.probeA = a;
    this.probeB = b;
    let i = this.hash(fam, a, b);
    while (this.family[i] !== 0) {
      if (this.family[i] === fam && this.keyA[i] === a && this.keyB[i] === b) return i;
      i = (i + 1) & this.mask;
    }
    return i;
  }

  /** Slot i's tokens refilled up to nowMs (not stored). */
  private refilled(i: number, nowMs: number): number {
    const tokens = nowMs > this.last[i] ? this.tokens[i] + nowMs - this.last[i] : this.tokens[i];
    return tokens > TOKEN_MAX_MS ? TOKEN_MAX_MS : tokens;
  }

  /** Drops sources idle for more than a second; returns how many. Call once a second. */
  gc(nowMs: number): number {
    const slots = this.mask + 1;
    let expired = 0;
    for (let i = 0; i < slots; i++) {
      if (this.family[i] !== 0 && nowMs - this.last[i] > RATELIMITER_IDLE_MS) expired++;
    }
    if (expired === 0) return 0;
    // Linear probing cannot simply empty slots (later entries of a chain would be lost),
    // so move the survivors aside and put them back.
    const s = this.spare;
    let kept = 0;
    for (let i = 0; i < slots; i++) {
      if (this.family[i] === 0) continue;
      if (nowMs - this.last[i] <= RATELIMITER_IDLE_MS) {
        s.family[kept] = this.family[i];
        s.keyA[kept] = this.keyA[i];
        s.keyB[kept] = this.keyB[i];
        s.tokens[kept] = this.tokens[i];
        s.last[kept] = this.last[i];
        kept++;
      }
      this.family[i] = 0;
    }
    for (let k = 0; k < kept; k++) {
      let i = this.hash(s.family[k], s.keyA[k], s.keyB[k]);
      while (this.family[i] !== 0) i = (i + 1) & this.mask;
      this.family[i] = s.family[k];
      this.keyA[i] = s.keyA[k];
      this.keyB[i] = s.keyB[k];
      this.tokens[i] = s.tokens[k];
      this.last[i] = s.last[k];
    }
    this.count = kept;
    return expired;
  }

  /** Forgets every source. */
  clear(): void {
    this.family.fill(0);
    this.count = 0;
  }

  private hash(fam: number, a: number, b: number): number {
    const t = this.tab;
    return (
      (t[a >>> 24] ^
        t[256 + ((a >>> 16) & 0xff)] ^
        t[512 + ((a >>> 8) & 0xff)] ^
        t[768 + (a & 0xff)] ^
        t[1024 + (b >>> 24)] ^
        t[1280 + ((b >>> 16) & 0xff)] ^
        t[1536 + ((b >>> 8) & 0xff)] ^
        t[1792 + (b & 0xff)] ^
        t[2048 + fam]) &
      this.mask
    );
  }
}
