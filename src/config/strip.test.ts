import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireHost } from '../../test/support/netns.js';
import { ConfigError } from './issues.js';
import { parseConfig } from './parse.js';
import { stripConfig } from './strip.js';
import { PEER_A, PEER_B, PRIV, PSK } from '../../test/support/test-keys.js';
import '../../test/support/example-extensions.js';

const run = promisify(execFile);

/** The end of the commented file: kept by strip exactly as written. */
const TAIL = `# Address = 10.9.9.9/32 (a comment, kept)

[Peer]
# a peer
PublicKey = ${PEER_A}
AllowedIPs = 10.0.0.2/32
[Peer]
PublicKey = ${PEER_B}
AllowedIPs = 10.0.0.3/32
`;

/** Files wg-quick and ferry must strip identically (no ferry extensions in them). */
const PLAIN: [string, string][] = [
  [
    'typical',
    `[Interface]
Address = 10.200.100.8/24
DNS = 10.200.100.1
PrivateKey = ${PRIV}

[Peer]
PublicKey = ${PEER_A}
PresharedKey = ${PSK}
AllowedIPs = 0.0.0.0/0
Endpoint = 192.0.2.1:51820
`,
  ],
  [
    'comments, odd spacing, every wg-quick key in any case, hooks',
    `   # leading comment, indented
[Interface]   
\tPrivateKey = ${PRIV}   # trailing comment kept
  ListenPort=51820
mtu=1420
  ADDRESS = 10.0.0.1/24, fd00::1/64
dns = 1.1.1.1, example.com
Table = off
PreUp = echo "pre up"
PostUp = iptables -A FORWARD -i %i -j ACCEPT
PreDown = true
PostDown = iptables -D FORWARD -i %i -j ACCEPT
SaveConfig = true
${TAIL}
`,
  ],
  ['CRLF line ends, no final newline', `[Interface]\r\nPrivateKey = ${PRIV}\r\nMTU = 1400\r\n\r\n[Peer]\r\nPublicKey = ${PEER_A}\r\nAllowedIPs = 10.0.0.2/32`],
  ['two [Interface] sections', `[Interface]\nPrivateKey = ${PRIV}\n[Peer]\nPublicKey = ${PEER_A}\n[Interface]\nAddress = 10.0.0.1/32\nListenPort = 1\n`],
  ['empty file', ''],
];

test('strip keeps what wg reads, comments included, and drops wg-quick keys', () => {
  const [, text] = PLAIN[1];
  assert.equal(
    stripConfig(text),
    `# leading comment, indented
[Interface]
PrivateKey = ${PRIV}   # trailing comment kept
ListenPort=51820
${TAIL}

`,
  );
  assert.equal(stripConfig(''), '\n', "wg-quick's echo of an empty config");
  assert.equal(stripConfig(PLAIN[2][1]), `[Interface]\r\nPrivateKey = ${PRIV}\r\n\r\n[Peer]\r\nPublicKey = ${PEER_A}\r\nAllowedIPs = 10.0.0.2/32\n\n`);
});

test('ferry strip drops [Ferry…] sections whole and turns key files into keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-strip-'));
  try {
    writeFileSync(join(dir, 'wg0.key'), `${PRIV}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'a.psk'), `${PSK}\n`, { mode: 0o600 });
    const text = `[Interface]
PrivateKeyFile = wg0.key # secret-free
Address = 10.0.0.1/24

# VXLAN overlay
[FerryExample]
Value = 7
# inside the section: dropped too
[Peer]
PublicKey = ${PEER_A}
PresharedKeyFile = a.psk
[FerryExampleList]
Name = 10.96.0.1:80/tcp
`;
    assert.equal(
      stripConfig(text, { file: join(dir, 'wg0.conf') }),
      `[Interface]
PrivateKey = ${PRIV}

# VXLAN overlay
[Peer]
PublicKey = ${PEER_A}
PresharedKey = ${PSK}

`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('strip of a text validates it first', () => {
  assert.throws(() => stripConfig('[Interface]\nSaveConfig = maybe\n', { file: 'wg0.conf' }), (e: ConfigError) => e.message.startsWith('wg0.conf:2: SaveConfig "maybe" is not a boolean'));
});

test('strip matches the real `wg-quick strip` byte for byte', async (t) => {
  if (!requireHost(t, ['wg-quick'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-strip-wg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [label, text] of PLAIN) {
    const file = join(dir, 'fystrip0.conf');
    writeFileSync(file, text, { mode: 0o600 });
    const { stdout } = await run('wg-quick', ['strip', file]);
    assert.equal(stripConfig(parseConfig(text, { file })), stdout, label);
  }
});

test('strip removes FerryOffload (wg knows no such key), as it removes the wg-quick keys', () => {
  assert.equal(stripConfig(`[Interface]\nPrivateKey = ${PRIV}\nFerryOffload = off\nMTU = 1420\n`), `[Interface]\nPrivateKey = ${PRIV}\n\n`);
});
