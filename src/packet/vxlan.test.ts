import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DROP_REASON_COUNT, DropReason } from '../stats/drop-reasons.js';
import { hexToBytes } from './format.js';
import { parseVxlan, VXLAN_HEADER_LENGTH, VXLAN_VNI_MAX, VxlanHeader, writeVxlanHeader } from './vxlan.js';

test('the header of VNI 1 (flannel) and of the largest VNI, byte for byte', () => {
  const b = new Uint8Array(8);
  assert.equal(writeVxlanHeader(b, 0, 1), 8);
  assert.deepEqual(b, hexToBytes('08000000 00000100'));
  writeVxlanHeader(b, 0, VXLAN_VNI_MAX);
  assert.deepEqual(b, hexToBytes('08000000 ffffff00'));
  writeVxlanHeader(b, 0, 0x123456);
  assert.deepEqual(b, hexToBytes('08000000 12345600'));
});

test('write then parse round-trips any VNI at any offset', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: VXLAN_VNI_MAX }), fc.nat(16), fc.nat(64), (vni, at, payload) => {
      const b = new Uint8Array(at + VXLAN_HEADER_LENGTH + payload);
      b.fill(0xa5);
      writeVxlanHeader(b, at, vni);
      const h = new VxlanHeader();
      assert.equal(parseVxlan(b, at, b.length - at, h), DropReason.None);
      assert.equal(h.vni, vni);
      assert.equal(h.frameOffset, at + 8);
      assert.equal(h.frameLength, payload);
    }),
  );
});

test('no I flag is a bad header; every reserved bit alone is a reserved-bits drop', () => {
  const h = new VxlanHeader();
  const b = new Uint8Array(8);
  assert.equal(parseVxlan(b, 0, 8, h), DropReason.VxlanBadHeader, 'all zero');
  writeVxlanHeader(b, 0, 7);
  b[0] = 0x80;
  assert.equal(parseVxlan(b, 0, 8, h), DropReason.VxlanBadHeader, 'another flag but not I');
  // Every bit of bytes 0..3 and 7 except the I flag is reserved.
  for (const byte of [0, 1, 2, 3, 7]) {
    for (let bit = 0; bit < 8; bit++) {
      if (byte === 0 && 1 << bit === 0x08) continue;
      writeVxlanHeader(b, 0, 7);
      b[byte] |= 1 << bit;
      assert.equal(parseVxlan(b, 0, 8, h), DropReason.VxlanReservedBits, `byte ${byte} bit ${bit}`);
    }
  }
});

test('short and out-of-range input is truncated, never a throw', () => {
  const h = new VxlanHeader();
  const b = new Uint8Array(16);
  writeVxlanHeader(b, 0, 1);
  for (let len = 0; len < 8; len++) assert.equal(parseVxlan(b, 0, len, h), DropReason.Truncated);
  for (const [off, len] of [[-1, 8], [9, 8], [0, 17], [NaN, 8], [0, 8.5], [0, -1], [Infinity, 8]]) {
    assert.equal(parseVxlan(b, off, len, h), DropReason.Truncated, `${off},${len}`);
  }
});

test('arbitrary bytes: a drop reason, or a frame inside the range', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: -2, max: 42 }), fc.integer({ min: -2, max: 42 }), (b, off, len) => {
      const h = new VxlanHeader();
      const r = parseVxlan(b, off, len, h);
      assert.ok(Number.isInteger(r) && r >= 0 && r < DROP_REASON_COUNT);
      if (r === DropReason.None) {
        assert.ok(h.frameOffset === off + 8 && h.frameOffset + h.frameLength === off + len && len <= b.length - off);
        assert.equal(b[off], 0x08);
      }
    }),
  );
});
