import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derivePublicKey, initCrypto } from '../wireguard/crypto.js';
import { formatKeyBase64, parseKeyBase64, publicKeyFromPrivate } from '../wireguard/keys.js';
import { parseConfig } from './parse.js';
import { PEER_A, PEER_B, PRIV, PSK, testKey } from '../../test/support/test-keys.js';
import '../../test/support/example-extensions.js';
import { formatPrefix } from '../text/prefix.js';

const b64 = (k: Uint8Array | null) => (k === null ? null : formatKeyBase64(k));

test('a full wg-quick config: every key, comments, repeated keys, hooks with their spaces', () => {
  const text = `# wg0 — office tunnel
[Interface]
PrivateKey = ${PRIV}   # the key
ListenPort = 51820
FwMark = 0x1234
Address = 10.0.0.1/24, fd00::1/64
Address = 10.0.1.1
DNS = 1.1.1.1, 2606:4700:4700::1111 example.com
DNS = corp.example
MTU = 1420
Table = 1234
PreUp = echo  pre   up
PostUp = iptables -A FORWARD -i %i -j ACCEPT; echo "a=b"
PostUp = echo second
PreDown = echo pre down
PostDown = iptables -D FORWARD -i %i -j ACCEPT
SaveConfig = true

[Peer]
PublicKey = ${PEER_A}
PresharedKey = ${PSK}
AllowedIPs = 10.0.0.2/32, fd00::2/128
AllowedIPs = 192.168.0.0/16
Endpoint = 192.0.2.1:51820
PersistentKeepalive = 25

[Peer]
PublicKey = ${PEER_B}
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = [2001:db8::1]:4500
PersistentKeepalive = off
`;
  const c = parseConfig(text, { file: 'wg0.conf' });
  const i = c.interface;
  assert.equal(i.line, 2);
  assert.equal(b64(i.privateKey), PRIV);
  assert.equal(i.privateKeyFile, null);
  assert.equal(i.listenPort, 51820);
  assert.equal(i.fwmark, 0x1234);
  assert.deepEqual(i.addresses.map(formatPrefix), ['10.0.0.1/24', 'fd00::1/64', '10.0.1.1/32']);
  assert.deepEqual(i.dns, ['1.1.1.1', '2606:4700:4700::1111']);
  assert.deepEqual(i.dnsSearch, ['example.com', 'corp.example']);
  assert.equal(i.mtu, 1420);
  assert.equal(i.table, '1234');
  assert.deepEqual(i.preUp, ['echo  pre   up']);
  assert.deepEqual(i.postUp, ['iptables -A FORWARD -i %i -j ACCEPT; echo "a=b"', 'echo second']);
  assert.deepEqual(i.preDown, ['echo pre down']);
  assert.deepEqual(i.postDown, ['iptables -D FORWARD -i %i -j ACCEPT']);
  assert.equal(i.saveConfig, true);
  assert.equal(i.lines.ListenPort, 4);
  assert.equal(i.lines.Address, 6);

  assert.equal(c.peers.length, 2);
  const [a, b] = c.peers;
  assert.equal(a.line, 19);
  assert.equal(b64(a.publicKey), PEER_A);
  assert.equal(b64(a.presharedKey), PSK);
  assert.deepEqual(a.allowedIps.map(formatPrefix), ['10.0.0.2/32', 'fd00::2/128', '192.168.0.0/16']);
  assert.deepEqual(a.endpoint, { host: '192.0.2.1', port: 51820, scope: null, address: { family: 4, address: '192.0.2.1', port: 51820 } });
  assert.equal(a.persistentKeepalive, 25);
  assert.equal(a.lines.Endpoint, 24);
  assert.equal(b64(b.publicKey), PEER_B);
  assert.equal(b.presharedKey, null);
  assert.deepEqual(b.endpoint?.address, { family: 6, address: '2001:db8::1', port: 4500 });
  assert.equal(b.persistentKeepalive, 0);
  assert.deepEqual(c.extensions, []);
  assert.deepEqual(c.warnings, []);
  assert.deepEqual(c.source, { file: 'wg0.conf', text });
});

test("whitespace and case are read as wg reads them: all whitespace inside a line is ignored", () => {
  const c = parseConfig(
    `  [ iNtErFaCe ]  \r\n\tprivate key=${PRIV}\r\nLISTEN PORT = 5 1 8 2 0 \r\n[PEER]\r\npublickey=${PEER_A}\r\nallowedips=10.0.0.0 / 8 ,fd00::/8\r\nendpoint = 192.0.2.1 : 1\r\n`,
  );
  assert.equal(b64(c.interface.privateKey), PRIV);
  assert.equal(c.interface.listenPort, 51820);
  assert.deepEqual(c.peers[0].allowedIps.map(formatPrefix), ['10.0.0.0/8', 'fd00::/8']);
  assert.equal(c.peers[0].endpoint?.port, 1);
});

test('"#" starts a comment anywhere, even in a hook; keys may come with no [Interface] at all', () => {
  const c = parseConfig(`[Peer] # first\nPublicKey = ${PEER_A}#no space\nAllowedIPs = 10.0.0.0/8 # , 11.0.0.0/8\n`);
  assert.equal(c.interface.line, 0);
  assert.equal(c.interface.privateKey, null);
  assert.deepEqual(c.peers[0].allowedIps.map(formatPrefix), ['10.0.0.0/8']);
  const h = parseConfig('[Interface]\nPostUp = echo a # b\n');
  assert.deepEqual(h.interface.postUp, ['echo a']);
});

test('wg-quick reads an empty Address, DNS, MTU, Table or hook as "none"', () => {
  const c = parseConfig('[Interface]\nAddress =\nDNS =\nMTU =\nTable =\nPostUp =\n');
  assert.deepEqual([c.interface.addresses, c.interface.dns, c.interface.mtu, c.interface.table, c.interface.postUp], [[], [], null, null, []]);
});

test('values at their limits', () => {
  const c = parseConfig(
    `[Interface]\nListenPort = 0\nFwMark = off\nMTU = 68\nTable = off\nSaveConfig = FALSE\n[Peer]\nPublicKey = ${PEER_A}\nPersistentKeepalive = 65535\nEndpoint = h.example:65535\nAllowedIPs = 0.0.0.0/0\n`,
  );
  assert.equal(c.interface.listenPort, 0);
  assert.equal(c.interface.fwmark, 0);
  assert.equal(c.interface.mtu, 68);
  assert.equal(c.interface.table, 'off');
  assert.equal(c.interface.saveConfig, false);
  assert.equal(c.peers[0].persistentKeepalive, 65535);
  assert.deepEqual(c.peers[0].endpoint, { host: 'h.example', port: 65535, scope: null, address: null });
  for (const [text, mark] of [['0xffffffff', 0xffffffff], ['4294967295', 0xffffffff], ['010', 10], ['0', 0], ['0xABc', 0xabc]] as const) {
    assert.equal(parseConfig(`[Interface]\nFwMark = ${text}\n`).interface.fwmark, mark, text);
  }
  for (const table of ['auto', 'main', 'vpn_1', '0', '4294967295']) assert.equal(parseConfig(`[Interface]\nTable = ${table}\n`).interface.table, table);
});

test('endpoint forms: IPv6 without brackets splits at the last colon (as wg does), numeric scope, names', () => {
  const ep = (s: string) => parseConfig(`[Peer]\nPublicKey = ${PEER_A}\nEndpoint = ${s}\n`).peers[0].endpoint;
  assert.deepEqual(ep('fd00::1:51820')?.address, { family: 6, address: 'fd00::1', port: 51820 });
  assert.deepEqual(ep('[fe80::1%3]:7')?.address, { family: 6, address: 'fe80::1', port: 7, scopeId: 3 });
  assert.deepEqual(ep('[fe80::1%eth0]:7'), { host: 'fe80::1', port: 7, scope: 'eth0', address: null });
  assert.deepEqual(ep('[FD00:0:0::0001]:9')?.address, { family: 6, address: 'fd00::1', port: 9 });
  assert.deepEqual(ep('[::ffff:192.0.2.1]:9')?.address, { family: 6, address: '::ffff:192.0.2.1', port: 9 });
  assert.deepEqual(ep('vpn.example.com.:51820'), { host: 'vpn.example.com.', port: 51820, scope: null, address: null });
  assert.deepEqual(ep('[vpn.example.com]:1'), { host: 'vpn.example.com', port: 1, scope: null, address: null });
});

test('Ferry sections are kept raw, with line numbers, in any number and case', () => {
  const c = parseConfig(
    `[Interface]\nPrivateKey = ${PRIV}\n\n[FerryExample]\nValue = 42\nItem = 192.0.2.9 , 192.0.2.10 # comment\n\n[ferryExampleList]\nName=10.96.0.1:80/tcp\nItem = 10.1.0.1:8080\nItem = 10.1.0.2:8080\n[Peer]\nPublicKey = ${PEER_A}\n`,
  );
  assert.deepEqual(c.extensions, [
    { name: 'FerryExample', line: 4, entries: [{ key: 'Value', value: '42', line: 5 }, { key: 'Item', value: '192.0.2.9 , 192.0.2.10', line: 6 }] },
    {
      name: 'ferryExampleList',
      line: 8,
      entries: [
        { key: 'Name', value: '10.96.0.1:80/tcp', line: 9 },
        { key: 'Item', value: '10.1.0.1:8080', line: 10 },
        { key: 'Item', value: '10.1.0.2:8080', line: 11 },
      ],
    },
  ]);
  assert.equal(c.peers.length, 1);
});

test('PrivateKeyFile and PresharedKeyFile read keys from files relative to the config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-config-keys-'));
  try {
    writeFileSync(join(dir, 'wg0.key'), `${PRIV}\n\n`);
    writeFileSync(join(dir, 'peer.psk'), `${PSK}   \n`);
    // Modes set explicitly: the ones given at creation would be cut by the caller's umask.
    chmodSync(join(dir, 'wg0.key'), 0o600);
    chmodSync(join(dir, 'peer.psk'), 0o644);
    const c = parseConfig(`[Interface]\nPrivateKeyFile = wg0.key\n[Peer]\nPublicKey = ${PEER_A}\nPresharedKeyFile = ${join(dir, 'peer.psk')}\n`, {
      file: join(dir, 'wg0.conf'),
    });
    assert.equal(b64(c.interface.privateKey), PRIV);
    assert.equal(c.interface.privateKeyFile, join(dir, 'wg0.key'));
    assert.equal(b64(c.peers[0].presharedKey), PSK);
    assert.equal(c.peers[0].presharedKeyFile, join(dir, 'peer.psk'));
    // The world-readable PSK file is worth a warning, the 0600 key file is not.
    assert.deepEqual(
      c.warnings.map((w) => [w.line, w.message.replace(dir, 'DIR')]),
      [[5, 'PresharedKeyFile "DIR/peer.psk" is readable by every user: expected mode 0600']],
    );
    // `dir` wins over the file name's directory.
    assert.throws(() => parseConfig('[Interface]\nPrivateKeyFile = wg0.key\n', { file: join(dir, 'wg0.conf'), dir: '/nonexistent' }), /"\/nonexistent\/wg0\.key" does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("warnings: AllowedIPs host bits (as wg warns) and a peer with the interface's own public key (the device ignores it)", async () => {
  await initCrypto();
  const ownBytes = new Uint8Array(32);
  derivePublicKey(ownBytes, parseKeyBase64(PRIV));
  const own = formatKeyBase64(ownBytes);
  assert.equal(formatKeyBase64(publicKeyFromPrivate(parseKeyBase64(PRIV))), own, 'node:crypto and libsodium agree');
  const c = parseConfig(`[Interface]\nPrivateKey = ${PRIV}\n[Peer]\nPublicKey = ${own}\nAllowedIPs = 10.0.0.1/24, fd00::1/64, 10.0.0.0/24\n`, { file: 'x.conf' });
  assert.equal(c.peers.length, 1, 'the config is accepted, as wg accepts it');
  assert.deepEqual(
    c.warnings.map((w) => `${w.file}:${w.line}: ${w.message}`),
    [
      'x.conf:5: AllowedIPs entry 10.0.0.1/24 has a nonzero host part (wg warns the same; the device masks it)',
      'x.conf:5: AllowedIPs entry fd00::1/64 has a nonzero host part (wg warns the same; the device masks it)',
      "x.conf:4: PublicKey is this interface's own public key: the device ignores such a peer, as WireGuard does",
    ],
  );
  assert.deepEqual(c.peers[0].allowedIps.map(formatPrefix), ['10.0.0.1/24', 'fd00::1/64', '10.0.0.0/24'], 'host part kept, as wg sends it');
});

test('many peers parse in linear time', () => {
  const n = 5000;
  let text = `[Interface]\nPrivateKey = ${PRIV}\n`;
  for (let k = 0; k < n; k++) {
    const key = Buffer.alloc(32);
    key.writeUInt32BE(k + 1);
    text += `[Peer]\nPublicKey = ${key.toString('base64')}\nAllowedIPs = 10.${k >> 8}.${k & 255}.0/24\n`;
  }
  const t0 = performance.now();
  const c = parseConfig(text);
  assert.equal(c.peers.length, n);
  assert.ok(performance.now() - t0 < 5000);
  assert.equal(testKey(1).length, 44);
});

test('FerryOffload: on or off in any case; absent is null (on); a bad or empty value is reported with file:line', () => {
  assert.equal(parseConfig(`[Interface]\nPrivateKey = ${PRIV}\n`).interface.offload, null);
  assert.equal(parseConfig(`[Interface]\nFerryOffload = off\n`).interface.offload, false);
  assert.equal(parseConfig(`[Interface]\nferryoffload = ON   \n`).interface.offload, true);
  assert.throws(() => parseConfig(`[Interface]\nPrivateKey = ${PRIV}\nFerryOffload = maybe\n`, { file: 'o.conf' }), /o\.conf:3: FerryOffload "maybe" is invalid: expected on or off/);
  assert.throws(() => parseConfig(`[Interface]\nFerryOffload =\n`, { file: 'o.conf' }), /o\.conf:2: FerryOffload has no value: expected on or off/);
  assert.throws(() => parseConfig(`[Interface]\nFerryOffload = on\nFerryOffload = off\n`, { file: 'o.conf' }), /o\.conf:3: FerryOffload is given twice/);
  assert.throws(() => parseConfig(`[Peer]\nPublicKey = ${PEER_A}\nFerryOffload = on\n`, { file: 'o.conf' }), /o\.conf:3: FerryOffload belongs in \[Interface\]/);
});
