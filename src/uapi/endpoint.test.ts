import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatWgEndpoint, numericHost } from './endpoint.js';

test('socket addresses print as wg prints endpoints', () => {
  assert.equal(formatWgEndpoint({ family: 4, address: '10.0.0.1', port: 51820 }), '10.0.0.1:51820');
  assert.equal(formatWgEndpoint({ family: 6, address: 'fd00::1', port: 1 }), '[fd00::1]:1');
  assert.equal(formatWgEndpoint({ family: 6, address: '::ffff:1.2.3.4', port: 7 }), '[::ffff:1.2.3.4]:7');
  // Link-local scopes are named when the interface exists (lo is 1), others stay numeric.
  assert.equal(formatWgEndpoint({ family: 6, address: 'fe80::1', port: 5, scopeId: 1 }), '[fe80::1%lo]:5');
  assert.equal(formatWgEndpoint({ family: 6, address: 'fe80::1', port: 5, scopeId: 99999 }), '[fe80::1%99999]:5');
  assert.equal(formatWgEndpoint({ family: 6, address: 'fd00::1', port: 5, scopeId: 1 }), '[fd00::1%1]:5');
});

test('numeric hosts as getaddrinfo reads them: normalized text, scopes by name or number', () => {
  assert.deepEqual(numericHost('10.0.0.1'), { family: 4, address: '10.0.0.1' });
  assert.deepEqual(numericHost('FD00:0::1'), { family: 6, address: 'fd00::1' });
  assert.deepEqual(numericHost('fe80::1%lo'), { family: 6, address: 'fe80::1', scopeId: 1 });
  assert.deepEqual(numericHost('fe80::1%7'), { family: 6, address: 'fe80::1', scopeId: 7 });
  assert.equal(numericHost('fe80::1%no-such-interface'), null);
  assert.equal(numericHost('010.0.0.1'), null);
  assert.equal(numericHost('host.example'), null);
});
