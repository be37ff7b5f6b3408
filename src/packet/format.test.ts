import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FerryError } from '../errors.js';
import { hexToBytes, ipv4FromString, ipv4ToString, ipv6FromString, ipv6ToString, macFromString, macToString } from './format.js';

test('IPv4 text round trip', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (a) => {
      assert.equal(ipv4FromString(ipv4ToString(a)), a);
    }),
  );
  assert.equal(ipv4FromString('192.168.0.199'), 0xc0a800c7);
  assert.throws(() => ipv4FromString('256.1.1.1'), FerryError);
  assert.throws(() => ipv4FromString('1.2.3'), FerryError);
});

test('IPv6 text matches the WHATWG URL serializer (RFC 5952 compression) and parses back', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }),
      (groups) => {
        const b = new Uint8Array(16);
        groups.forEach((g, i) => {
          b[2 * i] = g >>> 8;
          b[2 * i + 1] = g & 0xff;
        });
        const text = ipv6ToString(b, 0);
        const full = groups.map((g) => g.toString(16)).join(':');
        assert.equal(text, new URL(`http://[${full}]/`).hostname.slice(1, -1));
        const back = new Uint8Array(18);
        ipv6FromString(text, back, 2);
        assert.deepEqual(back.subarray(2), b);
        ipv6FromString(full, back, 1);
        assert.deepEqual(back.subarray(1, 17), b);
      },
    ),
  );
});

test('IPv6 special forms', () => {
  const b = new Uint8Array(16);
  ipv6FromString('::', b, 0);
  assert.equal(ipv6ToString(b, 0), '::');
  ipv6FromString('::ffff:1.2.3.4', b, 0);
  assert.equal(ipv6ToString(b, 0), '::ffff:102:304');
  ipv6FromString('FE80::1', b, 0);
  assert.equal(ipv6ToString(b, 0), 'fe80::1');
  ipv6FromString('1:0:0:2:0:0:0:3', b, 0);
  assert.equal(ipv6ToString(b, 0), '1:0:0:2::3', 'the longer zero run is compressed');
  ipv6FromString('1:0:2:3:4:5:6:7', b, 0);
  assert.equal(ipv6ToString(b, 0), '1:0:2:3:4:5:6:7', 'a single zero group is not compressed');
  assert.throws(() => ipv6FromString('1::2::3', b, 0), FerryError);
  assert.throws(() => ipv6FromString('10.0.0.1', b, 0), FerryError);
});

test('MAC text and hex', () => {
  const b = new Uint8Array(8);
  macFromString('AA-30-01-81-94-69', b, 1);
  assert.equal(macToString(b, 1), 'aa:30:01:81:94:69');
  assert.throws(() => macFromString('aa:30:01:81:94', b, 0), FerryError);
  assert.deepEqual(hexToBytes('4500 00\n73'), new Uint8Array([0x45, 0, 0, 0x73]));
  assert.throws(() => hexToBytes('450'), FerryError);
});
