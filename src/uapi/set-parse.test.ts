import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UapiErrno, UapiError } from './errors.js';
import { parseEndpoint, parseSet } from './set-parse.js';

const K1 = 'e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a';
const K2 = 'b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33';

function errnoOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UapiError, String(err));
    return err.errno;
  }
  assert.fail('expected a UapiError');
}

test('parses a full set operation as wg sends it', () => {
  const c = parseSet([
    `private_key=${K1}`,
    'listen_port=51820',
    'fwmark=4660',
    'replace_peers=true',
    `public_key=${K2}`,
    `preshared_key=${K1}`,
    'endpoint=[fd00::1]:12912',
    'persistent_keepalive_interval=25',
    'replace_allowed_ips=true',
    'allowed_ip=10.0.0.0/24',
    'allowed_ip=-10.1.0.0/16',
    'allowed_ip=fd00::/64',
    'protocol_version=1',
    `public_key=${K1}`,
    'remove=true',
  ]);
  assert.equal(c.listenPort, 51820);
  assert.equal(c.fwmark, 4660);
  assert.equal(c.replacePeers, true);
  assert.equal(c.peers.length, 2);
  const p = c.peers[0];
  assert.deepEqual(p.endpoint, { family: 6, address: 'fd00::1', port: 12912 });
  assert.equal(p.persistentKeepaliveInterval, 25);
  assert.equal(p.replaceAllowedIps, true);
  assert.deepEqual(
    p.allowedIps.map((a) => [a.remove, a.prefix.cidr]),
    [
      [false, 24],
      [true, 16],
      [false, 64],
    ],
  );
  assert.equal(c.peers[1].remove, true);
});

test('rejects malformed set operations with the errno wg reports', () => {
  const cases: [string[], number][] = [
    [['bogus=1'], UapiErrno.Invalid],
    [['private_key=abc'], UapiErrno.Invalid],
    [[`private_key=${K1.slice(0, 63)}g`], UapiErrno.Invalid],
    [['listen_port=65536'], UapiErrno.Invalid],
    [['listen_port=-1'], UapiErrno.Invalid],
    [['fwmark=0x10'], UapiErrno.Invalid],
    [['replace_peers=yes'], UapiErrno.Invalid],
    [['no equals sign'], UapiErrno.Protocol],
    [['=value'], UapiErrno.Protocol],
    [[`public_key=${K2}`, 'endpoint=1.2.3.4'], UapiErrno.Invalid],
    [[`public_key=${K2}`, 'endpoint=host.example:1'], UapiErrno.Invalid],
    [[`public_key=${K2}`, 'endpoint=[fd00::1:1'], UapiErrno.Invalid],
    [[`public_key=${K2}`, 'allowed_ip=10.0.0.0/33'], UapiErrno.Invalid],
    [[`public_key=${K2}`, 'allowed_ip=10.0.0.0'], UapiErrno.Invalid],
    [[`public_key=${K2}`, 'protocol_version=2'], UapiErrno.Invalid],
    [[`public_key=${K2}`, 'persistent_keepalive_interval=70000'], UapiErrno.Invalid],
    [[`public_key=${K2}`, 'listen_port=1'], UapiErrno.Invalid],
  ];
  for (const [lines, errno] of cases) assert.equal(errnoOf(() => parseSet(lines)), errno, lines.join(' | '));
});

test('endpoint forms', () => {
  assert.deepEqual(parseEndpoint('192.0.2.1:51820'), { family: 4, address: '192.0.2.1', port: 51820 });
  assert.deepEqual(parseEndpoint('[fe80::1%2]:1'), { family: 6, address: 'fe80::1', port: 1, scopeId: 2 });
  assert.deepEqual(parseEndpoint('[fe80::1%lo]:1'), { family: 6, address: 'fe80::1', port: 1, scopeId: 1 });
  assert.throws(() => parseEndpoint('[fe80::1%nosuchif0]:1'), /no interface "nosuchif0"/);
});
