import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interfacePrefix, parseResolvconf, resolvconfInput } from './dns.js';

test('interfacePrefix: the first interface-order pattern that is a name and *', () => {
  const debian = '# interface-order(5)\nlo.inet6\nlo.inet\nlo.@(dnsmasq|pdnsd)\nlo.!(pdns|pdns-recursor)\nlo\ntun*\ntap*\nhso*\nem+([0-9])?(_+([0-9]))*\n';
  assert.equal(interfacePrefix(debian), 'tun.');
  assert.equal(interfacePrefix('lo\neth*\n'), 'eth.');
  assert.equal(interfacePrefix('lo\n'), '');
  assert.equal(interfacePrefix(null), '');
});

test('resolvconfInput: nameserver lines, then one search line', () => {
  assert.equal(resolvconfInput(['10.0.0.53', 'fd00::53'], ['corp.example', 'example.org']), 'nameserver 10.0.0.53\nnameserver fd00::53\nsearch corp.example example.org\n');
  assert.equal(resolvconfInput(['1.1.1.1'], []), 'nameserver 1.1.1.1\n');
});

test('parseResolvconf reads back what resolvconf holds', () => {
  assert.deepEqual(parseResolvconf('# comment\nnameserver 10.0.0.53\nnameserver fe80::1%wg0\nsearch a.example b.example\n'), { servers: ['10.0.0.53', 'fe80::1%wg0'], search: ['a.example', 'b.example'] });
  assert.deepEqual(parseResolvconf(''), { servers: [], search: [] });
});
