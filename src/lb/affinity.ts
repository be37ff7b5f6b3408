/**
 * Session affinity (SessionAffinity = client-ip SECONDS, Kubernetes' ClientIP): a client
 * address keeps its backend for the service while it opens connections no further apart
 * than the timeout (as kube-proxy's `recent` match, refreshed by each new connection).
 * Bounded: typed arrays, a free list, and when full the least recently used record goes;
 * losing one only means the client's next connection is balanced afresh.
 */
import { finishHash, mixAddress, mixWord } from './hash.js';

const NONE = -1;

export class AffinityTable {
  readonly capacity: number;
  count = 0;
  /** Records dropped to make room. */
  evicted = 0;
  private readonly service: Int32Array;
  private readonly family: Uint8Array;
  private readonly address: Uint8Array;
  readonly backend: Int32Array;
  private readonly expires: Float64Array;
  private readonly buckets: Int32Array;
  private readonly mask: number;
  private readonly chain: Int32Array;
  private readonly hashes: Uint32Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = NONE;
  private tail = NONE;
  private freeHead = 0;

  constructor(
    capacity: number,
    private readonly seed: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`affinity capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.service = new Int32Array(capacity).fill(NONE);
    this.family = new Uint8Array(capacity);
    this.address = new Uint8Array(capacity * 16);
    this.backend = new Int32Array(capacity).fill(NONE);
    this.expires = new Float64Array(capacity);
    let nb = 1;
    while (nb < capacity) nb *= 2;
    this.buckets = new Int32Array(nb).fill(NONE);
    this.mask = nb - 1;
    this.chain = new Int32Array(capacity).fill(NONE);
    this.hashes = new Uint32Array(capacity);
    this.prev = new Int32Array(capacity).fill(NONE);
    this.next = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.next[i] = i + 1 < capacity ? i + 1 : NONE;
  }

  /** The backend id remembered for (service, client address at buf[off]), or -1 (none or expired). */
  lookup(serviceId: number, family: number, buf: Uint8Array, off: number, now: number): number {
    const r = this.find(serviceId, family, buf, off);
    if (r === NONE) return NONE;
    if (this.expires[r] <= now) {
      this.release(r);
      return NONE;
    }
    return this.backend[r];
  }

  /** Remembers backendId for (service, client) until now + timeoutMs; refreshes an existing record. */
  remember(serviceId: number, family: number, buf: Uint8Array, off: number, backendId: number, timeoutMs: number, now: number): void {
    let r = this.find(serviceId, family, buf, off);
    if (r === NONE) {
      if (this.freeHead === NONE) {
        this.evicted++;
        this.release(this.head);
      }
      r = this.freeHead;
      this.freeHead = this.next[r];
      this.service[r] = serviceId;
      this.family[r] = family;
      const alen = family === 4 ? 4 : 16;
      for (let i = 0; i < alen; i++) this.address[r * 16 + i] = buf[off + i];
      const h = this.hash(serviceId, family, buf, off);
      this.hashes[r] = h;
      this.chain[r] = this.buckets[h & this.mask];
      this.buckets[h & this.mask] = r;
      this.count++;
    } else {
      this.unlinkLru(r);
    }
    this.backend[r] = backendId;
    this.expires[r] = now + timeoutMs;
    this.appendLru(r);
  }

  /** Forgets every record of a service, or pointing at a backend (control path). */
  forget(serviceId: number, backendId = NONE): void {
    for (let r = 0; r < this.capacity; r++) {
      if (this.service[r] === NONE) continue;
      if (backendId === NONE ? this.service[r] === serviceId : this.backend[r] === backendId) this.release(r);
    }
  }

  /** Drops expired records from the least recently used end, at most `budget`. */
  expire(now: number, budget: number): number {
    let n = 0;
    while (this.head !== NONE && n < budget && this.expires[this.head] <= now) {
      this.release(this.head);
      n++;
    }
    return n;
  }

  private find(serviceId: number, family: number, buf: Uint8Array, off: number): number {
    const h = this.hash(serviceId, family, buf, off);
    const alen = family === 4 ? 4 : 16;
    for (let r = this.buckets[h & this.mask]; r !== NONE; r = this.chain[r]) {
      if (this.hashes[r] !== h || this.service[r] !== serviceId || this.family[r] !== family) continue;
      let same = true;
      for (let i = 0; i < alen; i++) {
        if (this.address[r * 16 + i] !== buf[off + i]) {
          same = false;
          break;
        }
      }
      if (same) return r;
    }
    return NONE;
  }

  private hash(serviceId: number, family: number, buf: Uint8Array, off: number): number {
    const alen = family === 4 ? 4 : 16;
    return finishHash(mixAddress(mixWord(this.seed, serviceId * 8 + family), buf, off, alen), alen + 4);
  }

  private release(r: number): void {
    const b = this.hashes[r] & this.mask;
    if (this.buckets[b] === r) this.buckets[b] = this.chain[r];
    else {
      let p = this.buckets[b];
      while (p !== NONE && this.chain[p] !== r) p = this.chain[p];
      if (p !== NONE) this.chain[p] = this.chain[r];
    }
    this.chain[r] = NONE;
    this.unlinkLru(r);
    this.service[r] = NONE;
    this.backend[r] = NONE;
    this.next[r] = this.freeHead;
    this.freeHead = r;
    this.count--;
  }

  private appendLru(r: number): void {
    this.prev[r] = this.tail;
    this.next[r] = NONE;
    if (this.tail === NONE) this.head = r;
    else this.next[this.tail] = r;
    this.tail = r;
  }

  private unlinkLru(r: number): void {
    const p = this.prev[r];
    const n = this.next[r];
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
    this.prev[r] = NONE;
    this.next[r] = NONE;
  }
}
