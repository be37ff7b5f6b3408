import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ferrySettings, parseHttpAddress } from './ferry-section.js';
import { isConfigError } from './issues.js';
import { parseConfig } from './parse.js';
import { stripConfig } from './strip.js';
import { PRIV } from '../../test/support/test-keys.js';

const IFACE = `[Interface]\nPrivateKey = ${PRIV}\n`;

function errorsOf(text: string): string[] {
  try {
    parseConfig(text, { file: 'wg0.conf' });
  } catch (err) {
    if (isConfigError(err)) return err.errors.map((e) => `${e.line}: ${e.message}`);
    throw err;
  }
  return [];
}

test('[Ferry] Http: the probe and metrics address, IPv4 or bracketed IPv6; stripped for wg', () => {
  const config = parseConfig(`${IFACE}\n[Ferry]\nHttp = 127.0.0.1:9586\n`);
  assert.deepEqual(ferrySettings(config), { http: { host: '127.0.0.1', port: 9586 } });
  assert.deepEqual(ferrySettings(parseConfig(`${IFACE}[ferry]\nhttp = [::]:80\n`)), { http: { host: '::', port: 80 } });
  assert.deepEqual(ferrySettings(parseConfig(IFACE)), { http: null });
  assert.doesNotMatch(stripConfig(config), /Ferry|Http/);
});

test('[Ferry]: unknown keys, repeats, bad addresses and a second section are errors with their lines', () => {
  assert.deepEqual(errorsOf(`${IFACE}[Ferry]\nHttp = 127.0.0.1:9586\nMetrics = on\n`), ['5: unknown key "Metrics" in [Ferry]: expected one of Http']);
  assert.deepEqual(errorsOf(`${IFACE}[Ferry]\nHttp = 127.0.0.1:1\nHttp = 127.0.0.1:2\n`), ['5: Http is given twice (first at line 4): expected it once per [Ferry]']);
  assert.deepEqual(errorsOf(`${IFACE}[Ferry]\nHttp = 127.0.0.1:1\n[Ferry]\n`), ['5: [Ferry] is given twice (first at line 3): expected one [Ferry] section']);
  assert.deepEqual(errorsOf(`${IFACE}[Ferry]\nHttp = localhost:9586\n`), ['4: Http: "localhost" is not an IP address: expected ADDRESS:PORT, e.g. 127.0.0.1:9586 or [::1]:9586']);
  assert.deepEqual(errorsOf(`${IFACE}[Ferry]\nHttp = 127.0.0.1:0\n`), ['4: Http: port 0 is out of range: expected 1-65535']);
  // A [Ferry…] section no feature of this build registered is an error too.
  assert.match(errorsOf(`${IFACE}[FerryNothing]\nAnything = 1\n`)[0], /^3: unknown section \[FerryNothing\]: expected one of .*\[Ferry\]/);
});

test('parseHttpAddress', () => {
  assert.deepEqual(parseHttpAddress('0.0.0.0:9586'), { host: '0.0.0.0', port: 9586 });
  assert.deepEqual(parseHttpAddress('[fd00::1]:65535'), { host: 'fd00::1', port: 65535 });
  for (const bad of ['9586', ':9586', '::1:9586', '[127.0.0.1]:80', '1.2.3.4:65536', '1.2.3.4:', '[::1]', '1.2.3.4:80:1']) {
    assert.ok('error' in parseHttpAddress(bad), bad);
  }
});
