import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryIo } from './cli-io.js';
import { readWgConfig, splitLines } from './conf.js';
import { formatSet } from '../../uapi/set-format.js';

const P = 'iiTfMJceuvfMvah+Z/XdKOn6faJTNQT6c4M4vDwN0wQ=';
const PH = Buffer.from(P, 'base64').toString('hex');
const Q = 'z2Wi9e5XBvDA61GM8nHRQB7rGAB81BiNv5YP0t8SXFg=';
const QH = Buffer.from(Q, 'base64').toString('hex');
const PSK = 'altpjvaI1ZatW6k5xZiL2KOWLaJKK/r/+5UbOX14JPU=';
const ZERO = '0'.repeat(64);
const SETCONF_HEAD = `set=1\nprivate_key=${ZERO}\nlisten_port=0\nfwmark=0\nreplace_peers=true\n`;

async function read(text: string, append = false): Promise<{ err: string; req: string | null }> {
  const io = new MemoryIo({ WG_ENDPOINT_RESOLUTION_RETRIES: '0' });
  const dev = await readWgConfig(io, text, 'test.conf', append);
  return { err: io.stderr, req: dev === null ? null : formatSet(dev) };
}

/** Expected results recorded from `wg setconf` 1.0.20210914 against a fake UAPI socket. */
test('config files wg rejects, with its messages', async () => {
  const cases: [string, string][] = [
    ['[Interface]\nAddress = 10.0.0.1/24\n', "Line unrecognized: `Address=10.0.0.1/24'\nConfiguration parsing error\n"],
    ['ListenPort = 1\n', "Line unrecognized: `ListenPort=1'\nConfiguration parsing error\n"],
    ['[Peer]\nAllowedIPs=1.2.3.4\n', 'A peer is missing a public key\nInvalid configuration\n'],
    ['[Peer]\nPublicKey=abc\n', "Key is not the correct length or format: `abc'\nConfiguration parsing error\n"],
    ['[Interface]\nListenPort=\n', "Line unrecognized: `ListenPort='\nConfiguration parsing error\n"],
    ['[Interface]\nListenPort\n', "Line unrecognized: `ListenPort'\nConfiguration parsing error\n"],
    ['[Interface]\nPrivateKey=\n', "Line unrecognized: `PrivateKey='\nConfiguration parsing error\n"],
    [`[Peer]\nPublicKey=${P}\nEndpoint=1.2.3.4:5\nAllowedIPs=1.0.0.0/8\nAllowedIPs=2.0.0.0/8,\n`, "Unable to parse IP address: `'\nConfiguration parsing error\n"],
    [`[Peer]\nPublicKey=${P}\nAllowedIPs=\n`, "Line unrecognized: `AllowedIPs='\nConfiguration parsing error\n"],
    ['[Interface]\nPrivateKey=a#b\n', "Key is not the correct length or format: `a'\nConfiguration parsing error\n"],
    ['[Interface]\nEndpoint=1.2.3.4:5\n', "Line unrecognized: `Endpoint=1.2.3.4:5'\nConfiguration parsing error\n"],
    [`[Peer]\nPublicKey=${P}\nListenPort=1\n`, "Line unrecognized: `ListenPort=1'\nConfiguration parsing error\n"],
    ['[Interface]\nFwMark=nope\n', "Fwmark is neither 0/off nor 0-0xffffffff: `nope'\nConfiguration parsing error\n"],
    ['[VXLAN]\n', "Line unrecognized: `[VXLAN]'\nConfiguration parsing error\n"],
  ];
  for (const [text, err] of cases) assert.deepEqual(await read(text), { err, req: null }, text);
});

test('config files wg accepts, and the request it sends', async () => {
  const cases: [string, string, boolean?][] = [
    [`[interface]\n  listenport = 5 # comment\n\n[PEER]\npublickey=${P}\n`, `${SETCONF_HEAD.replace('listen_port=0', 'listen_port=5')}public_key=${PH}\nreplace_allowed_ips=true\n`],
    [`[Peer]\nPublicKey=${P}\nPublicKey=${Q}\n`, `${SETCONF_HEAD}public_key=${QH}\nreplace_allowed_ips=true\n`],
    ['[Interface]\r\nListenPort=7\r\n', SETCONF_HEAD.replace('listen_port=0', 'listen_port=7')],
    ['[ Interface ]\nFwMark=0x10\n', SETCONF_HEAD.replace('fwmark=0', 'fwmark=16')],
    [
      `[Peer]\nPublicKey=${P}\nPresharedKey=${PSK}\nPersistentKeepalive=off\n`,
      `${SETCONF_HEAD}public_key=${PH}\npreshared_key=${Buffer.from(PSK, 'base64').toString('hex')}\npersistent_keepalive_interval=0\nreplace_allowed_ips=true\n`,
    ],
    [`[Peer]\nPublicKey=${P}\n[Interface]\nListenPort=9\n[Peer]\nPublicKey=${P}\n`, `${SETCONF_HEAD.replace('listen_port=0', 'listen_port=9')}public_key=${PH}\nreplace_allowed_ips=true\npublic_key=${PH}\nreplace_allowed_ips=true\n`],
    ['', SETCONF_HEAD],
    ['# only a comment', SETCONF_HEAD],
    [
      `[Peer]\nPublicKey = ${P}\nAllowedIPs = 10.0.0.0/8, fd00::/64\nAllowedIPs = 10.1.0.0/16\nEndpoint = [fd00::2]:51820\nPersistentKeepalive = 25`,
      `${SETCONF_HEAD}public_key=${PH}\nendpoint=[fd00::2]:51820\npersistent_keepalive_interval=25\nreplace_allowed_ips=true\nallowed_ip=10.0.0.0/8\nallowed_ip=fd00::/64\nallowed_ip=10.1.0.0/16\n`,
    ],
    [`[Interface]\nListenPort=1\n[Peer]\nPublicKey=${P}\n`, `set=1\nlisten_port=1\npublic_key=${PH}\nreplace_allowed_ips=true\n`, true],
  ];
  for (const [text, body, append] of cases) assert.deepEqual(await read(text, append), { err: '', req: `${body}\n` }, text);
});

test('lines are split as getline splits them; text after NUL is ignored', async () => {
  assert.deepEqual(splitLines('a\nb\n'), ['a', 'b']);
  assert.deepEqual(splitLines('a\nb'), ['a', 'b']);
  assert.deepEqual(splitLines(''), []);
  assert.deepEqual(await read('[Interface]\nListenPort=3\0garbage\n'), { err: '', req: `${SETCONF_HEAD.replace('listen_port=0', 'listen_port=3')}\n` });
});
