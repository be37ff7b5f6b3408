import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DropReason } from '../stats/drop-reasons.js';
import {
  CookieReplyView,
  InitiationView,
  parseCookieReply,
  parseInitiation,
  parseResponse,
  readU32LE,
  ResponseView,
  writeCookieReplyHeader,
  writeInitiationHeader,
  writeResponseHeader,
  writeU32LE,
} from './messages.js';

test('the type field: 1..4 with three zero reserved bytes only', () => {
  const iv = new InitiationView();
  const b = new Uint8Array(1 + 148);
  b[1] = 1;
  assert.equal(parseInitiation(b, 1, 148, iv), DropReason.None);
  assert.equal(parseInitiation(b, 1, 3, iv), DropReason.WgBadMessageLength, 'shorter than 4');
  assert.equal(parseInitiation(b, 2, 148, iv), DropReason.Truncated, 'runs past the buffer');
  for (const t of [0, 2, 5, 255]) {
    const m = new Uint8Array(148);
    m[0] = t;
    assert.equal(parseInitiation(m, 0, 148, iv), DropReason.WgUnknownMessageType, `type ${t}`);
  }
  for (const r of [1, 2, 3]) {
    const m = new Uint8Array(148);
    m[0] = 1;
    m[r] = 1;
    assert.equal(parseInitiation(m, 0, 148, iv), DropReason.WgUnknownMessageType, `reserved byte ${r}`);
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

test('writers refuse buffers that are too small and non-u32 indices', () => {
  assert.throws(() => writeInitiationHeader(new Uint8Array(147), 0, 1), RangeError);
  assert.throws(() => writeResponseHeader(new Uint8Array(100), 9, 1, 1), RangeError);
  assert.throws(() => writeCookieReplyHeader(new Uint8Array(64), 0, -1), RangeError);
  assert.throws(() => writeInitiationHeader(new Uint8Array(148), 0, 2 ** 32), RangeError);
});

test('parsers never throw on arbitrary input', () => {
  const iv = new InitiationView();
  const rv = new ResponseView();
  const cv = new CookieReplyView();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: -5, max: 210 }), fc.integer({ min: -5, max: 210 }), (b, off, len) => {
      const reasons = [parseInitiation(b, off, len, iv), parseResponse(b, off, len, rv), parseCookieReply(b, off, len, cv)];
      for (const r of reasons) assert.equal(typeof r, 'number');
    }),
    { numRuns: 2000 },
  );
});
