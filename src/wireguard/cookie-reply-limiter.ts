import { ErrorCode, FerryError } from '../errors.js';
import { RateLimiter } from './ratelimiter.js';

/**
 * Limits the cookie replies ferry sends, so a flood with spoofed sources does not turn it
 * into a reflector: per source, a RateLimiter of its own (wireguard-go's rates, 20 a
 * second with bursts of 5, bounded table), then a token bucket for all sources together.
 * The source's bucket is asked first, so one noisy source cannot drain the total.
 * wireguard-go and the kernel do not limit cookie replies (only the handshake queue bounds
 * them); ferry answers from the event loop that also carries the data, hence a cap.
 * Time is injected (ms); allow() allocates nothing.
 */
const DEFAULT_COOKIE_REPLIES_PER_SECOND = 1000;

interface CookieReplyLimiterOptions {
  /** Cookie replies a second, all sources together (bursts of a tenth of a second). Default 1000. */
  perSecond?: number;
  /** Sources tracked. Default the RateLimiter's (4096). */
  capacity?: number;
}

export class CookieReplyLimiter {
  readonly perSource: RateLimiter;
  private readonly costMs: number;
  private readonly maxMs: number;
  private tokensMs: number;
  private last = -Infinity;

  constructor(options: CookieReplyLimiterOptions = {}) {
    const perSecond = options.perSecond ?? DEFAULT_COOKIE_REPLIES_PER_SECOND;
    if (!Number.isInteger(perSecond) || perSecond < 1) throw new FerryError(ErrorCode.InvalidArgument, `cookie replies per second must be a positive integer, got ${perSecond}`);
    this.perSource = new RateLimiter({ capacity: options.capacity });
    this.costMs = 1000 / perSecond;
    // Bursts of a tenth of a second's worth, at least one reply.
    this.maxMs = Math.max(this.costMs, 100);
    this.tokensMs = this.maxMs;
  }

  /** True when a cookie reply to this source (an endpoint record's remote part) may go out now. */
  allow(endpoint: Uint8Array, offset: number, nowMs: number): boolean {
    if (!this.perSource.allow(endpoint, offset, nowMs)) return false;
    if (nowMs > this.last) {
      if (this.last !== -Infinity) this.tokensMs = Math.min(this.maxMs, this.tokensMs + nowMs - this.last);
      this.last = nowMs;
    }
    if (this.tokensMs < this.costMs) return false;
    this.tokensMs -= this.costMs;
    return true;
  }

  /**
   * What allow() would answer now, changing nothing. The handshake path asks this before
   * a message's mac1 is checked, and allow() only after: a message from someone who does
   * not know the key must not spend a source's replies or fill the table.
   */
  wouldAllow(endpoint: Uint8Array, offset: number, nowMs: number): boolean {
    if (!this.perSource.wouldAllow(endpoint, offset, nowMs)) return false;
    const tokens = nowMs > this.last && this.last !== -Infinity ? Math.min(this.maxMs, this.tokensMs + nowMs - this.last) : this.tokensMs;
    return tokens >= this.costMs;
  }

  /** Forgets idle sources (the device tick, once a second). */
  gc(nowMs: number): void {
    this.perSource.gc(nowMs);
  }
}
