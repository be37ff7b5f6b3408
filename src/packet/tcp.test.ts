import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DropReason } from '../stats/drop-reasons.js';
import { setTransportChecksumIPv6, transportChecksumValidIPv6 } from './checksum.js';
import { IPProto, TCPFlag } from './constants.js';
import { parseTCP, TCPHeader, writeTCPHeader } from './tcp.js';

test('write then parse round-trips every field', () => {
  fc.assert(
    fc.property(
      fc.record({
        sp: fc.integer({ min: 0, max: 0xffff }),
        dp: fc.integer({ min: 0, max: 0xffff }),
        seq: fc.integer({ min: 0, max: 0xffffffff }),
        ack: fc.integer({ min: 0, max: 0xffffffff }),
        flags: fc.integer({ min: 0, max: 0x1ff }),
        win: fc.integer({ min: 0, max: 0xffff }),
        urg: fc.integer({ min: 0, max: 0xffff }),
        data: fc.nat(40),
        at: fc.nat(8),
      }),
      (r) => {
        const b = new Uint8Array(r.at + 20 + r.data);
        assert.equal(writeTCPHeader(b, r.at, r.sp, r.dp, r.seq, r.ack, r.flags, r.win, r.urg), 20);
        const h = new TCPHeader();
        assert.equal(parseTCP(b, r.at, 20 + r.data, h), DropReason.None);
        assert.deepEqual(
          [h.srcPort, h.dstPort, h.seq, h.ack, h.flags, h.window, h.urgentPointer, h.headerLength, h.payloadOffset, h.payloadLength],
          [r.sp, r.dp, r.seq, r.ack, r.flags, r.win, r.urg, 20, r.at + 20, r.data],
        );
      },
    ),
  );
});

test('flags decode by bit', () => {
  const b = new Uint8Array(20);
  writeTCPHeader(b, 0, 1, 2, 0, 0, TCPFlag.SYN | TCPFlag.ACK | TCPFlag.ECE, 100);
  assert.equal(b[13], 0x52);
  const h = new TCPHeader();
  parseTCP(b, 0, 20, h);
  assert.ok(h.flags & TCPFlag.SYN && h.flags & TCPFlag.ACK && !(h.flags & TCPFlag.RST));
});

test('options are skipped by data offset; checksum over IPv6 verifies', () => {
  const b = new Uint8Array(32 + 40 + 3);
  b[0] = 0x20; // source address 2000::..., destination zero
  writeTCPHeader(b, 32, 443, 50000, 1, 2, TCPFlag.ACK, 500);
  b[32 + 12] = 10 << 4; // 40-byte header: 20 bytes of options
  b.fill(1, 52, 72); // NOPs
  const h = new TCPHeader();
  assert.equal(parseTCP(b, 32, 43, h), DropReason.None);
  assert.equal(h.headerLength, 40);
  assert.equal(h.payloadOffset, 72);
  assert.equal(h.payloadLength, 3);
  setTransportChecksumIPv6(b, 32, 43, IPProto.TCP, 0, 16);
  assert.ok(transportChecksumValidIPv6(b, 32, 43, IPProto.TCP, 0, 16));
});

test('truncated below 20 bytes; data offset below 5 or beyond the segment', () => {
  const b = new Uint8Array(60);
  writeTCPHeader(b, 0, 1, 2, 3, 4, 0, 5);
  const h = new TCPHeader();
  for (let len = 0; len < 20; len++) assert.equal(parseTCP(b, 0, len, h), DropReason.Truncated, `len ${len}`);
  for (let doff = 0; doff < 5; doff++) {
    b[12] = doff << 4;
    assert.equal(parseTCP(b, 0, 60, h), DropReason.BadHeaderLength, `data offset ${doff}`);
  }
  b[12] = 15 << 4;
  assert.equal(parseTCP(b, 0, 59, h), DropReason.BadHeaderLength);
  assert.equal(parseTCP(b, 0, 60, h), DropReason.None);
  assert.equal(h.payloadLength, 0);
  assert.equal(parseTCP(b, 41, 20, h), DropReason.Truncated, 'range past the buffer');
});
