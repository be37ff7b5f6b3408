import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ENDPOINT_LOCAL_OFFSET,
  ENDPOINT_REMOTE_SIZE,
  ENDPOINT_STRIDE,
  bytesToIpv6,
  clearEndpointLocal,
  copyEndpoint,
  decodeEndpoint,
  decodeEndpointLocal,
  encodeEndpoint,
  encodeEndpointLocal,
  endpointEquals,
  endpointRecordEquals,
  formatEndpoint,
  hasEndpointLocal,
  ipv6ToBytes,
} from './endpoint.js';

test('endpointEquals compares the remote parts of two records', () => {
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

test('the record is 48 bytes: the remote part [0, 24) as before, the local part behind it', () => {
  assert.deepEqual([ENDPOINT_REMOTE_SIZE, ENDPOINT_LOCAL_OFFSET, ENDPOINT_STRIDE], [24, 24, 48]);
  const rec = new Uint8Array(ENDPOINT_STRIDE).fill(0xee);
  encodeEndpoint({ family: 4, address: '192.0.2.7', port: 51820 }, rec);
  assert.deepEqual([...rec.subarray(ENDPOINT_LOCAL_OFFSET)], new Array(24).fill(0), 'encodeEndpoint clears the local part');
  assert.equal(hasEndpointLocal(rec), false);
  assert.equal(decodeEndpointLocal(rec), null);

  encodeEndpointLocal({ family: 4, address: '10.9.8.7', ifindex: 0x01020304 }, rec);
  assert.deepEqual([...rec.subarray(24, 36)], [4, 0, 0, 0, 4, 3, 2, 1, 10, 9, 8, 7]);
  assert.deepEqual([...rec.subarray(36)], new Array(12).fill(0));
  assert.deepEqual(decodeEndpointLocal(rec), { family: 4, address: '10.9.8.7', ifindex: 0x01020304 });
  assert.deepEqual(decodeEndpoint(rec), { family: 4, address: '192.0.2.7', port: 51820 }, 'the remote part is untouched');
  assert.deepEqual([...rec.subarray(0, 8)], [4, 0, 0xca, 0x6c, 192, 0, 2, 7]);

  const v6 = new Uint8Array(ENDPOINT_STRIDE * 2);
  encodeEndpoint({ family: 6, address: 'fe80::2', port: 9, scopeId: 7 }, v6, ENDPOINT_STRIDE);
  encodeEndpointLocal({ family: 6, address: 'fe80::1', ifindex: 7 }, v6, ENDPOINT_STRIDE);
  assert.equal(v6[ENDPOINT_STRIDE + 24], 6);
  assert.equal(v6[ENDPOINT_STRIDE + 32], 0xfe);
  assert.equal(v6[ENDPOINT_STRIDE + 47], 1);
  assert.deepEqual(decodeEndpointLocal(v6, ENDPOINT_STRIDE), { family: 6, address: 'fe80::1', ifindex: 7 });
  assert.equal(decodeEndpointLocal(v6, 0), null);

  clearEndpointLocal(v6, ENDPOINT_STRIDE);
  assert.equal(decodeEndpointLocal(v6, ENDPOINT_STRIDE), null);
  assert.deepEqual(decodeEndpoint(v6, ENDPOINT_STRIDE), { family: 6, address: 'fe80::2', port: 9, scopeId: 7 });
  encodeEndpointLocal({ family: 6, address: '2001:db8::1', ifindex: 0 }, v6, ENDPOINT_STRIDE);
  encodeEndpointLocal(null, v6, ENDPOINT_STRIDE);
  assert.equal(hasEndpointLocal(v6, ENDPOINT_STRIDE), false, 'null clears it');

  assert.throws(() => encodeEndpointLocal({ family: 4, address: 'fe80::1', ifindex: 0 }, rec), /not an IPv4 address/);
  assert.throws(() => encodeEndpointLocal({ family: 6, address: '1.2.3.4', ifindex: 0 }, rec), /not an IPv6 address/);
  assert.throws(() => encodeEndpointLocal({ family: 4, address: '1.2.3.4', ifindex: -1 }, rec), /ifindex/);
  assert.throws(() => encodeEndpointLocal({ family: 5 as 4, address: '1.2.3.4', ifindex: 0 }, rec), /local family/);
});

test('endpointEquals ignores the local part; endpointRecordEquals and copyEndpoint cover the whole record', () => {
  const a = new Uint8Array(ENDPOINT_STRIDE * 3);
  encodeEndpoint({ family: 4, address: '10.1.2.3', port: 5 }, a, 0);
  encodeEndpoint({ family: 4, address: '10.1.2.3', port: 5 }, a, ENDPOINT_STRIDE);
  encodeEndpointLocal({ family: 4, address: '10.0.0.1', ifindex: 2 }, a, 0);
  encodeEndpointLocal({ family: 4, address: '10.0.0.11', ifindex: 2 }, a, ENDPOINT_STRIDE);
  assert.ok(endpointEquals(a, 0, a, ENDPOINT_STRIDE), 'same peer');
  assert.ok(!endpointRecordEquals(a, 0, a, ENDPOINT_STRIDE), 'reached on another local address');
  copyEndpoint(a, ENDPOINT_STRIDE, a, 2 * ENDPOINT_STRIDE);
  assert.ok(endpointRecordEquals(a, ENDPOINT_STRIDE, a, 2 * ENDPOINT_STRIDE));
  assert.deepEqual(decodeEndpointLocal(a, 2 * ENDPOINT_STRIDE), { family: 4, address: '10.0.0.11', ifindex: 2 });
});
