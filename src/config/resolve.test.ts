import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './parse.js';
import { ConfigError } from './issues.js';
import { resolveEndpoints, retriesFromEnv } from './resolve.js';
import { PEER_A, PEER_B, testKey } from '../../test/support/test-keys.js';

function failure(code: string): Error {
  return Object.assign(new Error(`lookup failed: ${code}`), { code });
}

const noSleep = async () => {};

test('hostnames resolve to the first address; literals are left alone', async () => {
  const asked: string[] = [];
  const c = parseConfig(`[Peer]\nPublicKey = ${PEER_A}\nEndpoint = vpn.example:51820\n[Peer]\nPublicKey = ${PEER_B}\nEndpoint = 192.0.2.1:1\n`);
  await resolveEndpoints(c, {
    lookup: async (host) => {
      asked.push(host);
      return { address: '2001:DB8::7', family: 6 };
    },
  });
  assert.deepEqual(asked, ['vpn.example']);
  assert.deepEqual(c.peers[0].endpoint?.address, { family: 6, address: '2001:db8::7', port: 51820 });
  assert.deepEqual(c.peers[1].endpoint?.address, { family: 4, address: '192.0.2.1', port: 1 });
});

test('every failure is reported with the line of its Endpoint; a missing name is not retried', async () => {
  const c = parseConfig(
    `[Peer]\nPublicKey = ${PEER_A}\nEndpoint = gone.example:1\n[Peer]\nPublicKey = ${PEER_B}\n\nEndpoint = flaky.example:2\n[Peer]\nPublicKey = ${testKey(9)}\nEndpoint = ok.example:3\n`,
    { file: 'wg0.conf' },
  );
  const calls = new Map<string, number>();
  const pauses: number[] = [];
  const err = await resolveEndpoints(c, {
    retries: 3,
    sleep: async (ms) => void pauses.push(ms),
    lookup: async (host) => {
      calls.set(host, (calls.get(host) ?? 0) + 1);
      if (host === 'gone.example') throw failure('ENOTFOUND');
      if (host === 'flaky.example') throw failure('EAI_AGAIN');
      return { address: '192.0.2.3', family: 4 };
    },
  }).then(
    () => assert.fail('resolved'),
    (e: unknown) => e as ConfigError,
  );
  assert.ok(err instanceof ConfigError);
  assert.deepEqual(
    err.message.split('\n'),
    [
      'wg0.conf:3: Endpoint "gone.example:1" could not be resolved (ENOTFOUND): expected a name that resolves to an IPv4 or IPv6 address',
      'wg0.conf:7: Endpoint "flaky.example:2" could not be resolved (EAI_AGAIN): expected a name that resolves to an IPv4 or IPv6 address',
    ],
  );
  assert.equal(calls.get('gone.example'), 1, 'permanent: no retry');
  assert.equal(calls.get('flaky.example'), 4, 'transient: 1 try + 3 retries');
  assert.deepEqual(pauses, [1000, 1200, 1440], "wg's growing pause");
});

test('a transient failure that clears is retried into success', async () => {
  const c = parseConfig(`[Peer]\nPublicKey = ${PEER_A}\nEndpoint = late.example:9\n`);
  let n = 0;
  await resolveEndpoints(c, {
    sleep: noSleep,
    lookup: async () => {
      if (++n < 3) throw failure('EAI_AGAIN');
      return { address: '192.0.2.9', family: 4 };
    },
  });
  assert.equal(n, 3);
  assert.equal(c.peers[0].endpoint?.address?.address, '192.0.2.9');
});

test('a named IPv6 scope becomes the interface index', async () => {
  const c = parseConfig(`[Peer]\nPublicKey = ${PEER_A}\nEndpoint = [fe80::1%lo]:7\n[Peer]\nPublicKey = ${PEER_B}\nEndpoint = [fe80::2%nosuchif0]:7\n`, { file: 'w.conf' });
  await assert.rejects(
    resolveEndpoints(c, { ifindex: (name) => (name === 'lo' ? 1 : null) }),
    (e: ConfigError) => e.message === 'w.conf:6: Endpoint "[fe80::2%nosuchif0]:7": there is no interface "nosuchif0" for the scope: expected an existing interface or its index',
  );
  assert.deepEqual(c.peers[0].endpoint?.address, { family: 6, address: 'fe80::1', port: 7, scopeId: 1 });
  // The default reads /sys/class/net: loopback exists everywhere.
  const lo = parseConfig(`[Peer]\nPublicKey = ${PEER_A}\nEndpoint = [fe80::1%lo]:7\n`);
  await resolveEndpoints(lo);
  assert.equal(typeof lo.peers[0].endpoint?.address?.scopeId, 'number');
});

test('the real resolver answers localhost from /etc/hosts', async () => {
  const c = parseConfig(`[Peer]\nPublicKey = ${PEER_A}\nEndpoint = localhost:51820\n`);
  await resolveEndpoints(c, { retries: 0 });
  const ep = c.peers[0].endpoint?.address;
  assert.ok(ep !== null && ep !== undefined);
  assert.ok(ep.address === '127.0.0.1' || ep.address === '::1', ep.address);
  assert.equal(ep.port, 51820);
});

test('WG_ENDPOINT_RESOLUTION_RETRIES is read as wg reads it', () => {
  assert.equal(retriesFromEnv({}), 15);
  assert.equal(retriesFromEnv({ WG_ENDPOINT_RESOLUTION_RETRIES: '3' }), 3);
  assert.equal(retriesFromEnv({ WG_ENDPOINT_RESOLUTION_RETRIES: 'infinity' }), Number.POSITIVE_INFINITY);
  assert.throws(() => retriesFromEnv({ WG_ENDPOINT_RESOLUTION_RETRIES: 'lots' }), ConfigError);
});
