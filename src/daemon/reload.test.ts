import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { formatEndpoint } from '../io/endpoint.js';
import { formatPrefix } from '../wireguard/allowed-ips.js';
import { formatKeyBase64 } from '../wireguard/keys.js';
import { closeAndCheck, handshake, makePair } from '../../test/support/wg-device-harness.js';
import { testKey } from '../../test/support/test-keys.js';
import { initCrypto } from '../wireguard/crypto.js';
import { installReload, reloadConfig } from './reload.js';
import { DeviceUapiBackend } from './uapi-backend.js';
import { newDevice } from '../uapi/model.js';
import '../../test/support/example-extensions.js';

function memoryLogger() {
  const lines: { level: number; msg: string; line?: number }[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines, errors: () => lines.filter((l) => l.level >= 50).map((l) => l.msg) };
}

function tempFile(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-reload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'wg0.conf');
}

const PEER_C = testKey(0x55);

before(() => initCrypto());

test('reload: a new peer and changed allowed IPs are applied; the unchanged session stays', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  await handshake(p);
  const { dev } = p.a;
  const peerB = p.a.peer;
  const session = peerB.keypairs.current;
  const handshakeAt = peerB.lastHandshakeWallMs;
  assert.notEqual(session, null, 'a session to keep');
  assert.ok(handshakeAt > 0);

  const file = tempFile(t);
  writeFileSync(
    file,
    `[Interface]
PrivateKey = ${formatKeyBase64(dev.getPrivateKey() as Uint8Array)}
Address = 10.0.0.1/24
PostUp = this is never run by a reload

[Peer]
PublicKey = ${formatKeyBase64(peerB.publicKey)}
AllowedIPs = 10.0.0.2/32, fd00::2/128, 10.50.0.0/16
Endpoint = ${formatEndpoint(p.b.local)}

[Peer]
PublicKey = ${PEER_C}
AllowedIPs = 10.0.0.3/32

[FerryExample]
Value = 42
`,
    { mode: 0o600 },
  );
  const backend = new DeviceUapiBackend(dev, () => {
    throw new Error('the listen port must not change');
  });
  const { logger, errors } = memoryLogger();
  const result = await reloadConfig(file, backend, logger);
  assert.deepEqual(errors(), []);
  assert.deepEqual(result, { ok: true, peersChanged: 2, errors: [] });
  assert.equal(dev.getPeer(peerB.publicKey), peerB, 'same peer object');
  assert.equal(peerB.keypairs.current, session, 'same session');
  assert.equal(peerB.lastHandshakeWallMs, handshakeAt);
  assert.deepEqual(dev.allowedIpsOf(peerB).map(formatPrefix).sort(), ['10.0.0.2/32', '10.50.0.0/16', 'fd00::2/128']);
  assert.equal(dev.peerCount, 2);

  // The same file again: nothing to do.
  assert.deepEqual(await reloadConfig(file, backend, logger), { ok: true, peersChanged: 0, errors: [] });
});

test('reload: a file with an error changes nothing and logs file:line', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  const { dev } = p.a;
  const file = tempFile(t);
  writeFileSync(
    file,
    `[Interface]
PrivateKey = ${formatKeyBase64(dev.getPrivateKey() as Uint8Array)}
ListenPort = 70000
[Peer]
PublicKey = ${PEER_C}
AllowedIPs = 10.0.0.3/32
`,
  );
  const before = new DeviceUapiBackend(dev, () => {
    throw new Error('unused');
  });
  const text = (_k: string, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? String(v) : v);
  const state = JSON.stringify(before.get(), text);
  const { logger, errors } = memoryLogger();
  const bad = await reloadConfig(file, before, logger);
  assert.deepEqual({ ...bad, errors: [] }, { ok: false, peersChanged: 0, errors: [] });
  assert.match(bad.errors[0], /wg0\.conf:3: ListenPort "70000" is out of range/);
  assert.equal(JSON.stringify(before.get(), text), state);
  assert.match(errors()[0], new RegExp(`^reload: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: ListenPort "70000" is out of range`));
  assert.match(errors().at(-1) ?? '', /nothing was changed/);

  rmSync(file);
  const gone = await reloadConfig(file, before, logger);
  assert.equal(gone.ok, false);
  assert.match(gone.errors[0], /wg0\.conf: does not exist/);
  assert.match(errors().at(-2) ?? '', /wg0\.conf: does not exist/);
});

test('installReload: without FERRY_CONFIG_FILE a SIGHUP only says why; reloads never overlap', async (t) => {
  const { logger, lines } = memoryLogger();
  let sets = 0;
  const backend = { get: () => ({ ...newDevice(), listenPort: 0, fwmark: 0 }), set: () => void sets++ };
  await installReload(backend, logger, {}, false)();
  assert.match(lines.at(-1)?.msg ?? '', /SIGHUP ignored: no FERRY_CONFIG_FILE/);

  const file = tempFile(t);
  writeFileSync(file, `[Peer]\nPublicKey = ${PEER_C}\n`);
  const reload = installReload(backend, logger, { FERRY_CONFIG_FILE: file }, false);
  await Promise.all([reload(), reload(), reload()]);
  const starts = lines.filter((l) => l.msg === 'reloading the config file').length;
  assert.equal(starts, 2, 'one reload, then one more for the signals that came during it');
  assert.equal(sets, 2);
});
