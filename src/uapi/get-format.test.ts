import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrefix } from '../text/prefix.js';
import { formatGet, handshakeTime } from './get-format.js';
import { parseGet } from './get-parse.js';
import { allowedIpsOf, newDevice, newPeer, type Device } from './model.js';

const K1 = 'e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a';
const K2 = 'b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33';

test('formats a get answer in wireguard-go order', () => {
  const { sec, nsec } = handshakeTime(1_700_000_000_123.5);
  const text = formatGet({
    privateKey: Buffer.from(K1, 'hex'),
    listenPort: 51820,
    fwmark: 0,
    replacePeers: false,
    peers: [
      {
        ...newPeer(Buffer.from(K2, 'hex')),
        endpoint: { family: 4, address: '192.0.2.1', port: 51820 },
        lastHandshakeSec: sec,
        lastHandshakeNsec: nsec,
        txBytes: 10n,
        rxBytes: 20n,
        persistentKeepaliveInterval: 0,
        allowedIps: allowedIpsOf([parsePrefix('10.0.0.0/24'), parsePrefix('fd00::/64')]),
      },
    ],
  });
  assert.equal(
    text,
    [
      `private_key=${K1}`,
      'listen_port=51820',
      `public_key=${K2}`,
      `preshared_key=${'0'.repeat(64)}`,
      'protocol_version=1',
      'endpoint=192.0.2.1:51820',
      'last_handshake_time_sec=1700000000',
      'last_handshake_time_nsec=123500000',
      'tx_bytes=10',
      'rx_bytes=20',
      'persistent_keepalive_interval=0',
      'allowed_ip=10.0.0.0/24',
      'allowed_ip=fd00::/64',
      '',
    ].join('\n'),
  );
  assert.equal(formatGet(newDevice()), '');
});

test('the reader reads back what the daemon writes', () => {
  const dev: Device = {
    privateKey: new Uint8Array(32).fill(1),
    listenPort: 51820,
    fwmark: 51820,
    replacePeers: false,
    peers: [
      {
        ...newPeer(new Uint8Array(32).fill(2)),
        presharedKey: new Uint8Array(32).fill(3),
        endpoint: { family: 4, address: '192.0.2.1', port: 51820 },
        lastHandshakeSec: 1_700_000_000n,
        lastHandshakeNsec: 123_000_000n,
        txBytes: 10n,
        rxBytes: 20n,
        persistentKeepaliveInterval: 25,
        allowedIps: allowedIpsOf([parsePrefix('10.0.0.0/24'), parsePrefix('fd00::/64')]),
      },
      {
        ...newPeer(new Uint8Array(32).fill(4)),
        endpoint: { family: 6, address: 'fd00::9', port: 1 },
        lastHandshakeSec: 0n,
        lastHandshakeNsec: 0n,
        txBytes: 0n,
        rxBytes: 0n,
        persistentKeepaliveInterval: 0,
      },
    ],
  };
  const r = parseGet(`${formatGet(dev)}errno=0\n\n`);
  assert.ok(r.device);
  const { publicKey, ...read } = r.device;
  assert.equal(publicKey?.length, 32, 'the reader derives the public key');
  assert.deepEqual(read, dev);
});

test('the reader: an empty device, unknown keys skipped', () => {
  assert.deepEqual(parseGet('errno=0\n\n').device, newDevice());
  assert.equal(parseGet('listen_port=5\nfuture_key=1\nerrno=0\n\n').device?.listenPort, 5);
});
