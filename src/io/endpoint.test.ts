import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ENDPOINT_STRIDE, encodeEndpoint, decodeEndpoint, formatEndpoint, endpointEquals, ipv6ToBytes, bytesToIpv6 } from './endpoint.js';

test('endpointEquals compares whole records', () => {
  const a = new Uint8Array(ENDPOINT_STRIDE * 2);
  encodeEndpoint({ family: 4, address: '10.1.2.3', port: 5 }, a, 0);
  encodeEndpoint({ family: 4, address: '10.1.2.3', port: 5 }, a, ENDPOINT_STRIDE);
  assert.ok(endpointEquals(a, 0, a, ENDPOINT_STRIDE));
  a[ENDPOINT_STRIDE + 3] = 6;
  assert.ok(!endpointEquals(a, 0, a, ENDPOINT_STRIDE));
});

test('IPv4 endpoint record layout', () => {
  const rec = new Uint8Array(ENDPOINT_STRIDE);
  encodeEndpoint({ family: 4, address: '192.0.2.7', port: 51820 }, rec);
  assert.deepEqual([...rec.subarray(0, 8)], [4, 0, 0xca, 0x6c, 192, 0, 2, 7]);
  assert.deepEqual(decodeEndpoint(rec), { family: 4, address: '192.0.2.7', port: 51820 });
  assert.equal(formatEndpoint({ family: 4, address: '192.0.2.7', port: 51820 }), '192.0.2.7:51820');
});

test('IPv6 endpoint record with scope id', () => {
  const rec = new Uint8Array(ENDPOINT_STRIDE * 2);
  encodeEndpoint({ family: 6, address: 'fe80::1%3', port: 1 }, rec, ENDPOINT_STRIDE);
  assert.equal(rec[ENDPOINT_STRIDE], 6);
  assert.equal(rec[ENDPOINT_STRIDE + 4], 0xfe);
  assert.deepEqual(decodeEndpoint(rec, ENDPOINT_STRIDE), { family: 6, address: 'fe80::1', port: 1, scopeId: 3 });
  assert.equal(formatEndpoint({ family: 6, address: 'fe80::1', port: 1, scopeId: 3 }), '[fe80::1%3]:1');
  assert.equal(decodeEndpoint(rec, 0), null);
});

test('IPv6 text forms round trip in RFC 5952 form', () => {
  const cases: [string, string][] = [
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:DB8::', '2001:db8::'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['fd00:0:0:0:0:0:0:2', 'fd00::2'],
    ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'],
  ];
  for (const [input, expected] of cases) {
    const b = new Uint8Array(16);
    ipv6ToBytes(input, b, 0);
    assert.equal(bytesToIpv6(b, 0), expected, input);
  }
});

test('property: every 16-byte address survives bytes -> text -> bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const back = new Uint8Array(16);
      ipv6ToBytes(bytesToIpv6(bytes, 0), back, 0);
      return bytes.every((v, i) => v === back[i]);
    }),
  );
});

test('bad endpoints are rejected', () => {
  const rec = new Uint8Array(ENDPOINT_STRIDE);
  assert.throws(() => encodeEndpoint({ family: 4, address: '300.1.1.1', port: 1 }, rec), /not an IPv4 address/);
  assert.throws(() => encodeEndpoint({ family: 6, address: '1.2.3.4', port: 1 }, rec), /not an IPv6 address/);
  assert.throws(() => encodeEndpoint({ family: 4, address: '1.2.3.4', port: 70000 }, rec), /port/);
});
