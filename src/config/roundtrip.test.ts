import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Endpoint } from '../text/endpoint.js';
import { parseConfig } from './parse.js';
import { formatSavedConfig, serializeConfig, stateFromConfig } from './showconf.js';
import { stripConfig } from './strip.js';
import '../../test/support/example-extensions.js';
import { formatIp } from '../text/ip.js';
import type { IpPrefix } from '../text/prefix.js';
import { allowedIpsOf, newPeer, type Device, type Peer } from '../uapi/model.js';

const key = fc.uint8Array({ minLength: 32, maxLength: 32 });

const prefix: fc.Arbitrary<IpPrefix> = fc.oneof(
  fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 32 })).map(([bytes, cidr]) => ({ family: 4 as const, bytes, cidr })),
  fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 })).map(([bytes, cidr]) => ({ family: 6 as const, bytes, cidr })),
);

const endpoint: fc.Arbitrary<Endpoint> = fc.oneof(
  fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([address, port]) => ({ family: 4 as const, address, port })),
  // A device reports endpoints in canonical form (inet_ntop), so generate them so.
  fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 1, max: 65535 })).map(([bytes, port]) => ({ family: 6 as const, address: formatIp(6, bytes), port })),
);

const peer: fc.Arbitrary<Peer> = fc
  .record({
    publicKey: key,
    presharedKey: fc.option(key, { nil: undefined }),
    endpoint: fc.option(endpoint, { nil: undefined }),
    persistentKeepaliveInterval: fc.integer({ min: 0, max: 65535 }),
    allowedIps: fc.array(prefix, { maxLength: 6 }),
  })
  .map((r) => ({ ...newPeer(r.publicKey), ...r, allowedIps: allowedIpsOf(r.allowedIps) }));

const state: fc.Arbitrary<Device> = fc.record({
  privateKey: fc.option(key, { nil: undefined }),
  listenPort: fc.integer({ min: 0, max: 65535 }),
  fwmark: fc.nat({ max: 0xffffffff }),
  replacePeers: fc.constant(false),
  peers: fc.uniqueArray(peer, { maxLength: 5, selector: (p) => Buffer.from(p.publicKey).toString('hex') }),
});

const words = fc.stringMatching(/^[a-z][a-z0-9 _%-]{0,20}[a-z0-9]$/);

test('any device state: showconf text parses back to the same text (and strips to itself)', () => {
  fc.assert(
    fc.property(state, (s) => {
      const text = serializeConfig(s);
      const config = parseConfig(text, { file: 'p.conf' });
      assert.equal(serializeConfig(stateFromConfig(config)), text);
      // showconf output holds only wg keys: strip leaves it as it is, plus echo's newline.
      assert.equal(stripConfig(config), `${text}\n`);
    }),
    { numRuns: 300 },
  );
});

test('any saved file (wg-quick keys, hooks, Ferry sections) is a fixed point of parse → save', () => {
  const quick = fc.record({
    addresses: fc.array(prefix, { maxLength: 3 }),
    dns: fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 2 }),
    dnsSearch: fc.array(fc.domain(), { maxLength: 2 }),
    mtu: fc.option(fc.integer({ min: 68, max: 65535 }), { nil: null }),
    table: fc.option(fc.constantFrom('off', 'auto', 'main', '51820'), { nil: null }),
    saveConfig: fc.boolean(),
    offload: fc.option(fc.boolean(), { nil: null }),
    preUp: fc.array(words, { maxLength: 2 }),
    postUp: fc.array(words, { maxLength: 2 }),
    preDown: fc.array(words, { maxLength: 2 }),
    postDown: fc.array(words, { maxLength: 2 }),
  });
  const ext = fc.array(
    fc.record({
      name: fc.constantFrom('FerryExample', 'FerryExampleList'),
      line: fc.constant(0),
      entries: fc.array(fc.record({ key: fc.constantFrom('Value', 'Item', 'Name'), value: words, line: fc.constant(0) }), { maxLength: 3 }),
    }),
    { maxLength: 2 },
  );
  fc.assert(
    fc.property(state, quick, ext, (s, q, e) => {
      const saved = formatSavedConfig(s, q, e);
      const config = parseConfig(saved, { file: 'q.conf' });
      assert.equal(formatSavedConfig(stateFromConfig(config), config.interface, config.extensions), saved);
      assert.deepEqual(config.interface.preUp, q.preUp);
      assert.deepEqual(config.interface.dnsSearch, q.dnsSearch);
      assert.equal(config.extensions.length, e.length);
    }),
    { numRuns: 200 },
  );
});
