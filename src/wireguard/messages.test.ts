import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DropReason } from '../stats/drop-reasons.js';
import {
  CookieReplyView,
  InitiationView,
  MESSAGE_TYPE_INVALID,
  messageType,
  parseCookieReply,
  parseInitiation,
  parseResponse,
  parseTransportHeader,
  readU32LE,
  ResponseView,
  TransportHeaderView,
  writeCookieReplyHeader,
  writeInitiationHeader,
  writeResponseHeader,
  writeTransportHeader,
  writeU32LE,
} from './messages.js';

test('messageType accepts 1..4 with three zero reserved bytes only', () => {
  const b = new Uint8Array([9, 1, 0, 0, 0, 2, 0, 0, 0, 7]);
  assert.equal(messageType(b, 1, 4), 1);
  assert.equal(messageType(b, 5, 4), 2);
  assert.equal(messageType(b, 5, 3), MESSAGE_TYPE_INVALID, 'shorter than 4');
  assert.equal(messageType(b, 7, 4), MESSAGE_TYPE_INVALID, 'runs past the buffer');
  for (const t of [0, 5, 255]) assert.equal(messageType(new Uint8Array([t, 0, 0, 0]), 0, 4), MESSAGE_TYPE_INVALID);
  for (const r of [1, 2, 3]) {
    const m = new Uint8Array([4, 0, 0, 0]);
    m[r] = 1;
    assert.equal(messageType(m, 0, 4), MESSAGE_TYPE_INVALID, `reserved byte ${r}`);
  }
});

test('u32 little-endian helpers cover the full range', () => {
  const b = new Uint8Array(6);
  for (const v of [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1234_5678]) {
    writeU32LE(b, 1, v);
    assert.equal(readU32LE(b, 1), v);
  }
  writeU32LE(b, 0, 0x0403_0201);
  assert.deepEqual([...b.subarray(0, 4)], [1, 2, 3, 4]);
});

test('initiation: header round trip, exact length, wrong type', () => {
  const buf = new Uint8Array(160);
  writeInitiationHeader(buf, 5, 0xdead_beef);
  const v = new InitiationView();
  assert.equal(parseInitiation(buf, 5, 148, v), DropReason.None);
  assert.equal(v.sender, 0xdead_beef);
  assert.equal(v.buf, buf);
  assert.equal(v.off, 5);
  assert.equal(v.len, 148);
  assert.equal(parseInitiation(buf, 5, 147, v), DropReason.WgBadMessageLength);
  assert.equal(parseInitiation(buf, 5, 149, v), DropReason.WgBadMessageLength);
  assert.equal(parseInitiation(buf, 5, 3, v), DropReason.WgBadMessageLength);
  assert.equal(parseInitiation(buf, 20, 148, v), DropReason.Truncated, 'view past the buffer');
  buf[5] = 2;
  assert.equal(parseInitiation(buf, 5, 148, v), DropReason.WgUnknownMessageType);
});

test('response: header round trip, exact length', () => {
  const buf = new Uint8Array(92);
  writeResponseHeader(buf, 0, 7, 0xffff_fffe);
  assert.deepEqual([...buf.subarray(0, 12)], [2, 0, 0, 0, 7, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]);
  const v = new ResponseView();
  assert.equal(parseResponse(buf, 0, 92, v), DropReason.None);
  assert.equal(v.sender, 7);
  assert.equal(v.receiver, 0xffff_fffe);
  assert.equal(parseResponse(buf, 0, 91, v), DropReason.WgBadMessageLength);
  assert.equal(parseResponse(new Uint8Array(148).fill(0, 0), 0, 92, v), DropReason.WgUnknownMessageType);
});

test('cookie reply: header round trip, exact length', () => {
  const buf = new Uint8Array(64);
  writeCookieReplyHeader(buf, 0, 42);
  const v = new CookieReplyView();
  assert.equal(parseCookieReply(buf, 0, 64, v), DropReason.None);
  assert.equal(v.receiver, 42);
  assert.equal(parseCookieReply(buf, 0, 63, v), DropReason.WgBadMessageLength);
});

test('transport header: at least 32 bytes, u64 counter as halves', () => {
  const buf = new Uint8Array(48);
  writeTransportHeader(buf, 0, 0x0102_0304, 0xffff_ffff, 0x0000_0001);
  assert.deepEqual([...buf.subarray(0, 16)], [4, 0, 0, 0, 4, 3, 2, 1, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0]);
  const v = new TransportHeaderView();
  assert.equal(parseTransportHeader(buf, 0, 32, v), DropReason.None, 'a keepalive');
  assert.equal(v.receiver, 0x0102_0304);
  assert.equal(v.counterLow, 0xffff_ffff);
  assert.equal(v.counterHigh, 1);
  assert.equal(parseTransportHeader(buf, 0, 48, v), DropReason.None);
  assert.equal(parseTransportHeader(buf, 0, 31, v), DropReason.WgBadMessageLength);
  assert.equal(parseTransportHeader(buf, 0, 49, v), DropReason.Truncated);
});

test('writers refuse buffers that are too small and non-u32 indices', () => {
  assert.throws(() => writeInitiationHeader(new Uint8Array(147), 0, 1), RangeError);
  assert.throws(() => writeResponseHeader(new Uint8Array(100), 9, 1, 1), RangeError);
  assert.throws(() => writeCookieReplyHeader(new Uint8Array(64), 0, -1), RangeError);
  assert.throws(() => writeInitiationHeader(new Uint8Array(148), 0, 2 ** 32), RangeError);
  assert.throws(() => writeTransportHeader(new Uint8Array(15), 0, 1, 0, 0), RangeError);
});

test('parsers never throw on arbitrary input', () => {
  const iv = new InitiationView();
  const rv = new ResponseView();
  const cv = new CookieReplyView();
  const tv = new TransportHeaderView();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: -5, max: 210 }), fc.integer({ min: -5, max: 210 }), (b, off, len) => {
      const reasons = [parseInitiation(b, off, len, iv), parseResponse(b, off, len, rv), parseCookieReply(b, off, len, cv), parseTransportHeader(b, off, len, tv)];
      for (const r of reasons) assert.equal(typeof r, 'number');
      messageType(b, off, len);
    }),
    { numRuns: 2000 },
  );
});
