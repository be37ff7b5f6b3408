import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AllowedIps, formatPrefix, parsePrefix } from './allowed-ips.js';
import { FerryError } from '../errors.js';
import { ip4, ip6, lookup } from '../../test/support/prefix-lookup.js';

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
