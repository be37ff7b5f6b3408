import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrefix } from '../text/prefix.js';
import { deviceName } from './client.js';
import { parseGet, parseSetAnswer } from './get-parse.js';
import { allowedIpsOf, newDevice, newPeer } from './model.js';
import { formatSet } from './set-format.js';

const k = (n: number) => new Uint8Array(32).fill(n);
const h = (n: number) => Buffer.from(k(n)).toString('hex');

test('set requests carry wg’s lines in wg’s order', () => {
  const dev = newDevice();
  dev.privateKey = k(1);
  dev.listenPort = 51820;
  dev.fwmark = 0xffffffff;
  dev.replacePeers = true;
  const a = newPeer(k(2));
  a.presharedKey = k(3);
  a.endpoint = { family: 6, address: 'fd00::1', port: 1 };
  a.persistentKeepaliveInterval = 0;
  a.replaceAllowedIps = true;
  a.allowedIps.push(...allowedIpsOf([parsePrefix('10.0.0.1/8'), parsePrefix('fd00::/64')]));
  const b = newPeer(k(4));
  b.remove = true;
  b.presharedKey = k(5); // a removed peer sends nothing else
  dev.peers.push(a, b);
  assert.equal(
    formatSet(dev),
    [
      'set=1',
      `private_key=${h(1)}`,
      'listen_port=51820',
      'fwmark=4294967295',
      'replace_peers=true',
      `public_key=${h(2)}`,
      `preshared_key=${h(3)}`,
      'endpoint=[fd00::1]:1',
      'persistent_keepalive_interval=0',
      'replace_allowed_ips=true',
      'allowed_ip=10.0.0.1/8',
      'allowed_ip=fd00::/64',
      `public_key=${h(4)}`,
      'remove=true',
      '',
      '',
    ].join('\n'),
  );
  assert.equal(formatSet(newDevice()), 'set=1\n\n');
});

test('get answers are read as wg reads them', () => {
  const text = [
    `private_key=${h(1)}`,
    'listen_port=51820',
    'fwmark=7',
    'something_new=ignored',
    `public_key=${h(2)}`,
    `preshared_key=${'0'.repeat(64)}`,
    'protocol_version=1',
    'endpoint=[fe80::1%1]:9',
    'last_handshake_time_sec=1700000000',
    'last_handshake_time_nsec=5',
    'tx_bytes=18446744073709551615',
    'rx_bytes=99999999999999999999999',
    'persistent_keepalive_interval=25',
    'allowed_ip=10.0.0.0/8',
    'allowed_ip=10.0.0.0/264',
    `public_key=${h(3).toUpperCase()}`,
    `preshared_key=${h(4)}`,
    'errno=0',
    '',
    '',
  ].join('\n');
  const r = parseGet(text);
  assert.equal(r.errno, 0);
  const dev = r.device;
  assert.ok(dev);
  assert.equal(deviceName('a-very-long-interface-name'), 'a-very-long-int');
  assert.equal(dev.listenPort, 51820);
  assert.equal(dev.fwmark, 7);
  assert.equal(dev.publicKey?.length, 32);
  assert.equal(dev.peers.length, 2);
  const [p, q] = dev.peers;
  assert.equal(p.presharedKey, undefined, 'a zero preshared key is no key');
  assert.deepEqual(p.endpoint, { family: 6, address: 'fe80::1', port: 9, scopeId: 1 });
  assert.equal(p.lastHandshakeSec, 1700000000n);
  assert.equal(p.lastHandshakeNsec, 5n);
  assert.equal(p.txBytes, 18446744073709551615n);
  assert.equal(p.rxBytes, 18446744073709551615n, 'strtoull saturates, as in wg');
  assert.equal(p.persistentKeepaliveInterval, 25);
  assert.deepEqual(
    p.allowedIps.map((a) => a.prefix.cidr),
    [8, 8],
    'wg keeps the prefix length in a byte: 264 reads as 8',
  );
  assert.deepEqual(q.publicKey, new Uint8Array(32).fill(3));
  assert.deepEqual(q.presharedKey, new Uint8Array(32).fill(4));
});

test('a broken get answer is EPROTO, a daemon error is its errno', () => {
  const EPROTO = 71;
  const bad = [
    'listen_port=70000\nerrno=0\n\n',
    'listen_port=x\nerrno=0\n\n',
    'no equals sign\nerrno=0\n\n',
    `public_key=${h(2)}\nallowed_ip=10.0.0.0\nerrno=0\n\n`,
    `public_key=${h(2)}\nallowed_ip=10.0.0.0/33\nerrno=0\n\n`,
    `public_key=${h(2)}\nallowed_ip=1.2.3/8\nerrno=0\n\n`,
    'private_key=zz\nerrno=0\n\n',
    'errno=0\n', // no empty line
    '',
    '\n',
    'errno=-5\n\n', // wireguard-go's negative errno does not parse in wg either
    'listen_port=1\n\n', // no errno line
  ];
  for (const text of bad) assert.deepEqual(parseGet(text), { device: null, errno: EPROTO }, JSON.stringify(text));
  assert.deepEqual(parseGet('errno=22\n\n'), { device: null, errno: 22 });
  assert.equal(parseGet('errno=0\n\n').errno, 0);
  assert.equal(parseGet(`public_key=${h(2)}\nendpoint=nonsense:1\nerrno=0\n\n`).errno, 101);
});

test('set answers: errno=-N is N, anything else is EPROTO', () => {
  assert.equal(parseSetAnswer('errno=0\n\n'), 0);
  assert.equal(parseSetAnswer('errno=-22\n\n'), 22);
  assert.equal(parseSetAnswer('errno=-98'), 98);
  assert.equal(parseSetAnswer(''), 71);
  assert.equal(parseSetAnswer('garbage'), 71);
});
