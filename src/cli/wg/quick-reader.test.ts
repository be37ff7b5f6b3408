import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryIo } from './cli-io.js';
import { readWgConfig } from './conf.js';
import { quickConfigReader } from './quick-reader.js';
import { formatSet } from '../../uapi/set-format.js';

const P = 'iiTfMJceuvfMvah+Z/XdKOn6faJTNQT6c4M4vDwN0wQ=';
const Q = 'z2Wi9e5XBvDA61GM8nHRQB7rGAB81BiNv5YP0t8SXFg=';
const K = 'WEgHzFFJ090e1JvySw5ArgqZ4VERpt3re1lb4cIcH1o=';

const PLAIN = `[Interface]
PrivateKey = ${K}
ListenPort = 51820
FwMark = 0x10

[Peer]
PublicKey = ${P}
PresharedKey = ${K}
AllowedIPs = 10.0.0.0/8, fd00::/64
Endpoint = [fd00::2]:51820
PersistentKeepalive = 25

[Peer]
PublicKey = ${Q}
Endpoint = 192.0.2.1:1
`;

async function request(reader: typeof readWgConfig, text: string, append: boolean) {
  const io = new MemoryIo({});
  const dev = await reader(io, text, 'wg0.conf', append);
  return { err: io.stderr, req: dev === null ? null : formatSet(dev) };
}

test('a plain wg file gives the same request through wg’s reader and the wg-quick parser', async () => {
  for (const append of [false, true]) {
    const wg = await request(readWgConfig, PLAIN, append);
    assert.equal(wg.err, '');
    assert.notEqual(wg.req, null);
    assert.deepEqual(await request(quickConfigReader, PLAIN, append), wg);
  }
});

test('the wg-quick reader takes wg-quick keys that wg’s own reader refuses', async () => {
  const quick = `[Interface]\nAddress = 10.0.0.1/24\nDNS = 10.0.0.53\n${PLAIN.slice('[Interface]\n'.length)}`;
  const wg = await request(readWgConfig, quick, false);
  assert.equal(wg.req, null);
  assert.match(wg.err, /^Line unrecognized: `Address=10.0.0.1\/24'/);
  const viaQuick = await request(quickConfigReader, quick, false);
  assert.equal(viaQuick.req, (await request(readWgConfig, PLAIN, false)).req);
  const bad = await request(quickConfigReader, '[Peer]\nPublicKey = nope\n', false);
  assert.equal(bad.req, null);
  assert.match(bad.err, /^wg0\.conf:2: /);
});
