import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UapiServer } from '../control/uapi-server.js';
import { allowedIpsOf, newDevice, newPeer, type Device, type Peer } from '../uapi/model.js';
import { uapiSocketPath } from '../uapi/socket-path.js';
import { parseKeyBase64 } from '../wireguard/keys.js';
import { requireHost, uniqueName } from '../../test/support/netns.js';
import type { WgQuickConfig } from './model.js';
import { parseConfig } from './parse.js';
import { formatSavedConfig, serializeConfig, stateFromConfig } from './showconf.js';
import { PEER_A, PEER_B, PRIV, PSK, testKey } from '../../test/support/test-keys.js';
import '../../test/support/example-extensions.js';
import { parsePrefix } from '../text/prefix.js';

const run = promisify(execFile);

function peer(publicKey: string, more: Partial<Peer> = {}): Peer {
  return { ...newPeer(parseKeyBase64(publicKey)), persistentKeepaliveInterval: 0, ...more };
}

const STATE: Device = {
  privateKey: parseKeyBase64(PRIV),
  listenPort: 51820,
  fwmark: 0x1234,
  replacePeers: false,
  peers: [
    peer(PEER_A, {
      presharedKey: parseKeyBase64(PSK),
      endpoint: { family: 6, address: 'fd00::1', port: 51820 },
      persistentKeepaliveInterval: 25,
      allowedIps: allowedIpsOf(['10.0.0.0/24', 'fd00::/64', '::1.2.3.4/128', '192.168.1.1/32'].map(parsePrefix)),
    }),
    peer(PEER_B),
    peer(testKey(0x55), { endpoint: { family: 4, address: '192.0.2.1', port: 7 }, allowedIps: allowedIpsOf([parsePrefix('0.0.0.0/0')]), presharedKey: new Uint8Array(32) }),
  ],
};

test('serializeConfig prints what wg showconf prints', () => {
  assert.equal(
    serializeConfig(STATE),
    `[Interface]
ListenPort = 51820
FwMark = 0x1234
PrivateKey = ${PRIV}

[Peer]
PublicKey = ${PEER_A}
PresharedKey = ${PSK}
AllowedIPs = 10.0.0.0/24, fd00::/64, ::1.2.3.4/128, 192.168.1.1/32
Endpoint = [fd00::1]:51820
PersistentKeepalive = 25

[Peer]
PublicKey = ${PEER_B}

[Peer]
PublicKey = ${testKey(0x55)}
AllowedIPs = 0.0.0.0/0
Endpoint = 192.0.2.1:7
`,
  );
  assert.equal(serializeConfig({ ...newDevice(), listenPort: 0, fwmark: 0 }), '[Interface]\n\n');
  assert.equal(serializeConfig({ ...STATE, fwmark: 0xffffffff, peers: [] }), `[Interface]\nListenPort = 51820\nFwMark = 0xffffffff\nPrivateKey = ${PRIV}\n\n`);
});

test('serializeConfig matches the real `wg showconf` byte for byte', async (t) => {
  if (!requireHost(t, ['wg'])) return;
  const name = uniqueName('fyshow');
  let state = STATE;
  const server = await UapiServer.listen({ path: uapiSocketPath(name), backend: { get: () => state, set: () => {} } });
  t.after(() => server.close());
  const states: Device[] = [
    STATE,
    { ...newDevice(), listenPort: 0, fwmark: 0 },
    { ...newDevice(), privateKey: parseKeyBase64(PRIV), listenPort: 1, fwmark: 1, peers: [peer(PEER_B, { persistentKeepaliveInterval: 65535 })] },
  ];
  for (const s of states) {
    state = s;
    const { stdout } = await run('wg', ['showconf', name]);
    assert.equal(serializeConfig(s), stdout);
  }
});

/** The parts of a config that survive a trip through showconf/save (no lines, no source, keys inline). */
function essence(c: WgQuickConfig): { interface: unknown; peers: unknown; extensions: unknown } {
  const strip = (o: object) => JSON.parse(JSON.stringify(o, (k, v) => (k === 'lines' || k === 'line' || k === 'privateKeyFile' || k === 'presharedKeyFile' ? undefined : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
  return { interface: strip(c.interface), peers: strip(c.peers), extensions: c.extensions.map((e) => ({ name: e.name, entries: e.entries.map((x) => [x.key, x.value]) })) };
}

/** The peers of GOOD, as the file has them and as save writes them back. */
const PEERS = `[Peer]
PublicKey = ${PEER_A}
PresharedKey = ${PSK}
AllowedIPs = 10.0.0.2/32, fd00::2/128
Endpoint = [2001:db8::1]:51820
PersistentKeepalive = 25

[Peer]
PublicKey = ${PEER_B}
AllowedIPs = 10.0.0.3/32
`;

const GOOD = `[Interface]
PrivateKey = ${PRIV}
ListenPort = 51820
FwMark = 0x10
Address = 10.0.0.1/24, fd00::1/64
DNS = 1.1.1.1, example.com
MTU = 1420
Table = off
PreUp = echo one two
PostUp = iptables -A FORWARD -i %i -j ACCEPT
PreDown = echo down
PostDown = iptables -D FORWARD -i %i -j ACCEPT
SaveConfig = true

[FerryExample]
Value = 42
Item = 192.0.2.9

${PEERS}`;

test('good configs round trip: parse → serialize → parse', () => {
  const first = parseConfig(GOOD, { file: 'wg0.conf' });
  // wg's part alone, through showconf.
  const shown = parseConfig(serializeConfig(stateFromConfig(first)));
  assert.deepEqual(essence(shown).peers, essence(first).peers);
  assert.equal(shown.interface.listenPort, 51820);
  assert.equal(shown.interface.fwmark, 0x10);
  assert.deepEqual(shown.interface.privateKey, first.interface.privateKey);
  // The whole file, through save.
  const saved = formatSavedConfig(stateFromConfig(first), first.interface, first.extensions);
  const second = parseConfig(saved, { file: 'wg0.conf' });
  assert.deepEqual(essence(second), essence(first));
  assert.equal(formatSavedConfig(stateFromConfig(second), second.interface, second.extensions), saved, 'a fixed point');
});

test('formatSavedConfig writes the layout of wg-quick save (plus search domains and Ferry sections)', () => {
  const c = parseConfig(GOOD);
  assert.equal(
    formatSavedConfig(stateFromConfig(c), c.interface, c.extensions),
    `[Interface]
Address = 10.0.0.1/24
Address = fd00::1/64
DNS = 1.1.1.1
DNS = example.com
MTU = 1420
Table = off
SaveConfig = true
PreUp = echo one two
PostUp = iptables -A FORWARD -i %i -j ACCEPT
PreDown = echo down
PostDown = iptables -D FORWARD -i %i -j ACCEPT
ListenPort = 51820
FwMark = 0x10
PrivateKey = ${PRIV}

${PEERS}
[FerryExample]
Value = 42
Item = 192.0.2.9
`,
  );
  // No peers: showconf's trailing empty line is cut by the shell's $(…), echo adds one newline.
  const bare = parseConfig(`[Interface]\nPrivateKey = ${PRIV}\n`);
  assert.equal(formatSavedConfig(stateFromConfig(bare), bare.interface), `[Interface]\nPrivateKey = ${PRIV}\n`);
});

test('stateFromConfig needs resolved endpoints', () => {
  const c = parseConfig(`[Peer]\nPublicKey = ${PEER_A}\nEndpoint = host.example:1\n`, { file: 'a.conf' });
  assert.throws(() => stateFromConfig(c), /^ConfigError: a\.conf:3: Endpoint is not resolved yet/);
});

test('save keeps FerryOffload after SaveConfig when the file gave it, and writes nothing when it did not', () => {
  const off = parseConfig(`[Interface]\nPrivateKey = ${PRIV}\nFerryOffload = OFF\n`);
  assert.equal(formatSavedConfig(stateFromConfig(off), off.interface), `[Interface]\nFerryOffload = off\nPrivateKey = ${PRIV}\n`);
  const bare = parseConfig(`[Interface]\nPrivateKey = ${PRIV}\n`);
  assert.doesNotMatch(formatSavedConfig(stateFromConfig(bare), bare.interface), /FerryOffload/);
});
