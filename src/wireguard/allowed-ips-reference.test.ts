/**
 * Allowed IPs against references: a property test against a naive linear table (the
 * kernel's "horrible_allowedips"), the kernel's randomized selftest, and 100k prefixes of
 * one peer. The fixed cases are in allowed-ips.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AllowedIps, formatPrefix } from './allowed-ips.js';
import { lookup, u32 } from '../../test/support/prefix-lookup.js';

// ---------------------------------------------------------------------------
// Property test against a naive reference ("horrible_allowedips" in the kernel).

interface RefEntry {
  family: 4 | 6;
  bytes: Uint8Array;
  cidr: number;
  peer: string;
}

function maskBytes(bytes: Uint8Array, cidr: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, cidr - 8 * i));
    out[i] &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
  }
  return out;
}
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
/** True when addr's first cidr bits equal those of the (masked) prefix bytes. */
function inPrefix(addr: Uint8Array, prefix: Uint8Array, cidr: number): boolean {
  if (addr.length !== prefix.length) return false;
  for (let i = 0; 8 * i < cidr; i++) {
    const keep = Math.min(8, cidr - 8 * i);
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((addr[i] & mask) !== prefix[i]) return false;
  }
  return true;
}

class Reference {
  entries: RefEntry[] = []; // claim order
  private find(bytes: Uint8Array, cidr: number): number {
    const m = maskBytes(bytes, cidr);
    return this.entries.findIndex((e) => e.cidr === cidr && sameBytes(e.bytes, m));
  }
  insert(bytes: Uint8Array, cidr: number, peer: string): void {
    const i = this.find(bytes, cidr);
    if (i >= 0) this.entries.splice(i, 1);
    this.entries.push({ family: bytes.length === 4 ? 4 : 6, bytes: maskBytes(bytes, cidr), cidr, peer });
  }
  remove(bytes: Uint8Array, cidr: number, peer: string): boolean {
    const i = this.find(bytes, cidr);
    if (i < 0 || this.entries[i].peer !== peer) return false;
    this.entries.splice(i, 1);
    return true;
  }
  removeByPeer(peer: string): number {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.peer !== peer);
    return before - this.entries.length;
  }
  lookup(addr: Uint8Array): string | undefined {
    let best: RefEntry | undefined;
    for (const e of this.entries) {
      if ((best === undefined || e.cidr > best.cidr) && inPrefix(addr, e.bytes, e.cidr)) best = e;
    }
    return best?.peer;
  }
  listed(peer: string): string[] {
    return this.entries.filter((e) => e.peer === peer).map((e) => formatPrefix(e));
  }
}

const PEERS = ['A', 'B', 'C', 'D'];
// Bytes drawn mostly from a small alphabet so that prefixes share leading bits.
const byteArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 0xff, 0x80, 0x0a, 0x01) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) });
const addrArb = fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.array(byteArb, { minLength: 4, maxLength: 4 }).map((a) => Uint8Array.from(a)), fc.array(byteArb, { minLength: 16, maxLength: 16 }).map((a) => Uint8Array.from(a)));
const prefixArb = addrArb.chain((bytes) => fc.record({ bytes: fc.constant(bytes), cidr: fc.integer({ min: 0, max: bytes.length * 8 }) }));
const peerArb = fc.constantFrom(...PEERS);
type Op =
  | { op: 'insert'; bytes: Uint8Array; cidr: number; peer: string }
  | { op: 'remove'; pick: number; peer: string; ownPeer: boolean }
  | { op: 'removeByPeer'; peer: string };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('insert' as const), bytes: prefixArb.map((p) => p.bytes), cidr: fc.integer({ min: 0, max: 128 }), peer: peerArb }).map((o) => ({ ...o, cidr: Math.min(o.cidr, o.bytes.length * 8) })) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('remove' as const), pick: fc.nat(), peer: peerArb, ownPeer: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeByPeer' as const), peer: peerArb }) },
);

test('property: lookups, listings and removals agree with a naive linear reference', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 80, size: 'max' }), fc.array(addrArb, { minLength: 10, maxLength: 20 }), (ops, probes) => {
      const t = new AllowedIps<string>();
      const ref = new Reference();
      const claimed: Array<{ bytes: Uint8Array; cidr: number }> = [];
      for (const o of ops) {
        if (o.op === 'insert') {
          t.insert(o.bytes, o.cidr, o.peer);
          ref.insert(o.bytes, o.cidr, o.peer);
          claimed.push({ bytes: o.bytes, cidr: o.cidr });
        } else if (o.op === 'remove') {
          if (claimed.length === 0) continue;
          const c = claimed[o.pick % claimed.length];
          const owner = ref.lookup(c.bytes) ?? o.peer;
          const peer = o.ownPeer ? owner : o.peer;
          assert.equal(t.remove(c.bytes, c.cidr, peer), ref.remove(c.bytes, c.cidr, peer), 'remove result');
        } else {
          assert.equal(t.removeByPeer(o.peer), ref.removeByPeer(o.peer), 'removeByPeer count');
        }
        // Probe the claimed prefixes themselves (with their host bits) and random addresses.
        for (const a of [...probes, ...claimed.map((c) => c.bytes)]) assert.equal(lookup(t, a), ref.lookup(a), `lookup ${a}`);
        assert.equal(t.size, ref.entries.length, 'size');
        assert.ok(t.nodeCount <= 2 * t.size, `nodes ${t.nodeCount} bounded by 2 * ${t.size}`);
      }
      for (const p of PEERS) {
        assert.deepEqual(t.entriesForPeer(p).map(formatPrefix), ref.listed(p), `entries of ${p}`);
        assert.equal(t.countForPeer(p), ref.listed(p).length);
      }
      for (const p of PEERS) t.removeByPeer(p);
      assert.equal(t.nodeCount, 0, 'no node leaks after removing everyone');
      assert.equal(t.size, 0);
    }),
    { numRuns: 300 },
  );
});

/** xorshift32: a deterministic stream for the large randomized test. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

test('kernel-style randomized test: random and mutated routes, queries, removal peer by peer', () => {
  const next = rng(0x5eed);
  const t = new AllowedIps<string>();
  const ref = new Reference();
  const peers = Array.from({ length: 32 }, (_, i) => `p${i}`);
  const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => next() & 0xff);
  for (const len of [4, 16]) {
    for (let i = 0; i < 300; i++) {
      const ip = randomBytes(len);
      const cidr = (next() % (len * 8)) + 1;
      const peer = peers[next() % peers.length];
      t.insert(ip, cidr, peer);
      ref.insert(ip, cidr, peer);
      for (let j = 0; j < 4; j++) {
        // Keep a random-length prefix of ip, randomize the rest.
        const keep = next() % (len * 8);
        const mutated = maskBytes(ip, keep);
        const noise = randomBytes(len);
        for (let k = 0; k < len; k++) mutated[k] |= noise[k] & ~maskBytes(new Uint8Array(len).fill(0xff), keep)[k];
        const c2 = (next() % (len * 8)) + 1;
        const p2 = peers[next() % peers.length];
        t.insert(mutated, c2, p2);
        ref.insert(mutated, c2, p2);
      }
    }
  }
  const queries: Uint8Array[] = Array.from({ length: 600 }, (_, i) => randomBytes(i % 2 === 0 ? 4 : 16));
  queries.push(...ref.entries.map((e) => e.bytes));
  for (let i = 0; i <= peers.length; i++) {
    if (i % 4 === 0) for (const q of queries) assert.equal(lookup(t, q), ref.lookup(q), `query ${q} after removing ${i} peers`);
    if (i < peers.length) assert.equal(t.removeByPeer(peers[i]), ref.removeByPeer(peers[i]));
  }
  assert.equal(t.nodeCount, 0, 'the tries are empty again');
});

test('100k /32 and 100k /128 for one peer: insert, look up, list back, remove', (t) => {
  const next = rng(0xc0ffee);
  const N = 100_000;
  for (const len of [4, 16]) {
    const table = new AllowedIps<string>();
    const addrs: Uint8Array[] = [];
    const seen = new Set<string>();
    while (addrs.length < N) {
      const a = Uint8Array.from({ length: len }, () => next() & 0xff);
      const key = a.join('.');
      if (seen.has(key)) continue;
      seen.add(key);
      addrs.push(a);
    }
    const cidr = len * 8;
    const t0 = performance.now();
    for (const a of addrs) table.insert(a, cidr, 'peer');
    const t1 = performance.now();
    const listed = table.entriesForPeer('peer');
    const t2 = performance.now();
    let hits = 0;
    const packet = new Uint8Array(32);
    for (const a of addrs) {
      if (len === 4) hits += table.lookupV4(u32(a)) === 'peer' ? 1 : 0;
      else {
        packet.set(a, 8);
        hits += table.lookupV6(packet, 8) === 'peer' ? 1 : 0;
      }
    }
    const t3 = performance.now();
    assert.equal(table.size, N);
    assert.equal(hits, N);
    assert.equal(listed.length, N);
    for (let i = 0; i < N; i++) {
      assert.equal(listed[i].cidr, cidr);
      if (!sameBytes(listed[i].bytes, addrs[i])) assert.fail(`entry ${i} listed out of order`);
    }
    assert.ok(table.nodeCount <= 2 * N - 1);
    const t4 = performance.now();
    assert.equal(table.removeByPeer('peer'), N);
    const t5 = performance.now();
    assert.equal(table.nodeCount, 0);
    t.diagnostic(
      `/${cidr} x ${N}: insert ${(t1 - t0).toFixed(0)} ms, list ${(t2 - t1).toFixed(0)} ms, ` +
        `lookup ${(t3 - t2).toFixed(0)} ms, removeByPeer ${(t5 - t4).toFixed(0)} ms`,
    );
  }
});
