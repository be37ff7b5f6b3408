import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEndpoint, splitHostPort } from './endpoint.js';

test('endpoints split as wg splits them: brackets, else the last colon', () => {
  assert.deepEqual(splitHostPort('192.0.2.1:51820'), { host: '192.0.2.1', port: '51820' });
  assert.deepEqual(splitHostPort('[fe80::1%eth0]:7'), { host: 'fe80::1%eth0', port: '7' });
  assert.deepEqual(splitHostPort('fd00::1:51820'), { host: 'fd00::1', port: '51820' });
  assert.deepEqual(splitHostPort('host.example:'), { host: 'host.example', port: '' });
  assert.deepEqual(splitHostPort('[fd00::1]:'), { host: 'fd00::1', port: '' });
  assert.equal(splitHostPort('[fd00::1:1'), null, 'no closing bracket');
  assert.equal(splitHostPort('[fd00::1]1'), null, 'no colon after the bracket');
  assert.equal(splitHostPort('1.2.3.4'), null, 'no port');
});

test('numeric endpoints print with brackets and a numeric scope for IPv6', () => {
  assert.equal(formatEndpoint({ family: 4, address: '192.0.2.1', port: 51820 }), '192.0.2.1:51820');
  assert.equal(formatEndpoint({ family: 6, address: 'fe80::1', port: 1, scopeId: 3 }), '[fe80::1%3]:1');
  assert.equal(formatEndpoint({ family: 6, address: 'fd00::1', port: 2 }), '[fd00::1]:2');
});
