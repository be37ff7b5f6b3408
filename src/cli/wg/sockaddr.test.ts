import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpv6 } from '../../text/ip.js';
import { formatSockAddr } from './sockaddr.js';

test('socket addresses print as wg prints endpoints', () => {
  const v6 = (s: string) => parseIpv6(s) as Uint8Array;
  assert.equal(formatSockAddr({ family: 4, addr: new Uint8Array([10, 0, 0, 1]), port: 51820, scopeId: 0 }), '10.0.0.1:51820');
  assert.equal(formatSockAddr({ family: 6, addr: v6('fd00::1'), port: 1, scopeId: 0 }), '[fd00::1]:1');
  assert.equal(formatSockAddr({ family: 6, addr: v6('::ffff:1.2.3.4'), port: 7, scopeId: 0 }), '[::ffff:1.2.3.4]:7');
  // Link-local scopes are named when the interface exists (lo is 1), others stay numeric.
  assert.equal(formatSockAddr({ family: 6, addr: v6('fe80::1'), port: 5, scopeId: 1 }), '[fe80::1%lo]:5');
  assert.equal(formatSockAddr({ family: 6, addr: v6('fe80::1'), port: 5, scopeId: 99999 }), '[fe80::1%99999]:5');
  assert.equal(formatSockAddr({ family: 6, addr: v6('fd00::1'), port: 5, scopeId: 1 }), '[fd00::1%1]:5');
});
