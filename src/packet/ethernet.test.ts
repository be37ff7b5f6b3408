import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DropReason } from '../stats/drop-reasons.js';
import { EtherType } from './constants.js';
import { EthernetHeader, ethernetReplyInPlace, isMulticastMac, parseEthernet, readMac48, writeEthernetHeader, writeMac48 } from './ethernet.js';
import { macFromString, macToString } from './format.js';

const mac = (s: string): Uint8Array => {
  const b = new Uint8Array(6);
  macFromString(s, b, 0);
  return b;
};

test('write then parse, untagged and with an 802.1Q tag', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 6, maxLength: 6 }),
      fc.uint8Array({ minLength: 6, maxLength: 6 }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: -1, max: 0xffff }),
      fc.nat(60),
      fc.nat(8),
      (dst, src, type, tci, plen, at) => {
        fc.pre(type !== EtherType.VLAN || tci >= 0);
        const b = new Uint8Array(at + 18 + plen);
        const hl = writeEthernetHeader(b, at, dst, 0, src, 0, type, tci);
        assert.equal(hl, tci < 0 ? 14 : 18);
        const h = new EthernetHeader();
        assert.equal(parseEthernet(b, at, hl + plen, h), DropReason.None);
        assert.deepEqual(b.subarray(h.dstOffset, h.dstOffset + 6), dst);
        assert.deepEqual(b.subarray(h.srcOffset, h.srcOffset + 6), src);
        assert.deepEqual([h.etherType, h.vlanTci, h.headerLength, h.payloadOffset, h.payloadLength], [type, tci, hl, at + hl, plen]);
        assert.equal(h.vlanId, tci < 0 ? -1 : tci & 0xfff);
      },
    ),
  );
});

test('truncated header and tag; bad ranges', () => {
  const b = new Uint8Array(18);
  writeEthernetHeader(b, 0, mac('02:00:00:00:00:01'), 0, mac('02:00:00:00:00:02'), 0, EtherType.IPv4, 5);
  const h = new EthernetHeader();
  for (let len = 0; len < 18; len++) assert.equal(parseEthernet(b, 0, len, h), DropReason.Truncated, `len ${len}`);
  assert.equal(parseEthernet(b, 0, 18, h), DropReason.None);
  assert.equal(parseEthernet(b, 1, 18, h), DropReason.Truncated);
  assert.equal(parseEthernet(b, -2, 18, h), DropReason.Truncated);
});

test('reply in place, MAC numbers, group bit', () => {
  const b = new Uint8Array(14);
  writeEthernetHeader(b, 0, mac('ff:ff:ff:ff:ff:ff'), 0, mac('aa:30:01:81:94:69'), 0, EtherType.ARP);
  assert.ok(isMulticastMac(b, 0));
  ethernetReplyInPlace(b, 0, mac('9a:2a:57:e1:e4:14'), 0);
  assert.equal(macToString(b, 0), 'aa:30:01:81:94:69');
  assert.equal(macToString(b, 6), '9a:2a:57:e1:e4:14');
  assert.ok(!isMulticastMac(b, 0));
  assert.equal(readMac48(b, 0), 0xaa3001819469);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (m) => {
      const n = readMac48(m, 0);
      assert.ok(Number.isSafeInteger(n) && n >= 0 && n < 2 ** 48);
      const back = new Uint8Array(6);
      writeMac48(back, 0, n);
      assert.deepEqual(back, m);
    }),
  );
});
