/**
 * The load balancer's connection table, kept the way Linux conntrack keeps it: each
 * entry holds the ORIGINAL tuple (client → VIP, as the client sent it) and the REPLY
 * tuple (backend → SNAT address or client, as the backend answers), and is found from
 * either, so a later packet in either direction costs one hash lookup. Translating a
 * packet means rewriting it to the inverse of the other direction's tuple (nat.ts).
 *
 * Memory is fixed at construction (typed arrays, one row per entry, a free list); the
 * hot path allocates nothing. Entries expire by state (conntrack-states.ts); each state
 * is a list in last-seen order, so the oldest entry of a state is its head and expiry is
 * O(expired). When the table is full, an expired entry is reclaimed, else the least
 * recently seen entry not yet established (TCP SYN_SENT/SYN_RECV, unassured UDP) is
 * evicted; when there is none, the insert fails and `stats.full` counts it.
 *
 * TCP states follow RFC 9293's handshake, then each direction's FIN (tcp-closing.ts),
 * which gives the kernel's FIN_WAIT, CLOSE_WAIT, LAST_ACK and TIME_WAIT without window
 * tracking.
 */
import { randomBytes } from 'node:crypto';
import { TCPFlag } from '../packet/constants.js';
import { finishHash, mixAddress, mixWord } from './hash.js';
import { CT_STATE_COUNT, CtState, DEFAULT_CT_TIMEOUTS_S, Dir, evictable, UDP_STREAM_AFTER_MS } from './conntrack-states.js';
import { StateLists } from './state-lists.js';
import { TcpClosing } from './tcp-closing.js';

/** Status bits of an entry. */
export const CtStatus = {
  /** A packet in the REPLY direction was seen. */
  SeenReply: 1,
  /** Established (TCP) or a stream (UDP): evicted only by expiry. */
  Assured: 2,
  /** The source was translated to the SNAT address. */
  Snat: 4,
} as const;

const ADDR_STRIDE = 64; // four 16-byte addresses: orig src, orig dst, reply src, reply dst
const NONE = -1;

interface ConntrackOptions {
  /** Entries (ConntrackMax). */
  capacity: number;
  /** Secret seed of the bucket hash (default: random). */
  seed?: number;
  /** Timeouts by state in seconds (default: the kernel's). */
  timeoutsS?: readonly number[];
}

interface ConntrackStats {
  inserted: number;
  expired: number;
  /** Not-yet-established entries evicted to make room. */
  evicted: number;
  /** Inserts refused: full, with nothing to evict (lb_conntrack_full). */
  full: number;
}

export class Conntrack {
  readonly capacity: number;
  count = 0;
  readonly stats: ConntrackStats = { inserted: 0, expired: 0, evicted: 0, full: 0 };
  /** Called with an entry about to be freed (expiry, eviction, removal). Set once. */
  onRelease: ((entry: number) => void) | null = null;

  readonly family: Uint8Array;
  readonly proto: Uint8Array;
  /** CtState, which is also the timeout class. */
  readonly state: Uint8Array;
  /** CtStatus bits. */
  readonly status: Uint8Array;
  /** Four 16-byte addresses per entry (IPv4 uses the first 4 bytes of each). */
  readonly addrs: Uint8Array;
  /** Four ports per entry: orig sport, orig dport, reply sport, reply dport. */
  readonly ports: Uint16Array;
  readonly expires: Float64Array;
  readonly created: Float64Array;
  /** What the load balancer chose: service and backend ids. */
  readonly service: Int32Array;
  readonly backend: Int32Array;
  /** Per direction (entry * 2 + dir): packets and bytes. */
  readonly packets: Float64Array;
  readonly bytes: Float64Array;
  private readonly used: Uint8Array;
  private readonly closing: TcpClosing;
  private readonly timeoutsMs: Float64Array;
  private readonly seed: number;
  // Hash chains over nodes (entry * 2 + dir); each node remembers its hash.
  private readonly buckets: Int32Array;
  private readonly mask: number;
  private readonly chain: Int32Array;
  private readonly hashes: Uint32Array;
  // Free entries, and per-state lists in last-seen order.
  private readonly freeNext: Int32Array;
  private freeHead: number;
  private readonly lists: StateLists;

  constructor(options: ConntrackOptions) {
    const cap = options.capacity;
    if (!Number.isInteger(cap) || cap < 1 || cap > 1 << 24) throw new RangeError(`conntrack capacity must be an integer in [1, 16777216], got ${cap}`);
    this.capacity = cap;
    this.family = new Uint8Array(cap);
    this.proto = new Uint8Array(cap);
    this.state = new Uint8Array(cap);
    this.status = new Uint8Array(cap);
    this.addrs = new Uint8Array(cap * ADDR_STRIDE);
    this.ports = new Uint16Array(cap * 4);
    this.expires = new Float64Array(cap);
    this.created = new Float64Array(cap);
    this.service = new Int32Array(cap);
    this.backend = new Int32Array(cap);
    this.packets = new Float64Array(cap * 2);
    this.bytes = new Float64Array(cap * 2);
    this.used = new Uint8Array(cap);
    this.closing = new TcpClosing(cap);
    const timeouts = options.timeoutsS ?? DEFAULT_CT_TIMEOUTS_S;
    if (timeouts.length !== CT_STATE_COUNT) throw new RangeError(`conntrack needs ${CT_STATE_COUNT} timeouts`);
    this.timeoutsMs = Float64Array.from(timeouts, (s) => s * 1000);
    this.seed = options.seed ?? randomBytes(4).readUInt32LE(0);
    let nb = 1;
    while (nb < cap * 2) nb *= 2;
    this.buckets = new Int32Array(nb).fill(NONE);
    this.mask = nb - 1;
    this.chain = new Int32Array(cap * 2).fill(NONE);
    this.hashes = new Uint32Array(cap * 2);
    this.freeNext = new Int32Array(cap);
    for (let i = 0; i < cap; i++) this.freeNext[i] = i + 1 < cap ? i + 1 : NONE;
    this.freeHead = 0;
    this.lists = new StateLists(cap, CT_STATE_COUNT);
  }

  /** Timeout of a state, ms. */
  timeoutMs(state: number): number {
    return this.timeoutsMs[state];
  }

  // ------------------------------------------------------------------ lookup

  /**
   * The node (entry * 2 + Dir) whose tuple is (proto, src:sport → dst:dport), addresses
   * read from their buffers (a packet's: both in the slab); NONE when there is none. An expired entry found here is freed and
   * reported missing, so expiry is exact whatever the sweep's pace.
   */
  lookup(proto: number, family: number, srcBuf: Uint8Array, srcOff: number, sport: number, dstBuf: Uint8Array, dstOff: number, dport: number, now: number): number {
    const alen = family === 4 ? 4 : 16;
    const h = this.hashTuple(proto, family, srcBuf, srcOff, sport, dstBuf, dstOff, dport, alen);
    for (let n = this.buckets[h & this.mask]; n !== NONE; n = this.chain[n]) {
      if (this.hashes[n] !== h) continue;
      const e = n >>> 1;
      const d = n & 1;
      if (this.proto[e] !== proto || this.family[e] !== family) continue;
      const pi = e * 4 + d * 2;
      if (this.ports[pi] !== sport || this.ports[pi + 1] !== dport) continue;
      const ai = e * ADDR_STRIDE + d * 32;
      if (!sameBytes(this.addrs, ai, srcBuf, srcOff, alen) || !sameBytes(this.addrs, ai + 16, dstBuf, dstOff, alen)) continue;
      if (this.expires[e] <= now) {
        this.stats.expired++;
        this.release(e);
        return NONE;
      }
      return n;
    }
    return NONE;
  }

  // ------------------------------------------------------------------ insert

  /**
   * Takes a free entry for a new flow (reclaiming an expired one or evicting one not yet
   * established when full). Returns the entry, or NONE (stats.full counted). The caller
   * sets both tuples with setTuple, then link()s it.
   */
  allocate(proto: number, family: number, now: number): number {
    if (this.freeHead === NONE && !this.reclaim(now)) {
      this.stats.full++;
      return NONE;
    }
    const e = this.freeHead;
    this.freeHead = this.freeNext[e];
    this.freeNext[e] = NONE;
    this.used[e] = 1;
    this.count++;
    this.family[e] = family;
    this.proto[e] = proto;
    this.status[e] = 0;
    this.closing.reset(e);
    this.created[e] = now;
    this.service[e] = NONE;
    this.backend[e] = NONE;
    this.packets[e * 2] = 0;
    this.packets[e * 2 + 1] = 0;
    this.bytes[e * 2] = 0;
    this.bytes[e * 2 + 1] = 0;
    return e;
  }

  /** Writes the tuple of one direction (addresses copied from buffers). Not yet hashed. */
  setTuple(e: number, dir: number, srcBuf: Uint8Array, srcOff: number, sport: number, dstBuf: Uint8Array, dstOff: number, dport: number): void {
    const alen = this.family[e] === 4 ? 4 : 16;
    const ai = e * ADDR_STRIDE + dir * 32;
    for (let i = 0; i < alen; i++) {
      this.addrs[ai + i] = srcBuf[srcOff + i];
      this.addrs[ai + 16 + i] = dstBuf[dstOff + i];
    }
    this.ports[e * 4 + dir * 2] = sport;
    this.ports[e * 4 + dir * 2 + 1] = dport;
  }

  /** Hashes both tuples in and starts the entry's timer in `state`. */
  link(e: number, state: number, now: number): void {
    this.linkNode(e * 2);
    this.linkNode(e * 2 + 1);
    this.state[e] = state;
    this.expires[e] = now + this.timeoutsMs[state];
    this.lists.append(e, state);
    this.stats.inserted++;
  }

  /** Unhashes the REPLY tuple before setTuple rewrites it (a flow moving to another backend). */
  unlinkReply(e: number): void {
    this.unlinkNode(e * 2 + 1);
  }

  /** Hashes the REPLY tuple again after it was rewritten. */
  linkReply(e: number): void {
    this.linkNode(e * 2 + 1);
  }

  /** Frees an entry now (a flow reset, a service deleted). */
  remove(e: number): void {
    this.release(e);
  }

  /** True when entry e holds a flow (for control-path iteration). */
  inUse(e: number): boolean {
    return this.used[e] === 1;
  }

  // ------------------------------------------------------------------ state

  /** Moves e to `state` (its timeout class) and restarts its timer, as any packet does. */
  refresh(e: number, state: number, now: number): void {
    this.expires[e] = now + this.timeoutsMs[state];
    if (this.state[e] === state && this.lists.tails[state] === e) return;
    this.lists.unlink(e, this.state[e]);
    this.state[e] = state;
    this.lists.append(e, state);
  }

  /**
   * Tracks a TCP segment of entry e in direction dir and refreshes its timer. Returns
   * the new state. A SYN from the client on a closed entry (TIME_WAIT, CLOSE) reopens it
   * as SYN_SENT: the caller then checks its backend as for a new flow.
   */
  trackTcp(e: number, dir: number, flags: number, seq: number, ack: number, payloadLength: number, now: number): number {
    let s = this.state[e];
    if ((flags & TCPFlag.RST) !== 0) {
      s = CtState.TcpClose;
    } else if (s === CtState.TcpSynSent) {
      if (dir === Dir.Reply && (flags & TCPFlag.SYN) !== 0) s = CtState.TcpSynRecv;
    } else if (s === CtState.TcpSynRecv && dir === Dir.Original && (flags & (TCPFlag.SYN | TCPFlag.ACK)) === TCPFlag.ACK) {
      s = CtState.TcpEstablished;
      this.status[e] |= CtStatus.Assured;
    } else if ((s === CtState.TcpTimeWait || s === CtState.TcpClose) && dir === Dir.Original && (flags & (TCPFlag.SYN | TCPFlag.ACK)) === TCPFlag.SYN) {
      // The client reuses the tuple for a new connection (the kernel's reopen).
      this.closing.reset(e);
      this.status[e] &= ~(CtStatus.Assured | CtStatus.SeenReply);
      s = CtState.TcpSynSent;
    }
    if (s >= CtState.TcpEstablished && s <= CtState.TcpTimeWait) s = this.closing.track(e, dir, flags, seq, ack, payloadLength);
    if (dir === Dir.Reply) this.status[e] |= CtStatus.SeenReply;
    this.refresh(e, s, now);
    return s;
  }

  /** Tracks a UDP datagram: 30 s until a reply, 120 s once a stream (replied, older than 2 s). */
  trackUdp(e: number, dir: number, now: number): number {
    if (dir === Dir.Reply) this.status[e] |= CtStatus.SeenReply;
    let s: number = CtState.Udp;
    if ((this.status[e] & CtStatus.SeenReply) !== 0 && now - this.created[e] >= UDP_STREAM_AFTER_MS) {
      this.status[e] |= CtStatus.Assured;
      s = CtState.UdpStream;
    }
    this.refresh(e, s, now);
    return s;
  }

  // ------------------------------------------------------------------ expiry

  /** Frees entries whose time is up, at most `budget`; returns how many. */
  expire(now: number, budget: number): number {
    let n = 0;
    for (let s = 0; s < CT_STATE_COUNT; s++) {
      for (let e = this.lists.heads[s]; e !== NONE && n < budget && this.expires[e] <= now; e = this.lists.heads[s]) {
        this.stats.expired++;
        this.release(e);
        n++;
      }
    }
    return n;
  }

  /** Time of the next expiry (Infinity when empty), for tests and the tick. */
  nextExpiry(): number {
    let t = Infinity;
    for (let s = 0; s < CT_STATE_COUNT; s++) {
      const e = this.lists.heads[s];
      if (e !== NONE && this.expires[e] < t) t = this.expires[e];
    }
    return t;
  }

  // ------------------------------------------------------------------ tuple access

  /** Offset in `addrs` of the source address of e's tuple in dir (the destination is 16 further). */
  addrOffset(e: number, dir: number): number {
    return e * ADDR_STRIDE + dir * 32;
  }

  sport(e: number, dir: number): number {
    return this.ports[e * 4 + dir * 2];
  }

  dport(e: number, dir: number): number {
    return this.ports[e * 4 + dir * 2 + 1];
  }

  // ------------------------------------------------------------------ internals

  private hashTuple(proto: number, family: number, srcBuf: Uint8Array, srcOff: number, sport: number, dstBuf: Uint8Array, dstOff: number, dport: number, alen: number): number {
    let h = mixWord(this.seed, (proto << 8) | family);
    h = mixWord(h, (sport << 16) | dport);
    h = mixAddress(h, srcBuf, srcOff, alen);
    h = mixAddress(h, dstBuf, dstOff, alen);
    return finishHash(h, alen * 2 + 6);
  }

  private linkNode(n: number): void {
    const e = n >>> 1;
    const d = n & 1;
    const ai = e * ADDR_STRIDE + d * 32;
    const pi = e * 4 + d * 2;
    const alen = this.family[e] === 4 ? 4 : 16;
    const h = this.hashTuple(this.proto[e], this.family[e], this.addrs, ai, this.ports[pi], this.addrs, ai + 16, this.ports[pi + 1], alen);
    this.hashes[n] = h;
    const b = h & this.mask;
    this.chain[n] = this.buckets[b];
    this.buckets[b] = n;
  }

  private unlinkNode(n: number): void {
    const b = this.hashes[n] & this.mask;
    let p = this.buckets[b];
    if (p === n) {
      this.buckets[b] = this.chain[n];
    } else {
      while (p !== NONE && this.chain[p] !== n) p = this.chain[p];
      if (p !== NONE) this.chain[p] = this.chain[n];
    }
    this.chain[n] = NONE;
  }

  private release(e: number): void {
    this.onRelease?.(e);
    this.unlinkNode(e * 2);
    this.unlinkNode(e * 2 + 1);
    this.lists.unlink(e, this.state[e]);
    this.service[e] = NONE;
    this.backend[e] = NONE;
    this.used[e] = 0;
    this.freeNext[e] = this.freeHead;
    this.freeHead = e;
    this.count--;
  }

  /** Makes room in a full table: an expired entry, else the stalest one not yet established. */
  private reclaim(now: number): boolean {
    if (this.expire(now, 1) > 0) return true;
    let victim = NONE;
    let seen = Infinity;
    for (let s = 0; s < CT_STATE_COUNT; s++) {
      const e = this.lists.heads[s];
      if (e === NONE || !evictable(s)) continue;
      const lastSeen = this.expires[e] - this.timeoutsMs[s];
      if (lastSeen < seen) {
        seen = lastSeen;
        victim = e;
      }
    }
    if (victim === NONE) return false;
    this.stats.evicted++;
    this.release(victim);
    return true;
  }
}

function sameBytes(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}
