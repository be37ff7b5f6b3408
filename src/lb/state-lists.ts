/**
 * The connection table's timeout lists: one doubly linked list of entries per state, in
 * the order they were last seen. Entries of one state share one timeout, so each list is
 * also in expiry order: its head is the next to expire, and the stalest entry when a
 * full table looks for one to evict. Typed arrays indexed by entry; no allocation.
 */
const NONE = -1;

export class StateLists {
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  /** Per state: first (stalest) and last (freshest) entry, or -1. */
  readonly heads: Int32Array;
  readonly tails: Int32Array;

  constructor(capacity: number, states: number) {
    this.prev = new Int32Array(capacity).fill(NONE);
    this.next = new Int32Array(capacity).fill(NONE);
    this.heads = new Int32Array(states).fill(NONE);
    this.tails = new Int32Array(states).fill(NONE);
  }

  /** Puts entry e at the fresh end of state's list. */
  append(e: number, state: number): void {
    const t = this.tails[state];
    this.prev[e] = t;
    this.next[e] = NONE;
    if (t === NONE) this.heads[state] = e;
    else this.next[t] = e;
    this.tails[state] = e;
  }

  /** Takes entry e out of state's list (the state it is in). */
  unlink(e: number, state: number): void {
    const p = this.prev[e];
    const n = this.next[e];
    if (p === NONE) this.heads[state] = n;
    else this.next[p] = n;
    if (n === NONE) this.tails[state] = p;
    else this.prev[n] = p;
    this.prev[e] = NONE;
    this.next[e] = NONE;
  }
}
