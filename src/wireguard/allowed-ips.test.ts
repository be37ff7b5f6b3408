import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AllowedIps, formatPrefix, parsePrefix } from './allowed-ips.js';
import { FerryError } from '../errors.js';

const ip4 = (a: number, b: number, c: number, d: number): Uint8Array => Uint8Array.of(a, b, c, d);
function ip6(a: number, b: number, c: number, d: number): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  [a, b, c, d].forEach((w, i) => v.setUint32(4 * i, w >>> 0));
  return out;
}
const u32 = (b: Uint8Array): number => ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;

/** Looks an address up the way the datapath does: v4 as a number, v6 in place at an odd offset. */
function lookup<P>(t: AllowedIps<P>, addr: Uint8Array): P | undefined {
  if (addr.length === 4) {
    const viaNumber = t.lookupV4(u32(addr));
    const packet = new Uint8Array(40);
    packet.set(addr, 16);
    assert.equal(t.lookupV4At(packet, 16), viaNumber, 'lookupV4At agrees with lookupV4');
    return viaNumber;
  }
  const packet = new Uint8Array(64);
  packet.set(addr, 27);
  return t.lookupV6(packet, 27);
}

test('kernel selftest/allowedips.c: the insert and lookup table', () => {
  const t = new AllowedIps<string>();
  const ins = (peer: string, addr: Uint8Array, cidr: number) => t.insert(addr, cidr, peer);
  ins('a', ip4(192, 168, 4, 0), 24);
  ins('b', ip4(192, 168, 4, 4), 32);
  ins('c', ip4(192, 168, 0, 0), 16);
  ins('d', ip4(192, 95, 5, 64), 27);
  ins('c', ip4(192, 95, 5, 65), 27); // replaces previous entry, and maskself is required
  ins('d', ip6(0x26075300, 0x60006b00, 0, 0xc05f0543), 128);
  ins('c', ip6(0x26075300, 0x60006b00, 0, 0), 64);
  ins('e', ip4(0, 0, 0, 0), 0);
  ins('e', ip6(0, 0, 0, 0), 0);
  ins('f', ip6(0, 0, 0, 0), 0); // replaces previous entry
  ins('g', ip6(0x24046800, 0, 0, 0), 32);
  ins('h', ip6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef), 64); // maskself is required
  ins('a', ip6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef), 128);
  ins('c', ip6(0x24446800, 0x40e40800, 0xdeaebeef, 0xdefbeef), 128);
  ins('b', ip6(0x24446800, 0xf0e40800, 0xeeaebeef, 0), 98);
  ins('g', ip4(64, 15, 112, 0), 20);
  ins('h', ip4(64, 15, 123, 211), 25); // maskself is required
  ins('a', ip4(10, 0, 0, 0), 25);
  ins('b', ip4(10, 0, 0, 128), 25);
  ins('a', ip4(10, 1, 0, 0), 30);
  ins('b', ip4(10, 1, 0, 4), 30);
  ins('c', ip4(10, 1, 0, 8), 29);
  ins('d', ip4(10, 1, 0, 16), 29);

  const cases: Array<[string, Uint8Array]> = [
    ['a', ip4(192, 168, 4, 20)],
    ['a', ip4(192, 168, 4, 0)],
    ['b', ip4(192, 168, 4, 4)],
    ['c', ip4(192, 168, 200, 182)],
    ['c', ip4(192, 95, 5, 68)],
    ['e', ip4(192, 95, 5, 96)],
    ['d', ip6(0x26075300, 0x60006b00, 0, 0xc05f0543)],
    ['c', ip6(0x26075300, 0x60006b00, 0, 0xc02e01ee)],
    ['f', ip6(0x26075300, 0x60006b01, 0, 0)],
    ['g', ip6(0x24046800, 0x40040806, 0, 0x1006)],
    ['g', ip6(0x24046800, 0x40040806, 0x1234, 0x5678)],
    ['f', ip6(0x240467ff, 0x40040806, 0x1234, 0x5678)],
    ['f', ip6(0x24046801, 0x40040806, 0x1234, 0x5678)],
    ['h', ip6(0x24046800, 0x40040800, 0x1234, 0x5678)],
    ['h', ip6(0x24046800, 0x40040800, 0, 0)],
    ['h', ip6(0x24046800, 0x40040800, 0x10101010, 0x10101010)],
    ['a', ip6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef)],
    ['g', ip4(64, 15, 116, 26)],
    ['g', ip4(64, 15, 127, 3)],
    ['g', ip4(64, 15, 123, 1)],
    ['h', ip4(64, 15, 123, 128)],
    ['h', ip4(64, 15, 123, 129)],
    ['a', ip4(10, 0, 0, 52)],
    ['b', ip4(10, 0, 0, 220)],
    ['a', ip4(10, 1, 0, 2)],
    ['b', ip4(10, 1, 0, 6)],
    ['c', ip4(10, 1, 0, 10)],
    ['d', ip4(10, 1, 0, 20)],
  ];
  cases.forEach(([peer, addr], i) => assert.equal(lookup(t, addr), peer, `test ${i + 1}`));

  for (const first of [1, 64, 128, 192, 255]) t.insert(ip4(first, 0, 0, 0), 32, 'a');
  t.removeByPeer('a');
  for (const first of [1, 64, 128, 192, 255]) assert.notEqual(lookup(t, ip4(first, 0, 0, 0)), 'a', `negative ${first}`);
});

test('kernel selftest: a /16 and a /24 of one peer, removed together', () => {
  const t = new AllowedIps<string>();
  t.insert(ip4(192, 168, 0, 0), 16, 'a');
  t.insert(ip4(192, 168, 0, 0), 24, 'a');
  t.removeByPeer('a');
  assert.notEqual(lookup(t, ip4(192, 168, 0, 1)), 'a');
  assert.equal(t.nodeCount, 0);
});

test('kernel selftest: 128 deep /128s (one bit cleared each) and back to empty', () => {
  const t = new AllowedIps<string>();
  const addrs: Uint8Array[] = [];
  for (let i = 0; i < 128; i++) {
    const ip = new Uint8Array(16).fill(0xff);
    const part = new DataView(new ArrayBuffer(8));
    part.setBigUint64(0, ~(1n << BigInt(i % 64)) & 0xffff_ffff_ffff_ffffn);
    ip.set(new Uint8Array(part.buffer), i < 64 ? 8 : 0);
    t.insert(ip, 128, 'a');
    addrs.push(ip);
  }
  for (const a of addrs) assert.equal(lookup(t, a), 'a');
  assert.equal(lookup(t, new Uint8Array(16).fill(0xff)), undefined);
  assert.equal(t.removeByPeer('a'), 128);
  assert.equal(t.nodeCount, 0);
});

test('kernel selftest: reading a peer back gives the masked prefixes (here also in claim order)', () => {
  const t = new AllowedIps<string>();
  t.insert(ip4(192, 95, 5, 93), 27, 'a');
  t.insert(ip6(0x26075300, 0x60006b00, 0, 0xc05f0543), 128, 'a');
  t.insert(ip4(10, 1, 0, 20), 29, 'a');
  t.insert(ip6(0x26075300, 0x6d8a6bf8, 0xdab1f1df, 0xc05f1523), 83, 'a');
  t.insert(ip6(0x26075300, 0x6d8a6bf8, 0xdab1f1df, 0xc05f1523), 21, 'a');
  assert.deepEqual(t.entriesForPeer('a').map(formatPrefix), [
    '192.95.5.64/27',
    '2607:5300:6000:6b00::c05f:543/128',
    '10.1.0.16/29',
    '2607:5300:6d8a:6bf8:dab1:e000::/83',
    '2607:5000::/21',
  ]);
  assert.deepEqual(t.entriesForPeer('a')[3].bytes, ip6(0x26075300, 0x6d8a6bf8, 0xdab1e000, 0));
});

test('a claimed prefix moves to the new peer and to the end of its list', () => {
  const t = new AllowedIps<string>();
  t.insert(ip4(10, 0, 0, 0), 8, 'a');
  t.insert(ip4(10, 1, 0, 0), 16, 'a');
  t.insert(ip4(10, 2, 0, 0), 16, 'b');
  t.insert(ip4(10, 1, 0, 0), 16, 'b');
  assert.deepEqual(t.entriesForPeer('a').map(formatPrefix), ['10.0.0.0/8']);
  assert.deepEqual(t.entriesForPeer('b').map(formatPrefix), ['10.2.0.0/16', '10.1.0.0/16']);
  assert.equal(lookup(t, ip4(10, 1, 2, 3)), 'b');
  // Re-claiming by the same peer also moves it to the end (kernel list_move_tail).
  t.insert(ip4(10, 2, 9, 9), 16, 'b');
  assert.deepEqual(t.entriesForPeer('b').map(formatPrefix), ['10.1.0.0/16', '10.2.0.0/16']);
  assert.equal(t.size, 3);
});

test('remove only takes a prefix from its owner, and prunes', () => {
  const t = new AllowedIps<string>();
  t.insert(ip4(10, 0, 0, 0), 24, 'a');
  t.insert(ip4(10, 0, 1, 0), 24, 'a');
  assert.equal(t.nodeCount, 3, 'two prefixes and their joining node');
  assert.equal(t.remove(ip4(10, 0, 0, 0), 24, 'b'), false, 'not the owner');
  assert.equal(t.remove(ip4(10, 0, 0, 0), 23, 'a'), false, 'joining node is not a prefix');
  assert.equal(t.remove(ip4(10, 0, 0, 7), 24, 'a'), true, 'host bits are ignored');
  assert.equal(t.remove(ip4(10, 0, 0, 0), 24, 'a'), false, 'already gone');
  assert.equal(lookup(t, ip4(10, 0, 0, 1)), undefined);
  assert.equal(lookup(t, ip4(10, 0, 1, 1)), 'a');
  assert.equal(t.nodeCount, 1);
  assert.equal(t.remove(ip4(10, 0, 1, 0), 24, 'a'), true);
  assert.equal(t.nodeCount, 0);
  assert.equal(t.size, 0);
  assert.equal(t.countForPeer('a'), 0);
});

test('an owned joining node keeps its subtrees when its owner leaves', () => {
  const t = new AllowedIps<string>();
  t.insert(ip6(0xfd000000, 0, 0, 1), 128, 'a');
  t.insert(ip6(0xfd000000, 0, 0, 2), 128, 'b');
  t.insert(ip6(0xfd000000, 0, 0, 0), 126, 'c'); // lands on the joining node
  assert.equal(t.nodeCount, 3);
  assert.equal(lookup(t, ip6(0xfd000000, 0, 0, 3)), 'c');
  t.removeByPeer('c');
  assert.equal(t.nodeCount, 3, 'it still joins a and b');
  assert.equal(lookup(t, ip6(0xfd000000, 0, 0, 3)), undefined);
  assert.equal(lookup(t, ip6(0xfd000000, 0, 0, 2)), 'b');
  t.removeByPeer('a');
  assert.equal(t.nodeCount, 1, 'the joining node went with a');
  assert.equal(lookup(t, ip6(0xfd000000, 0, 0, 2)), 'b');
});

test('/0 routes, v4 and v6 kept apart, clear()', () => {
  const t = new AllowedIps<string>();
  t.insert(ip4(1, 2, 3, 4), 0, 'v4default');
  assert.equal(lookup(t, ip4(255, 255, 255, 255)), 'v4default');
  assert.equal(lookup(t, ip6(0, 0, 0, 0)), undefined);
  t.insert(ip6(0, 0, 0, 0), 0, 'v6default');
  t.insert(ip4(0, 0, 0, 0), 32, 'zero');
  assert.equal(lookup(t, ip4(0, 0, 0, 0)), 'zero');
  assert.equal(lookup(t, ip4(0, 0, 0, 1)), 'v4default');
  assert.equal(lookup(t, ip6(1, 2, 3, 4)), 'v6default');
  assert.deepEqual(t.entriesForPeer('v4default').map(formatPrefix), ['0.0.0.0/0']);
  t.clear();
  assert.equal(t.size, 0);
  assert.equal(t.nodeCount, 0);
  assert.equal(lookup(t, ip4(1, 1, 1, 1)), undefined);
  assert.deepEqual(t.entriesForPeer('v4default'), []);
});

test('bad arguments throw FerryError', () => {
  const t = new AllowedIps<string>();
  assert.throws(() => t.insert(new Uint8Array(5), 8, 'a'), FerryError);
  assert.throws(() => t.insert(ip4(1, 2, 3, 4), 33, 'a'), FerryError);
  assert.throws(() => t.insert(ip6(1, 2, 3, 4), 129, 'a'), FerryError);
  assert.throws(() => t.insert(ip4(1, 2, 3, 4), -1, 'a'), FerryError);
  assert.throws(() => t.insert(ip4(1, 2, 3, 4), 1.5, 'a'), FerryError);
  assert.throws(() => new AllowedIps<string | undefined>().insert(ip4(1, 2, 3, 4), 8, undefined), FerryError);
});

test('parsePrefix accepts what wg accepts and formats back', () => {
  const ok: Array<[string, string]> = [
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['10.0.0.1/24', '10.0.0.1/24'], // host bits kept until insert
    ['192.168.1.1', '192.168.1.1/32'],
    [' 0.0.0.0/0 ', '0.0.0.0/0'],
    ['fd00::/64', 'fd00::/64'],
    ['::/0', '::/0'],
    ['2001:DB8::1', '2001:db8::1/128'],
    ['::ffff:1.2.3.4/128', '::ffff:1.2.3.4/128'],
    ['fe80::1/010', 'fe80::1/10'],
  ];
  for (const [text, want] of ok) assert.equal(formatPrefix(parsePrefix(text)), want, text);
  assert.deepEqual(parsePrefix('10.1.2.3/16'), { family: 4, bytes: ip4(10, 1, 2, 3), cidr: 16 });
});

test('parsePrefix rejects bad prefixes with a message', () => {
  const bad: Array<[string, RegExp]> = [
    ['10.0.0.0/33', /prefix length "33" must be an integer in \[0, 32\]/],
    ['fd00::/129', /prefix length "129"/],
    ['10.0.0.0/', /prefix length ""/],
    ['10.0.0.0/-1', /prefix length "-1"/],
    ['10.0.0.0/8/8', /prefix length "8\/8"/],
    ['10.0.0.0/ 8', /prefix length " 8"/],
    ['10.0.0.0/0x8', /prefix length "0x8"/],
    ['10.0.0/8', /"10.0.0" is not an IP address/],
    ['256.0.0.0/8', /not an IP address/],
    ['', /not an IP address/],
    ['/8', /not an IP address/],
    ['fe80::1%eth0/64', /zone index/],
    ['example.com/32', /not an IP address/],
  ];
  for (const [text, re] of bad) {
    assert.throws(() => parsePrefix(text), (e: unknown) => e instanceof FerryError && e.code === 'FERRY_INVALID_ARGUMENT' && re.test(e.message), text);
  }
});

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
