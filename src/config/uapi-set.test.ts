import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Device } from '../uapi/model.js';
import { formatSet } from '../uapi/set-format.js';
import { parseSet } from '../uapi/set-parse.js';
import { requireHost, uniqueName } from '../../test/support/netns.js';
import { ConfigError } from './issues.js';
import { parseConfig } from './parse.js';
import { resolveEndpoints } from './resolve.js';
import { stripConfig } from './strip.js';
import { PEER_A, PEER_B, PRIV, PSK, testKeyHex } from '../../test/support/test-keys.js';
import { toUapiSet } from './uapi-set.js';
import '../../test/support/example-extensions.js';

/** The lines of the set request, between `set=1` and the empty line. */
const setLines = (change: Device) => formatSet(change).split('\n').slice(1, -2);

// Async on purpose: the socket answering wg lives in this process.
const run = promisify(execFile);

const FULL = `[Interface]
PrivateKey = ${PRIV}
FwMark = 0x10
Address = 10.0.0.1/24
[Peer]
PublicKey = ${PEER_A}
PresharedKey = ${PSK}
AllowedIPs = 10.0.0.1/24, fd00::0:0:1/64
AllowedIPs = 1.2.3.4, ::1.2.3.4/128
Endpoint = [FD00::1]:51820
PersistentKeepalive = off
[Peer]
PublicKey = ${PEER_B}
Endpoint = 192.0.2.7:7
`;

test('toUapiSet for setconf: device defaults sent, replace_peers, replace_allowed_ips per peer, wg order', () => {
  const lines = setLines(toUapiSet(parseConfig(FULL), { replacePeers: true }));
  assert.deepEqual(lines, [
    `private_key=${testKeyHex(0x11)}`,
    'listen_port=0',
    'fwmark=16',
    'replace_peers=true',
    `public_key=${testKeyHex(0x22)}`,
    `preshared_key=${testKeyHex(0x44)}`,
    'endpoint=[fd00::1]:51820',
    'persistent_keepalive_interval=0',
    'replace_allowed_ips=true',
    'allowed_ip=10.0.0.1/24',
    'allowed_ip=fd00::1/64',
    'allowed_ip=1.2.3.4/32',
    'allowed_ip=::1.2.3.4/128',
    `public_key=${testKeyHex(0x33)}`,
    'endpoint=192.0.2.7:7',
    'replace_allowed_ips=true',
  ]);
});

test('toUapiSet for addconf sends only what the file gives', () => {
  const c = parseConfig(`[Interface]\nListenPort = 9\n[Peer]\nPublicKey = ${PEER_A}\n`);
  assert.deepEqual(setLines(toUapiSet(c, { replacePeers: false })), ['listen_port=9', `public_key=${testKeyHex(0x22)}`, 'replace_allowed_ips=true']);
  assert.deepEqual(setLines(toUapiSet(parseConfig(''), { replacePeers: true })), [`private_key=${'0'.repeat(64)}`, 'listen_port=0', 'fwmark=0', 'replace_peers=true']);
});

test('toUapiSet agrees with the UAPI parser, and refuses an unresolved hostname with its line', async () => {
  const c = parseConfig(FULL);
  const change = toUapiSet(c, { replacePeers: true });
  assert.deepEqual(parseSet(setLines(change)), change);

  const named = parseConfig(`[Peer]\nPublicKey = ${PEER_A}\n\nEndpoint = vpn.example:51820\n`, { file: 'wg9.conf' });
  assert.throws(
    () => toUapiSet(named, { replacePeers: true }),
    (e: ConfigError) => e instanceof ConfigError && e.message === 'wg9.conf:4: Endpoint "vpn.example:51820" is not resolved yet: expected resolveEndpoints() before applying',
  );
  await resolveEndpoints(named, { lookup: async () => ({ address: '2001:db8::5', family: 6 }) });
  assert.ok(setLines(toUapiSet(named, { replacePeers: true })).includes('endpoint=[2001:db8::5]:51820'));
});

/** A stand-in UAPI socket at /var/run/wireguard/NAME.sock that records what wg sends and answers errno=0. */
async function recordingSocket(t: { after(fn: () => void | Promise<void>): void }, name: string): Promise<string[]> {
  const bodies: string[] = [];
  mkdirSync('/var/run/wireguard', { recursive: true });
  const path = `/var/run/wireguard/${name}.sock`;
  const server = createServer((c) => {
    let buf = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      buf += d;
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        bodies.push(buf.slice(0, end + 2));
        buf = buf.slice(end + 2);
        c.write('errno=0\n\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        rmSync(path, { force: true });
      }),
  );
  return bodies;
}

test('what the real `wg setconf` / `wg addconf` send equals toUapiSet of the same file', async (t) => {
  if (!requireHost(t, ['wg'])) return;
  const name = uniqueName('fycfg');
  const bodies = await recordingSocket(t, name);
  const dir = mkdtempSync(join(tmpdir(), 'ferry-config-wg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  writeFileSync(join(dir, 'wg.key'), `${PRIV}\n`, { mode: 0o600 });
  const quick = `# a wg-quick file with ferry extensions
[Interface]
PrivateKeyFile = wg.key
ListenPort = 51820
Address = 10.0.0.1/24
DNS = 1.1.1.1
PostUp = echo up
[FerryExample]
Value = 1
[Peer]
PublicKey = ${PEER_A}
AllowedIPs = 10.0.0.2/32
Endpoint = 127.0.0.1:51821
PersistentKeepalive = 25
`;
  const files: [string, string][] = [
    ['full', FULL],
    ['peer-only', `[Peer]\nPublicKey = ${PEER_B}\n`],
    ['empty', ''],
    ['quick-stripped', quick],
  ];
  for (const [label, text] of files) {
    const config = parseConfig(text, { file: join(dir, 'wg0.conf') });
    // wg reads only its own keys: give it what `ferry strip` prints (the same text for the wg-only files).
    const file = join(dir, `${label}.conf`);
    writeFileSync(file, stripConfig(config), { mode: 0o600 });
    for (const [verb, replacePeers] of [['setconf', true], ['addconf', false]] as const) {
      const before = bodies.length;
      await run('wg', [verb, name, file]);
      assert.equal(bodies.length, before + 1, `${label}: wg ${verb} sent one operation`);
      const expected = formatSet(toUapiSet(config, { replacePeers }));
      assert.equal(bodies[before], expected, `${label}: wg ${verb}`);
      assert.deepEqual(parseSet(bodies[before].trim().split('\n').slice(1)), toUapiSet(config, { replacePeers }));
    }
  }
});
