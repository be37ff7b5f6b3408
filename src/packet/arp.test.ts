import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DropReason } from '../stats/drop-reasons.js';
import { ARPPacket, arpReplyInPlace, parseARP, writeARP } from './arp.js';
import { ARPOperation } from './constants.js';
import { ipv4FromString, macFromString, macToString } from './format.js';

const ZERO = new Uint8Array(6);

test('write then parse round-trips', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(ARPOperation.Request, ARPOperation.Reply),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.nat(8),
      (op, macs, sip, tip, at) => {
        const b = new Uint8Array(at + 28 + 18); // Ethernet minimum-frame padding follows
        assert.equal(writeARP(b, at, op, macs, 0, sip, macs, 6, tip), 28);
        const a = new ARPPacket();
        assert.equal(parseARP(b, at, b.length - at, a), DropReason.None);
        assert.deepEqual([a.operation, a.senderIP, a.targetIP, a.offset], [op, sip, tip, at]);
        assert.deepEqual(b.subarray(a.senderMacOffset, a.senderMacOffset + 6), macs.subarray(0, 6));
        assert.deepEqual(b.subarray(a.targetMacOffset, a.targetMacOffset + 6), macs.subarray(6, 12));
      },
    ),
  );
});

test('a request becomes the reply in place', () => {
  const req = new Uint8Array(6);
  macFromString('aa:30:01:81:94:69', req, 0);
  const ours = new Uint8Array(6);
  macFromString('9a:2a:57:e1:e4:14', ours, 0);
  const b = new Uint8Array(28);
  writeARP(b, 0, ARPOperation.Request, req, 0, ipv4FromString('10.77.0.1'), ZERO, 0, ipv4FromString('10.77.0.2'));
  const a = new ARPPacket();
  assert.equal(parseARP(b, 0, 28, a), DropReason.None);
  assert.equal(arpReplyInPlace(b, a, ours, 0), 28);
  const r = new ARPPacket();
  assert.equal(parseARP(b, 0, 28, r), DropReason.None);
  assert.equal(r.operation, ARPOperation.Reply);
  assert.equal(macToString(b, r.senderMacOffset), '9a:2a:57:e1:e4:14');
  assert.equal(r.senderIP, ipv4FromString('10.77.0.2'));
  assert.equal(macToString(b, r.targetMacOffset), 'aa:30:01:81:94:69');
  assert.equal(r.targetIP, ipv4FromString('10.77.0.1'));
  assert.deepEqual([a.operation, a.senderIP, a.targetIP], [r.operation, r.senderIP, r.targetIP], 'view updated');
  assert.equal(arpReplyInPlace(b, r, ours, 0), 0, 'a reply is not answered');
});

test('truncated, and anything but Ethernet/IPv4 request or reply is unsupported', () => {
  const b = new Uint8Array(28);
  writeARP(b, 0, ARPOperation.Request, ZERO, 0, 1, ZERO, 0, 2);
  const a = new ARPPacket();
  for (let len = 0; len < 28; len++) assert.equal(parseARP(b, 0, len, a), DropReason.Truncated);
  assert.equal(parseARP(b, 1, 28, a), DropReason.Truncated);
  const mutations: Array<[number, number]> = [
    [1, 6], // htype IEEE 802
    [2, 0x86], // ptype IPv6
    [4, 8], // hlen
    [5, 16], // plen
    [7, 3], // RARP request
    [7, 0],
  ];
  for (const [at, v] of mutations) {
    const c = b.slice();
    c[at] = v;
    assert.equal(parseARP(c, 0, 28, a), DropReason.UnsupportedProtocol, `byte ${at} = ${v}`);
  }
});
