import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatSockAddr, inetNtop4, inetNtop6, inetPton4, inetPton6 } from './inet.js';

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
    const b = inetPton6(text);
    assert.equal(hex(b), bytes, text);
    assert.equal(inetNtop6(b as Uint8Array), back, text);
  }
  for (const text of BAD6) assert.equal(inetPton6(text), null, text);
});

test('inet_pton4 is strict dotted quad', () => {
  assert.equal(hex(inetPton4('1.2.3.4')), '01020304');
  assert.equal(hex(inetPton4('255.255.255.255')), 'ffffffff');
  assert.equal(hex(inetPton4('0.0.0.0')), '00000000');
  for (const bad of ['01.2.3.4', '1.2.3', '256.1.1.1', '1.2.3.4.', '1..2.3', ' 1.2.3.4', '1.2.3.4 ', '0x1.2.3.4', ''])
    assert.equal(inetPton4(bad), null, bad);
  assert.equal(inetNtop4(new Uint8Array([10, 0, 0, 1])), '10.0.0.1');
});

test('any 16 bytes survive ntop6 then pton6', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 7 }), (b, zeros) => {
      b.fill(0, zeros * 2, zeros * 2 + 6); // make zero runs common
      const text = inetNtop6(b);
      assert.equal(hex(inetPton6(text)), hex(b), text);
    }),
  );
});

test('socket addresses print as wg prints endpoints', () => {
  const v6 = (s: string) => inetPton6(s) as Uint8Array;
  assert.equal(formatSockAddr({ family: 4, addr: new Uint8Array([10, 0, 0, 1]), port: 51820, scopeId: 0 }), '10.0.0.1:51820');
  assert.equal(formatSockAddr({ family: 6, addr: v6('fd00::1'), port: 1, scopeId: 0 }), '[fd00::1]:1');
  assert.equal(formatSockAddr({ family: 6, addr: v6('::ffff:1.2.3.4'), port: 7, scopeId: 0 }), '[::ffff:1.2.3.4]:7');
  // Link-local scopes are named when the interface exists (lo is 1), others stay numeric.
  assert.equal(formatSockAddr({ family: 6, addr: v6('fe80::1'), port: 5, scopeId: 1 }), '[fe80::1%lo]:5');
  assert.equal(formatSockAddr({ family: 6, addr: v6('fe80::1'), port: 5, scopeId: 99999 }), '[fe80::1%99999]:5');
  assert.equal(formatSockAddr({ family: 6, addr: v6('fd00::1'), port: 5, scopeId: 1 }), '[fd00::1%1]:5');
});
