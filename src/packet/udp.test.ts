import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DropReason } from '../stats/drop-reasons.js';
import { setTransportChecksumIPv4, transportChecksumValidIPv4 } from './checksum.js';
import { IPProto } from './constants.js';
import { parseUDP, UDPHeader, writeUDPHeader } from './udp.js';

test('write then parse round-trips ports and lengths', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.nat(100), fc.nat(8), fc.nat(8), (sp, dp, dlen, at, pad) => {
      const b = new Uint8Array(at + 8 + dlen + pad);
      assert.equal(writeUDPHeader(b, at, sp, dp, 8 + dlen), 8);
      const h = new UDPHeader();
      assert.equal(parseUDP(b, at, 8 + dlen + pad, h), DropReason.None);
      assert.deepEqual([h.srcPort, h.dstPort, h.length, h.checksum, h.payloadOffset, h.payloadLength], [sp, dp, 8 + dlen, 0, at + 8, dlen]);
    }),
  );
});

test('a written datagram gets a checksum that verifies', () => {
  const b = new Uint8Array(8 + 5);
  writeUDPHeader(b, 0, 51820, 4789, 13);
  b.set([104, 101, 108, 108, 111], 8);
  const c = setTransportChecksumIPv4(b, 0, 13, IPProto.UDP, 0x7f000001, 0x7f000001);
  const h = new UDPHeader();
  assert.equal(parseUDP(b, 0, 13, h), DropReason.None);
  assert.equal(h.checksum, c);
  assert.ok(transportChecksumValidIPv4(b, 0, 13, IPProto.UDP, 0x7f000001, 0x7f000001));
});

test('truncated below 8 bytes; length field below 8 or beyond the bytes available', () => {
  const b = new Uint8Array(20);
  writeUDPHeader(b, 0, 1, 2, 20);
  const h = new UDPHeader();
  for (let len = 0; len < 8; len++) assert.equal(parseUDP(b, 0, len, h), DropReason.Truncated, `len ${len}`);
  assert.equal(parseUDP(b, 0, 19, h), DropReason.BadTotalLength, 'length field 20, 19 bytes');
  assert.equal(parseUDP(b, 0, 20, h), DropReason.None);
  for (const l of [0, 1, 7]) {
    writeUDPHeader(b, 0, 1, 2, l);
    assert.equal(parseUDP(b, 0, 20, h), DropReason.BadTotalLength, `length field ${l}`);
  }
  writeUDPHeader(b, 0, 1, 2, 8);
  assert.equal(parseUDP(b, 0, 20, h), DropReason.None, 'shorter than the IP payload: the rest is padding');
  assert.equal(h.payloadLength, 0);
  assert.equal(parseUDP(b, 15, 8, h), DropReason.Truncated, 'range past the buffer');
  assert.equal(parseUDP(b, 0, NaN, h), DropReason.Truncated);
});
