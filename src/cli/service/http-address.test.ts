import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config/parse.js';
import { PRIV } from '../../../test/support/test-keys.js';
import { httpAddressFor } from './http-address.js';

const withHttp = parseConfig(`[Interface]\nPrivateKey = ${PRIV}\n[Ferry]\nHttp = 127.0.0.1:9586\n`);
const without = parseConfig(`[Interface]\nPrivateKey = ${PRIV}\n`);

test('FERRY_HTTP wins over [Ferry] Http; empty turns it off; nothing given is off', () => {
  assert.deepEqual(httpAddressFor({}, withHttp), { http: { host: '127.0.0.1', port: 9586 } });
  assert.deepEqual(httpAddressFor({ FERRY_HTTP: '[::]:80' }, withHttp), { http: { host: '::', port: 80 } });
  assert.deepEqual(httpAddressFor({ FERRY_HTTP: '' }, withHttp), { http: null });
  assert.deepEqual(httpAddressFor({}, without), { http: null });
  assert.deepEqual(httpAddressFor({}, null), { http: null });
  assert.deepEqual(httpAddressFor({ FERRY_HTTP: '0.0.0.0:9586' }, null), { http: { host: '0.0.0.0', port: 9586 } });
  assert.match((httpAddressFor({ FERRY_HTTP: 'localhost:1' }, null) as { error: string }).error, /^FERRY_HTTP: "localhost" is not an IP address/);
});
