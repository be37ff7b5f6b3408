import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatEndpoint, type Endpoint } from '../text/endpoint.js';
import { allowedIpsOf, newDevice, newPeer, type Device, type Peer } from '../uapi/model.js';
import { formatSet } from '../uapi/set-format.js';
import { parseKeyBase64 } from '../wireguard/keys.js';
import { PEER_A, PEER_B, PRIV, PSK, testKey, testKeyHex } from '../../test/support/test-keys.js';
import { ConfigError } from './issues.js';
import { parseConfig } from './parse.js';
import { isEmptyChange, syncChange } from './sync.js';
import { parsePrefix } from '../text/prefix.js';

const PEER_C = testKey(0x55);

function peer(key: string, o: Partial<Peer> = {}): Peer {
  return { ...newPeer(parseKeyBase64(key)), lastHandshakeSec: 1_700_000_000n, lastHandshakeNsec: 0n, txBytes: 100n, rxBytes: 200n, persistentKeepaliveInterval: 0, ...o };
}

function device(peers: Peer[], o: Partial<Device> = {}): Device {
  return { ...newDevice(), privateKey: parseKeyBase64(PRIV), listenPort: 51820, fwmark: 0, peers, ...o };
}

const ips = (...t: string[]) => allowedIpsOf(t.map(parsePrefix));

/** "192.0.2.2:51820" as the device reports it. */
function ep(text: string): Endpoint {
  const [address, port] = text.split(':');
  return { family: 4, address, port: Number(port) };
}

/** The lines of the set request, between `set=1` and the empty line. */
const setLines = (change: Device) => formatSet(change).split('\n').slice(1, -2);

const FILE_AB = `[Interface]
PrivateKey = ${PRIV}
ListenPort = 51820
Address = 10.0.0.1/24
[Peer]
PublicKey = ${PEER_A}
AllowedIPs = 10.0.0.2/32, fd00::2/128
Endpoint = 192.0.2.2:51820
[Peer]
PublicKey = ${PEER_B}
AllowedIPs = 10.0.0.3/32
`;

/** Each case: the file, the running device, and the UAPI lines the sync must send. */
const CASES: { name: string; file: string; running: Device; lines: string[] }[] = [
  {
    name: 'device already matches: nothing is sent',
    file: FILE_AB,
    running: device([peer(PEER_B, { allowedIps: ips('10.0.0.3/32') }), peer(PEER_A, { endpoint: ep('192.0.2.2:51820'), allowedIps: ips('fd00::2/128', '10.0.0.2/32') })]),
    lines: [],
  },
  {
    name: 'a peer not in the file is removed; the others are left alone',
    file: FILE_AB,
    running: device([
      peer(PEER_A, { endpoint: ep('192.0.2.2:51820'), allowedIps: ips('10.0.0.2/32', 'fd00::2/128') }),
      peer(PEER_B, { allowedIps: ips('10.0.0.3/32') }),
      peer(PEER_C, { allowedIps: ips('10.0.0.4/32') }),
    ]),
    lines: [`public_key=${testKeyHex(0x55)}`, 'remove=true'],
  },
  {
    name: 'removals come first, in descending key order; new peers are added whole',
    file: `[Interface]\nPrivateKey = ${PRIV}\nListenPort = 51820\n[Peer]\nPublicKey = ${PEER_C}\nPresharedKey = ${PSK}\nAllowedIPs = 10.0.0.9/32\nEndpoint = 192.0.2.9:9\nPersistentKeepalive = 25\n`,
    running: device([peer(PEER_A), peer(PEER_B)]),
    lines: [
      `public_key=${testKeyHex(0x33)}`,
      'remove=true',
      `public_key=${testKeyHex(0x22)}`,
      'remove=true',
      `public_key=${testKeyHex(0x55)}`,
      `preshared_key=${testKeyHex(0x44)}`,
      'endpoint=192.0.2.9:9',
      'persistent_keepalive_interval=25',
      'replace_allowed_ips=true',
      'allowed_ip=10.0.0.9/32',
    ],
  },
  {
    name: 'changed allowed IPs are replaced; only that peer, only that setting',
    file: FILE_AB.replace('AllowedIPs = 10.0.0.3/32', 'AllowedIPs = 10.0.0.3/32, 10.9.0.0/16'),
    running: device([peer(PEER_A, { endpoint: ep('192.0.2.2:51820'), allowedIps: ips('10.0.0.2/32', 'fd00::2/128') }), peer(PEER_B, { allowedIps: ips('10.0.0.3/32') })]),
    lines: [`public_key=${testKeyHex(0x33)}`, 'replace_allowed_ips=true', 'allowed_ip=10.0.0.3/32', 'allowed_ip=10.9.0.0/16'],
  },
  {
    name: 'host bits and order do not count as a change (the device masks them)',
    file: FILE_AB.replace('AllowedIPs = 10.0.0.3/32', 'AllowedIPs = 10.1.2.3/16, 10.0.0.3/32'),
    running: device([peer(PEER_A, { endpoint: ep('192.0.2.2:51820'), allowedIps: ips('10.0.0.2/32', 'fd00::2/128') }), peer(PEER_B, { allowedIps: ips('10.0.0.3/32', '10.1.0.0/16') })]),
    lines: [],
  },
  {
    name: 'a preshared key and keepalive the file leaves out are cleared (current wg syncconf)',
    file: FILE_AB,
    running: device([
      peer(PEER_A, { endpoint: ep('192.0.2.2:51820'), allowedIps: ips('10.0.0.2/32', 'fd00::2/128'), presharedKey: parseKeyBase64(PSK), persistentKeepaliveInterval: 25 }),
      peer(PEER_B, { allowedIps: ips('10.0.0.3/32') }),
    ]),
    lines: [`public_key=${testKeyHex(0x22)}`, `preshared_key=${'0'.repeat(64)}`, 'persistent_keepalive_interval=0'],
  },
  {
    name: 'a changed endpoint is sent; a running endpoint the file does not name is kept',
    file: FILE_AB.replace('192.0.2.2:51820', '192.0.2.22:51820'),
    running: device([peer(PEER_A, { endpoint: ep('192.0.2.2:51820'), allowedIps: ips('10.0.0.2/32', 'fd00::2/128') }), peer(PEER_B, { endpoint: ep('198.51.100.1:1'), allowedIps: ips('10.0.0.3/32') })]),
    lines: [`public_key=${testKeyHex(0x22)}`, 'endpoint=192.0.2.22:51820'],
  },
  {
    name: 'device keys: a new private key and port are sent; FwMark absent keeps the running mark',
    file: FILE_AB.replace('ListenPort = 51820', 'ListenPort = 51999').replace(PRIV, testKey(0x66)),
    running: device([peer(PEER_A, { endpoint: ep('192.0.2.2:51820'), allowedIps: ips('10.0.0.2/32', 'fd00::2/128') }), peer(PEER_B, { allowedIps: ips('10.0.0.3/32') })], { fwmark: 51820 }),
    lines: [`private_key=${testKeyHex(0x66)}`, 'listen_port=51999'],
  },
  {
    name: 'ListenPort absent keeps the running port; FwMark given is applied; no PrivateKey removes the key',
    file: FILE_AB.replace('ListenPort = 51820', 'FwMark = 0x20').replace(`PrivateKey = ${PRIV}\n`, ''),
    running: device([peer(PEER_A, { endpoint: ep('192.0.2.2:51820'), allowedIps: ips('10.0.0.2/32', 'fd00::2/128') }), peer(PEER_B, { allowedIps: ips('10.0.0.3/32') })], { listenPort: 40000 }),
    lines: [`private_key=${'0'.repeat(64)}`, 'fwmark=32'],
  },
  {
    name: 'an empty file removes every peer (and never sends replace_peers)',
    file: `[Interface]\nPrivateKey = ${PRIV}\n`,
    running: device([peer(PEER_A), peer(PEER_B)]),
    lines: [`public_key=${testKeyHex(0x33)}`, 'remove=true', `public_key=${testKeyHex(0x22)}`, 'remove=true'],
  },
];

for (const c of CASES) {
  test(`syncChange: ${c.name}`, () => {
    const change = syncChange(parseConfig(c.file), c.running);
    assert.equal(change.replacePeers, false);
    assert.deepEqual(setLines(change), c.lines);
    assert.equal(isEmptyChange(change), c.lines.length === 0);
  });
}

test('syncChange refuses a config whose host-name endpoints are not resolved, naming the line', () => {
  const config = parseConfig(`[Peer]\nPublicKey = ${PEER_A}\nEndpoint = vpn.example.com:51820\n`, { file: 'wg0.conf' });
  assert.throws(() => syncChange(config, device([])), (err: unknown) => err instanceof ConfigError && err.errors[0].line === 3);
});

/** Applies a change to a state the way DeviceUapiBackend does (for the property below). */
function apply(state: Device, change: ReturnType<typeof syncChange>): Device {
  const hex = (k: Uint8Array) => Buffer.from(k).toString('hex');
  const zero = (k: Uint8Array) => k.every((b) => b === 0);
  const next: Device = { ...state, peers: state.peers.map((p) => ({ ...p, allowedIps: [...p.allowedIps] })) };
  if (change.privateKey) next.privateKey = zero(change.privateKey) ? undefined : change.privateKey;
  if (change.listenPort !== undefined) next.listenPort = change.listenPort;
  if (change.fwmark !== undefined) next.fwmark = change.fwmark;
  for (const pc of change.peers) {
    const i = next.peers.findIndex((p) => hex(p.publicKey) === hex(pc.publicKey));
    if (pc.remove) {
      if (i >= 0) next.peers.splice(i, 1);
      continue;
    }
    const p = i >= 0 ? next.peers[i] : peer(Buffer.from(pc.publicKey).toString('base64'), { lastHandshakeSec: 0n });
    if (i < 0) next.peers.push(p);
    if (pc.presharedKey) p.presharedKey = zero(pc.presharedKey) ? undefined : pc.presharedKey;
    if (pc.endpoint) p.endpoint = pc.endpoint;
    if (pc.persistentKeepaliveInterval !== undefined) p.persistentKeepaliveInterval = pc.persistentKeepaliveInterval;
    if (pc.replaceAllowedIps) p.allowedIps = [];
    for (const a of pc.allowedIps) p.allowedIps.push(a);
  }
  return next;
}

test('property: after the sync the device holds exactly the file\'s peers, and untouched peers get no entry', () => {
  const keys = [0x22, 0x33, 0x55, 0x66, 0x77];
  const peerSpec = fc.record({
    key: fc.constantFrom(...keys),
    psk: fc.boolean(),
    keepalive: fc.constantFrom(0, 25),
    endpoint: fc.constantFrom(null, '192.0.2.1:1', '192.0.2.2:2'),
    nets: fc.uniqueArray(fc.integer({ min: 1, max: 20 }), { maxLength: 3 }),
  });
  const uniqueByKey = fc.uniqueArray(peerSpec, { selector: (p) => p.key, maxLength: 5 });
  fc.assert(
    fc.property(uniqueByKey, uniqueByKey, (filePeers, runningPeers) => {
      // Each key owns its own /24s, so no prefix is claimed by two peers.
      const nets = (key: number, n: number[]) => n.map((x) => `10.${key}.${x}.0/24`);
      let text = `[Interface]\nPrivateKey = ${PRIV}\nListenPort = 51820\n`;
      for (const p of filePeers) {
        text += `[Peer]\nPublicKey = ${testKey(p.key)}\n`;
        if (p.psk) text += `PresharedKey = ${PSK}\n`;
        if (p.keepalive) text += `PersistentKeepalive = ${p.keepalive}\n`;
        if (p.endpoint) text += `Endpoint = ${p.endpoint}\n`;
        if (p.nets.length > 0) text += `AllowedIPs = ${nets(p.key, p.nets).join(', ')}\n`;
      }
      const running = device(
        runningPeers.map((p) =>
          peer(testKey(p.key), { presharedKey: p.psk ? parseKeyBase64(PSK) : undefined, persistentKeepaliveInterval: p.keepalive, endpoint: p.endpoint === null ? undefined : ep(p.endpoint), allowedIps: ips(...nets(p.key, p.nets)) }),
        ),
      );
      const change = syncChange(parseConfig(text), running);
      const after = apply(running, change);
      const sortKey = (s: Device) =>
        s.peers
          .map((p) => `${Buffer.from(p.publicKey).toString('hex')} ${p.presharedKey !== undefined} ${p.persistentKeepaliveInterval} ${[...p.allowedIps.map(({ prefix: a }) => `${a.bytes.join('.')}/${a.cidr}`)].sort().join(',')}`)
          .sort();
      const expected = filePeers.map((p) => `${Buffer.from(parseKeyBase64(testKey(p.key))).toString('hex')} ${p.psk} ${p.keepalive} ${nets(p.key, p.nets).map((n) => { const a = parsePrefix(n); return `${a.bytes.join('.')}/${a.cidr}`; }).sort().join(',')}`).sort();
      assert.deepEqual(sortKey(after), expected);
      // Endpoints: the file's when it has one, else whatever was running.
      for (const p of filePeers) {
        const now = after.peers.find((x) => Buffer.from(x.publicKey).equals(parseKeyBase64(testKey(p.key))))?.endpoint;
        const was = runningPeers.find((r) => r.key === p.key)?.endpoint ?? null;
        assert.equal(now === undefined ? null : formatEndpoint(now), p.endpoint ?? was);
      }
      // A peer identical on both sides is not touched.
      for (const p of filePeers) {
        const r = runningPeers.find((x) => x.key === p.key);
        const same = r !== undefined && r.psk === p.psk && r.keepalive === p.keepalive && (p.endpoint === null || p.endpoint === r.endpoint) && [...r.nets].sort().join() === [...p.nets].sort().join();
        const touched = change.peers.some((c) => Buffer.from(c.publicKey).equals(parseKeyBase64(testKey(p.key))));
        assert.equal(touched, !same);
      }
    }),
    { numRuns: 300 },
  );
});
