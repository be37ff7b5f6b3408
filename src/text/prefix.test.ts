import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FerryError } from '../errors.js';
import { formatPrefix, hasHostBits, maskPrefix, parsePrefix } from './prefix.js';

test('prefixes parse with their host part kept and print as wg prints them', () => {
  assert.deepEqual(parsePrefix('10.0.0.1/24'), { family: 4, bytes: new Uint8Array([10, 0, 0, 1]), cidr: 24 });
  assert.equal(formatPrefix(parsePrefix(' fd00::1/64 ')), 'fd00::1/64');
  assert.equal(formatPrefix(parsePrefix('192.0.2.7')), '192.0.2.7/32', 'a bare address is a host prefix');
  assert.equal(formatPrefix(parsePrefix('::1.2.3.4')), '::1.2.3.4/128', "glibc's IPv4-compatible form");
  assert.equal(formatPrefix(parsePrefix('::ffff:1.2.3.4/96')), '::ffff:1.2.3.4/96');
});

test('bad prefixes are refused with the reason', () => {
  assert.throws(() => parsePrefix('fe80::1%lo/64'), /a zone index is not allowed/);
  assert.throws(() => parsePrefix('10.0.0.256/8'), /"10.0.0.256" is not an IP address/);
  assert.throws(() => parsePrefix('10.0.0.0/33'), /prefix length "33" must be an integer in \[0, 32\]/);
  assert.throws(() => parsePrefix('fd00::/-1'), FerryError);
  assert.throws(() => parsePrefix('01.2.3.4/8'), FerryError, 'inet_pton refuses leading zeros');
});

test('host bits: found, and masked off', () => {
  assert.equal(hasHostBits(parsePrefix('10.0.0.1/24')), true);
  assert.equal(hasHostBits(parsePrefix('10.0.0.0/24')), false);
  assert.equal(hasHostBits(parsePrefix('0.0.0.0/0')), false);
  assert.equal(formatPrefix(maskPrefix(parsePrefix('fd00::1:2/100'))), 'fd00::/100');
  const p = parsePrefix('10.1.2.3/15');
  assert.equal(formatPrefix(maskPrefix(p)), '10.0.0.0/15');
  assert.equal(formatPrefix(p), '10.1.2.3/15', 'masking copies');
});

test('property: any prefix prints and parses back to itself', () => {
  fc.assert(
    fc.property(fc.boolean(), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }), (v4, raw, len) => {
      const bytes = v4 ? raw.subarray(0, 4) : raw;
      const cidr = v4 ? len % 33 : len;
      const back = parsePrefix(formatPrefix({ family: v4 ? 4 : 6, bytes, cidr }));
      assert.deepEqual([back.family, Buffer.from(back.bytes).toString('hex'), back.cidr], [v4 ? 4 : 6, Buffer.from(bytes).toString('hex'), cidr]);
    }),
  );
});
