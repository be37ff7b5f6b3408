/**
 * SNAT source ports, chosen like iptables' MASQUERADE --random-fully: a random port of
 * the range, retried a bounded number of times while the REPLY tuple it would make
 * (backend:port → SNAT address:port) is taken, then a short scan from a random point.
 * Never an unbounded search: a busy range fails fast and the caller counts it.
 *
 * A tuple held by a TCP connection that is over (CLOSE after a RST, or TIME_WAIT) is
 * taken over, its entry dropped, as Linux does since 6.5 (nf_nat_used_tuple_harder):
 * otherwise a client closing connections by RST would tie up a port per connection for
 * 10 s, and 28,000 ports would cap one backend at under 3,000 new connections a second.
 */
import { IPProto } from '../packet/constants.js';
import type { Conntrack } from './conntrack.js';
import { CtState } from './conntrack-states.js';
import { randomBelow, type RandomSource } from './random.js';

/** Random tries, then ports scanned from the last one: at most 128 lookups per new flow. */
const SNAT_RANDOM_TRIES = 8;
const SNAT_SCAN = 120;

export class SnatPorts {
  /** New flows that found no free port (lb_snat_ports_exhausted). */
  exhausted = 0;
  /** Ports taken over from TCP connections that were over. */
  reused = 0;

  constructor(
    readonly low: number,
    readonly high: number,
    private readonly random: RandomSource,
  ) {
    if (!Number.isInteger(low) || !Number.isInteger(high) || low < 1 || high > 65535 || low > high) {
      throw new RangeError(`SNAT ports must be a range within 1-65535, got ${low}-${high}`);
    }
  }

  get size(): number {
    return this.high - this.low + 1;
  }

  /**
   * A port p for which (proto, backend:bport → snat:p) is in no entry of ct, or -1.
   * Addresses are read from their buffers (4 or 16 bytes by family).
   */
  pick(ct: Conntrack, proto: number, family: number, backendBuf: Uint8Array, backendOff: number, bport: number, snatBuf: Uint8Array, snatOff: number, now: number): number {
    const size = this.size;
    let port = 0;
    for (let i = 0; i < SNAT_RANDOM_TRIES; i++) {
      port = this.low + randomBelow(this.random, size);
      if (this.free(ct, proto, family, backendBuf, backendOff, bport, snatBuf, snatOff, port, now)) return port;
    }
    const scan = Math.min(SNAT_SCAN, size - 1);
    for (let i = 0; i < scan; i++) {
      port = port === this.high ? this.low : port + 1;
      if (this.free(ct, proto, family, backendBuf, backendOff, bport, snatBuf, snatOff, port, now)) return port;
    }
    this.exhausted++;
    return -1;
  }

  private free(ct: Conntrack, proto: number, family: number, backendBuf: Uint8Array, backendOff: number, bport: number, snatBuf: Uint8Array, snatOff: number, port: number, now: number): boolean {
    const node = ct.lookup(proto, family, backendBuf, backendOff, bport, snatBuf, snatOff, port, now);
    if (node < 0) return true;
    const e = node >>> 1;
    const state = ct.state[e];
    if (proto !== IPProto.TCP || (state !== CtState.TcpClose && state !== CtState.TcpTimeWait)) return false;
    ct.remove(e);
    this.reused++;
    return true;
  }
}
