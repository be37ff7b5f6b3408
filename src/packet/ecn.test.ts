import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ipv4HeaderChecksumValid, writeIPv4Header } from './ipv4.js';
import { writeIPv6Header } from './ipv6.js';
import { Ecn, ecnDecapsulate, ecnEncapsulate, ipEcn, setIpEcn } from './ecn.js';

const { NotEct, Ect0, Ect1, Ce } = Ecn;

test('decapsulation follows the table of RFC 6040 section 4.2', () => {
  // rows: inner; columns: outer Not-ECT, ECT(0), ECT(1), CE
  const table: Array<[number, number[]]> = [
    [NotEct, [NotEct, NotEct, NotEct, -1]],
    [Ect0, [Ect0, Ect0, Ect1, Ce]],
    [Ect1, [Ect1, Ect1, Ect1, Ce]],
    [Ce, [Ce, Ce, Ce, Ce]],
  ];
  const outers = [NotEct, Ect0, Ect1, Ce];
  for (const [inner, row] of table) {
    outers.forEach((outer, k) => assert.equal(ecnDecapsulate(outer, inner), row[k], `inner ${inner} outer ${outer}`));
  }
  // The DSCP bits around the field do not matter.
  assert.equal(ecnDecapsulate(0xb8 | Ce, 0x28 | Ect0), Ce);
});

test('encapsulation copies the field, CE as ECT(0)', () => {
  assert.deepEqual([NotEct, Ect1, Ect0, Ce].map(ecnEncapsulate), [NotEct, Ect1, Ect0, Ect0]);
});

test('setting the field keeps the DSCP and a valid IPv4 header checksum', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffffffff }), (tos, ecn, addr) => {
      const b = new Uint8Array(40);
      writeIPv4Header(b, 0, 40, 6, addr, ~addr >>> 0, 64, 7, 2, tos);
      setIpEcn(b, 0, ecn);
      assert.equal(ipEcn(b, 0), ecn);
      assert.equal(b[1] >>> 2, tos >>> 2);
      assert.ok(ipv4HeaderChecksumValid(b, 0));
      const v6 = new Uint8Array(40);
      writeIPv6Header(v6, 0, 0, 59, v6, 8, v6, 24, 64, tos, 0xabcde);
      setIpEcn(v6, 0, ecn);
      assert.equal(ipEcn(v6, 0), ecn);
      assert.equal(((v6[0] & 0x0f) << 4) | (v6[1] >>> 4), (tos & 0xfc) | ecn, 'traffic class');
      assert.equal(((v6[1] & 0x0f) << 16) | (v6[2] << 8) | v6[3], 0xabcde, 'flow label kept');
    }),
  );
});
