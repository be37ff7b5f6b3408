import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DropReason } from '../stats/drop-reasons.js';
import { IPParseFlag, IPv4Flag } from './constants.js';
import { hexToBytes, ipv4FromString } from './format.js';
import { IPv4Header, ipv4HeaderChecksumValid, parseIPv4, setIPv4HeaderChecksum, writeIPv4Header } from './ipv4.js';

const WIKI = '4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7';

function wikiPacket(pad = 0): Uint8Array {
  const b = new Uint8Array(pad + 0x73 + 6); // 6 bytes of link padding after the datagram
  b.set(hexToBytes(WIKI), pad);
  return b;
}

test('parses the Wikipedia example header', () => {
  const b = wikiPacket(3);
  const h = new IPv4Header();
  assert.equal(parseIPv4(b, 3, b.length - 3, h, IPParseFlag.VerifyChecksum), DropReason.None);
  assert.equal(h.headerLength, 20);
  assert.equal(h.totalLength, 0x73);
  assert.equal(h.tos, 0);
  assert.equal(h.identification, 0);
  assert.equal(h.flags, IPv4Flag.DontFragment);
  assert.equal(h.fragmentOffset, 0);
  assert.equal(h.isFragment, false);
  assert.equal(h.ttl, 64);
  assert.equal(h.protocol, 17);
  assert.equal(h.checksum, 0xb861);
  assert.equal(h.src, ipv4FromString('192.168.0.1'));
  assert.equal(h.dst, ipv4FromString('192.168.0.199'));
  assert.equal(h.payloadOffset, 23);
  assert.equal(h.payloadLength, 0x73 - 20, 'padding after the total length is not payload');
});

test('write then parse round-trips every field, and the checksum verifies', () => {
  fc.assert(
    fc.property(
      fc.record({
        payload: fc.nat(100),
        proto: fc.integer({ min: 0, max: 255 }),
        src: fc.integer({ min: 0, max: 0xffffffff }),
        dst: fc.integer({ min: 0, max: 0xffffffff }),
        ttl: fc.integer({ min: 0, max: 255 }),
        id: fc.integer({ min: 0, max: 0xffff }),
        flags: fc.constantFrom(0, IPv4Flag.DontFragment),
        tos: fc.integer({ min: 0, max: 255 }),
        at: fc.nat(16),
      }),
      (r) => {
        const b = new Uint8Array(r.at + 20 + r.payload);
        assert.equal(writeIPv4Header(b, r.at, 20 + r.payload, r.proto, r.src, r.dst, r.ttl, r.id, r.flags, r.tos), 20);
        const h = new IPv4Header();
        assert.equal(parseIPv4(b, r.at, 20 + r.payload, h, IPParseFlag.VerifyChecksum | IPParseFlag.RejectFragments), DropReason.None);
        assert.deepEqual(
          [h.headerLength, h.totalLength, h.protocol, h.src, h.dst, h.ttl, h.identification, h.flags, h.tos, h.fragmentOffset],
          [20, 20 + r.payload, r.proto, r.src, r.dst, r.ttl, r.id, r.flags, r.tos, 0],
        );
        assert.equal(h.payloadOffset, r.at + 20);
        assert.ok(ipv4HeaderChecksumValid(b, r.at));
      },
    ),
  );
});

test('truncated at every length below 20, and offset/length outside the buffer', () => {
  const b = wikiPacket();
  const h = new IPv4Header();
  for (let len = 0; len < 20; len++) assert.equal(parseIPv4(b, 0, len, h), DropReason.Truncated, `len ${len}`);
  assert.equal(parseIPv4(b, 0, b.length + 1, h), DropReason.Truncated);
  assert.equal(parseIPv4(b, b.length - 10, 20, h), DropReason.Truncated);
  assert.equal(parseIPv4(b, -1, 20, h), DropReason.Truncated);
  assert.equal(parseIPv4(b, 0, -5, h), DropReason.Truncated);
  assert.equal(parseIPv4(b, 0.5, 40, h), DropReason.Truncated);
  assert.equal(parseIPv4(b, NaN, 40, h), DropReason.Truncated);
  assert.equal(parseIPv4(b, 0, Infinity, h), DropReason.Truncated);
});

test('bad version', () => {
  const h = new IPv4Header();
  for (const v of [0, 1, 5, 6, 15]) {
    const b = wikiPacket();
    b[0] = (v << 4) | 5;
    assert.equal(parseIPv4(b, 0, b.length, h), DropReason.BadVersion, `version ${v}`);
  }
});

test('bad IHL: below 5 words, or past the bytes available', () => {
  const h = new IPv4Header();
  for (let ihl = 0; ihl < 5; ihl++) {
    const b = wikiPacket();
    b[0] = 0x40 | ihl;
    assert.equal(parseIPv4(b, 0, b.length, h), DropReason.BadHeaderLength, `ihl ${ihl}`);
  }
  const b = wikiPacket();
  b[0] = 0x4f; // 60 bytes of header
  assert.equal(parseIPv4(b, 0, 40, h), DropReason.BadHeaderLength);
});

test('bad total length: smaller than the header, or larger than available', () => {
  const h = new IPv4Header();
  const b = wikiPacket();
  for (const total of [0, 1, 19]) {
    b[2] = total >>> 8;
    b[3] = total & 0xff;
    assert.equal(parseIPv4(b, 0, b.length, h), DropReason.BadTotalLength, `total ${total}`);
  }
  b[0] = 0x46; // 24-byte header, total 20
  b[2] = 0;
  b[3] = 20;
  assert.equal(parseIPv4(b, 0, b.length, h), DropReason.BadTotalLength);
  const w = wikiPacket();
  assert.equal(parseIPv4(w, 0, 0x72, h), DropReason.BadTotalLength, 'one byte missing');
  assert.equal(parseIPv4(w, 0, 0x73, h), DropReason.None);
});

test('options are skipped by IHL', () => {
  const h = new IPv4Header();
  for (let ihl = 5; ihl <= 15; ihl++) {
    const b = new Uint8Array(80).fill(0x01); // NOPs as options and payload
    writeIPv4Header(b, 0, 70, 6, 1, 2);
    b[0] = 0x40 | ihl;
    setIPv4HeaderChecksum(b, 0);
    assert.equal(parseIPv4(b, 0, 80, h, IPParseFlag.VerifyChecksum), DropReason.None);
    assert.equal(h.headerLength, ihl * 4);
    assert.equal(h.payloadOffset, ihl * 4);
    assert.equal(h.payloadLength, 70 - ihl * 4);
  }
});

test('checksum is verified only when asked; every single-bit error is caught', () => {
  const h = new IPv4Header();
  for (let bit = 0; bit < 160; bit++) {
    const b = wikiPacket();
    b[bit >>> 3] ^= 0x80 >>> (bit & 7);
    const r = parseIPv4(b, 0, b.length, h, IPParseFlag.VerifyChecksum);
    // Flips in version/IHL/total length fail earlier checks; all others must be BadChecksum.
    assert.notEqual(r, DropReason.None, `bit ${bit}`);
    if (bit >= 32) assert.equal(r, DropReason.BadChecksum, `bit ${bit}`);
  }
  const b = wikiPacket();
  b[10] ^= 0xff;
  assert.equal(parseIPv4(b, 0, b.length, h), DropReason.None, 'not verified without the flag');
  assert.ok(!ipv4HeaderChecksumValid(b, 0));
});

test('fragments: MF or offset make a fragment, DF alone does not; rejected only when asked', () => {
  const h = new IPv4Header();
  const cases: Array<[number, number, boolean]> = [
    [0, 0, false],
    [IPv4Flag.DontFragment, 0, false],
    [IPv4Flag.MoreFragments, 0, true],
    [0, 185, true],
    [IPv4Flag.MoreFragments, 1, true],
  ];
  for (const [flags, offset, frag] of cases) {
    const b = wikiPacket();
    b[6] = (flags << 5) | (offset >>> 8);
    b[7] = offset & 0xff;
    setIPv4HeaderChecksum(b, 0);
    assert.equal(parseIPv4(b, 0, b.length, h, IPParseFlag.VerifyChecksum), DropReason.None);
    assert.equal(h.isFragment, frag);
    assert.equal(h.fragmentOffset, offset);
    assert.equal(h.flags, flags);
    assert.equal(h.hasTransportHeader, offset === 0);
    assert.equal(parseIPv4(b, 0, b.length, h, IPParseFlag.RejectFragments), frag ? DropReason.Fragment : DropReason.None);
  }
});
