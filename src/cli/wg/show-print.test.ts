import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initCrypto } from '../../wireguard/crypto.js';
import { formatKeyBase64 } from '../../wireguard/keys.js';
import { serializeConfig } from '../../config/showconf.js';
import { parsePrefix } from '../../text/prefix.js';
import { allowedIpsOf, newDevice, newPeer, type Device } from '../../uapi/model.js';
import { dumpPrint, prettyPrint, sortPeers, uglyPrint } from './show-print.js';

before(() => initCrypto());

const k = (n: number) => new Uint8Array(32).fill(n);
const b64 = (n: number) => formatKeyBase64(k(n));
const NOW = 1_700_000_000n;

function sample(): Device {
  const d = newDevice();
  d.privateKey = k(1);
  d.publicKey = k(2);
  d.listenPort = 51820;
  d.fwmark = 0x1234;
  const old = newPeer(k(3));
  old.endpoint = { family: 4, address: '10.0.0.2', port: 51820 };
  old.allowedIps.push(...allowedIpsOf([parsePrefix('10.1.0.0/16'), parsePrefix('fd00::/64')]));
  old.lastHandshakeSec = NOW - 3661n;
  old.rxBytes = 1152n;
  old.txBytes = 5n * 1024n * 1024n;
  old.persistentKeepaliveInterval = 25;
  old.presharedKey = k(4);
  const never = newPeer(k(5));
  const recent = newPeer(k(6));
  recent.endpoint = { family: 6, address: 'fd00::2', port: 1 };
  recent.lastHandshakeSec = NOW - 65n;
  recent.txBytes = 1n;
  d.peers.push(old, never, recent);
  return d;
}

test('pretty output, without colours, is wg’s', () => {
  const text = prettyPrint('wg0', sample(), { env: {}, color: false, nowSec: NOW });
  assert.equal(
    text,
    `interface: wg0
  public key: ${b64(2)}
  private key: (hidden)
  listening port: 51820
  fwmark: 0x1234

peer: ${b64(6)}
  endpoint: [fd00::2]:1
  allowed ips: (none)
  latest handshake: 1 minute, 5 seconds ago
  transfer: 0 B received, 1 B sent

peer: ${b64(3)}
  preshared key: (hidden)
  endpoint: 10.0.0.2:51820
  allowed ips: 10.1.0.0/16, fd00::/64
  latest handshake: 1 hour, 1 minute, 1 second ago
  transfer: 1.12 KiB received, 5.00 MiB sent
  persistent keepalive: every 25 seconds

peer: ${b64(5)}
  allowed ips: (none)
`,
  );
  assert.ok(!text.includes('\x1b'), 'no escape codes when not a terminal');
  const shown = prettyPrint('wg0', sample(), { env: { WG_HIDE_KEYS: 'never' }, color: false, nowSec: NOW });
  assert.ok(shown.includes(`  private key: ${b64(1)}\n`) && shown.includes(`  preshared key: ${b64(4)}\n`));
});

test('pretty output in colour carries wg’s escape codes', () => {
  const text = prettyPrint('wg0', sample(), { env: {}, color: true, nowSec: NOW });
  assert.ok(text.startsWith(`\x1b[0m\x1b[32m\x1b[1minterface\x1b[0m: \x1b[32mwg0\x1b[0m\n  \x1b[1mpublic key\x1b[0m: ${b64(2)}\n`));
  assert.ok(text.includes(`\x1b[33m\x1b[1mpeer\x1b[0m: \x1b[33m${b64(6)}\x1b[0m\n`));
  assert.ok(text.includes('10.1.0.0\x1b[36m/\x1b[0m16, fd00::\x1b[36m/\x1b[0m64\n'));
});

test('an interface without peers has no blank line after it', () => {
  const d = newDevice();
  assert.equal(prettyPrint('wg1', d, { env: {}, color: false, nowSec: NOW }), 'interface: wg1\n');
});

test('dump and single fields, tab-separated, in the daemon’s peer order', () => {
  const d = sample();
  assert.equal(
    dumpPrint('wg0', d, false),
    `${b64(1)}\t${b64(2)}\t51820\t0x1234\n` +
      `${b64(3)}\t${b64(4)}\t10.0.0.2:51820\t10.1.0.0/16,fd00::/64\t${NOW - 3661n}\t1152\t5242880\t25\n` +
      `${b64(5)}\t(none)\t(none)\t(none)\t0\t0\t0\toff\n` +
      `${b64(6)}\t(none)\t[fd00::2]:1\t(none)\t${NOW - 65n}\t0\t1\toff\n`,
  );
  assert.equal(uglyPrint('wg0', d, 'public-key', true), `wg0\t${b64(2)}\n`);
  assert.equal(uglyPrint('wg0', d, 'private-key', false), `${b64(1)}\n`);
  assert.equal(uglyPrint('wg0', d, 'listen-port', false), '51820\n');
  assert.equal(uglyPrint('wg0', d, 'fwmark', false), '0x1234\n');
  assert.equal(uglyPrint('x', newDevice(), 'fwmark', false), 'off\n');
  assert.equal(uglyPrint('x', newDevice(), 'listen-port', false), '0\n');
  assert.equal(uglyPrint('x', newDevice(), 'private-key', false), '(none)\n');
  assert.equal(uglyPrint('wg0', d, 'peers', false), `${b64(3)}\n${b64(5)}\n${b64(6)}\n`);
  assert.equal(uglyPrint('wg0', d, 'allowed-ips', false), `${b64(3)}\t10.1.0.0/16 fd00::/64\n${b64(5)}\t(none)\n${b64(6)}\t(none)\n`);
  // wg 1.0.20210914 names the interface once for `endpoints` (and leaves "name\t" for one without peers).
  assert.equal(uglyPrint('wg0', d, 'endpoints', true), `wg0\t${b64(3)}\t10.0.0.2:51820\n${b64(5)}\t(none)\n${b64(6)}\t[fd00::2]:1\n`);
  assert.equal(uglyPrint('wg9', newDevice(), 'endpoints', true), 'wg9\t');
  assert.equal(uglyPrint('wg0', d, 'endpoints', false), `${b64(3)}\t10.0.0.2:51820\n${b64(5)}\t(none)\n${b64(6)}\t[fd00::2]:1\n`);
  assert.equal(uglyPrint('wg0', d, 'latest-handshakes', false), `${b64(3)}\t${NOW - 3661n}\n${b64(5)}\t0\n${b64(6)}\t${NOW - 65n}\n`);
  assert.equal(uglyPrint('wg0', d, 'transfer', false), `${b64(3)}\t1152\t5242880\n${b64(5)}\t0\t0\n${b64(6)}\t0\t1\n`);
  assert.equal(uglyPrint('wg0', d, 'persistent-keepalive', false), `${b64(3)}\t25\n${b64(5)}\toff\n${b64(6)}\toff\n`);
  assert.equal(uglyPrint('wg0', d, 'preshared-keys', false), `${b64(3)}\t${b64(4)}\n${b64(5)}\t(none)\n${b64(6)}\t(none)\n`);
  assert.equal(uglyPrint('wg0', d, 'dump', true)?.split('\n')[0], `wg0\t${b64(1)}\t${b64(2)}\t51820\t0x1234`);
  assert.equal(uglyPrint('wg0', d, 'bogus', false), null);
});

test('peers sort by latest handshake, newest first, never-handshaken last, ties kept in order', () => {
  const mk = (id: number, sec: bigint, nsec = 0n) => Object.assign(newPeer(k(id)), { lastHandshakeSec: sec, lastHandshakeNsec: nsec });
  const peers = [mk(1, 0n), mk(2, 100n), mk(3, 0n), mk(4, 200n), mk(5, 100n, 7n), mk(6, 100n), mk(7, 0n, 1n)];
  assert.deepEqual(
    sortPeers(peers).map((p) => p.publicKey[0]),
    [4, 5, 2, 6, 7, 1, 3],
  );
});

test('showconf text is wg’s', () => {
  assert.equal(
    serializeConfig(sample()),
    `[Interface]
ListenPort = 51820
FwMark = 0x1234
PrivateKey = ${b64(1)}

[Peer]
PublicKey = ${b64(3)}
PresharedKey = ${b64(4)}
AllowedIPs = 10.1.0.0/16, fd00::/64
Endpoint = 10.0.0.2:51820
PersistentKeepalive = 25

[Peer]
PublicKey = ${b64(5)}

[Peer]
PublicKey = ${b64(6)}
Endpoint = [fd00::2]:1
`,
  );
  assert.equal(serializeConfig(newDevice()), '[Interface]\n\n');
});
