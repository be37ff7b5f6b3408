import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FerryError } from '../errors.js';
import { formatIpv4, formatIpv6, ipv4FromString, ipv4ToString, ipv6FromString, ipv6ToString, parseIpv4, parseIpv6 } from './ip.js';

const hex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('hex'));

// Vectors from glibc's inet_pton/inet_ntop (through Python's socket module).
const V6: [string, string, string][] = [
  ['::', '00000000000000000000000000000000', '::'],
  ['::1', '00000000000000000000000000000001', '::1'],
  ['1::', '00010000000000000000000000000000', '1::'],
  ['::ffff:1.2.3.4', '00000000000000000000ffff01020304', '::ffff:1.2.3.4'],
  ['::1.2.3.4', '00000000000000000000000001020304', '::1.2.3.4'],
  ['::0.1.0.0', '00000000000000000000000000010000', '::0.1.0.0'],
  ['1:0:0:1:0:0:0:1', '00010000000000010000000000000001', '1:0:0:1::1'],
  ['1:0:0:0:1:0:0:1', '00010000000000000001000000000001', '1::1:0:0:1'],
  ['fe80::1', 'fe800000000000000000000000000001', 'fe80::1'],
  ['2001:db8::', '20010db8000000000000000000000000', '2001:db8::'],
  ['0:0:1::', '00000000000100000000000000000000', '0:0:1::'],
  ['::ffff:0:0', '00000000000000000000ffff00000000', '::ffff:0.0.0.0'],
  ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008', '1:2:3:4:5:6:7:8'],
  ['1:2:3:4:5:6::', '00010002000300040005000600000000', '1:2:3:4:5:6::'],
  ['ffff::ffff:1.2.3.4', 'ffff0000000000000000ffff01020304', 'ffff::ffff:102:304'],
  ['::fffe:1.2.3.4', '00000000000000000000fffe01020304', '::fffe:102:304'],
  ['0:0:0:0:0:1:0:0', '00000000000000000000000100000000', '::1:0:0'],
  ['1::2:0:0:3', '00010000000000000002000000000003', '1::2:0:0:3'],
  ['::1:2:3:4:5:6:7', '00000001000200030004000500060007', '0:1:2:3:4:5:6:7'],
  ['1:2:3:4:5:6:7::', '00010002000300040005000600070000', '1:2:3:4:5:6:7:0'],
  ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304', '1:2:3:4:5:6:102:304'],
  ['FE80::ABCD', 'fe80000000000000000000000000abcd', 'fe80::abcd'],
];

const BAD6 = ['1:2:3:4:5:6:7:8:9', '1::2::3', ':1::', '1:::2', '12345::', '1:2:3:4:5:6:7::8', '::1.2.3', '::1.2.3.04', '1:2:3:4:5:6:7:1.2.3.4', '1.2.3.4::', '', '::ffff:1.2.3.4:5', ':', '1:', 'fe80::1%lo', '::g'];

test('inet_pton6 / inet_ntop6 agree with glibc', () => {
  for (const [text, bytes, back] of V6) {
    const b = parseIpv6(text);
    assert.equal(hex(b), bytes, text);
    assert.equal(formatIpv6(b as Uint8Array), back, text);
  }
  for (const text of BAD6) assert.equal(parseIpv6(text), null, text);
});

test('inet_pton4 is strict dotted quad', () => {
  assert.equal(hex(parseIpv4('1.2.3.4')), '01020304');
  assert.equal(hex(parseIpv4('255.255.255.255')), 'ffffffff');
  assert.equal(hex(parseIpv4('0.0.0.0')), '00000000');
  for (const bad of ['01.2.3.4', '1.2.3', '256.1.1.1', '1.2.3.4.', '1..2.3', ' 1.2.3.4', '1.2.3.4 ', '0x1.2.3.4', ''])
    assert.equal(parseIpv4(bad), null, bad);
  assert.equal(formatIpv4(new Uint8Array([10, 0, 0, 1])), '10.0.0.1');
});

test('any 16 bytes survive ntop6 then pton6', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 7 }), (b, zeros) => {
      b.fill(0, zeros * 2, zeros * 2 + 6); // make zero runs common
      const text = formatIpv6(b);
      assert.equal(hex(parseIpv6(text)), hex(b), text);
    }),
  );
});

// The uint32 and plain-hex forms the packet codecs' tests use.
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
