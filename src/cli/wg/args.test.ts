import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSetArgs } from './args.js';
import { MemoryIo } from './cli-io.js';
import { formatSet } from '../../uapi/set-format.js';
import { ExitError, parseEndpoint } from './values.js';

const P = 'iiTfMJceuvfMvah+Z/XdKOn6faJTNQT6c4M4vDwN0wQ=';
const PH = Buffer.from(P, 'base64').toString('hex');
const PRIV = 'WEgHzFFJ090e1JvySw5ArgqZ4VERpt3re1lb4cIcH1o=';

async function parse(argv: string[], env: NodeJS.ProcessEnv = { WG_ENDPOINT_RESOLUTION_RETRIES: '0' }): Promise<{ err: string; req: string | null }> {
  const io = new MemoryIo(env);
  const dev = await readSetArgs(io, argv);
  return { err: io.stderr, req: dev === null ? null : formatSet(dev) };
}

/** What wg 1.0.20210914 printed for the same words (recorded against a fake UAPI socket). */
const REJECTED: [string[], string][] = [
  [['listen-port'], 'Invalid argument: listen-port\n'],
  [['listen-port', 'abc'], "Servname not supported for ai_socktype: `abc'\n"],
  [['listen-port', ''], 'Unable to parse empty port\n'],
  [['listen-port', '0x10'], "Servname not supported for ai_socktype: `0x10'\n"],
  [['listen-port', '-1'], "Servname not supported for ai_socktype: `-1'\n"],
  [['fwmark', '0x'], "Fwmark is neither 0/off nor 0-0xffffffff: `0x'\n"],
  [['fwmark', '0x1g'], "Fwmark is neither 0/off nor 0-0xffffffff: `0x1g'\n"],
  [['fwmark', '0x100000000'], "Fwmark is neither 0/off nor 0-0xffffffff: `0x100000000'\n"],
  [['fwmark', '-1'], "Fwmark is neither 0/off nor 0-0xffffffff: `-1'\n"],
  [['peer', 'abc'], "Key is not the correct length or format: `abc'\n"],
  [['peer'], 'Invalid argument: peer\n'],
  [['remove'], 'Invalid argument: remove\n'],
  [['peer', P, 'listen-port', '3'], 'Invalid argument: listen-port\n'],
  [['peer', P, 'endpoint', '1.2.3.4'], "Unable to find port of endpoint: `1.2.3.4'\n"],
  [['peer', P, 'endpoint', '[::1'], "Unable to find matching brace of endpoint: `[::1'\n"],
  [['peer', P, 'endpoint', '[::1]'], "Unable to find port of endpoint: `[::1]'\n"],
  [['peer', P, 'endpoint', '[::1]:'], "Unable to find port of endpoint: `[::1]:'\n"],
  [['peer', P, 'endpoint', ''], 'Unable to parse empty endpoint\n'],
  [['peer', P, 'endpoint', ':51820'], "Name or service not known: `:51820'\n"],
  [['peer', P, 'endpoint', '[]:51820'], "Name or service not known: `[]:51820'\n"],
  [['peer', P, 'endpoint', '[fe80::1%nosuch]:51820'], "Name or service not known: `[fe80::1%nosuch]:51820'\n"],
  [['peer', P, 'endpoint', '1.2.3.4:-1'], "Servname not supported for ai_socktype: `1.2.3.4:-1'\n"],
  [['peer', P, 'endpoint', '1.2.3.4:4294967295'], "Servname not supported for ai_socktype: `1.2.3.4:4294967295'\n"],
  [['peer', P, 'persistent-keepalive', '65536'], "Persistent keepalive interval is neither 0/off nor 1-65535: `65536'\n"],
  [['peer', P, 'persistent-keepalive', ' 5'], "Persistent keepalive interval is neither 0/off nor 1-65535: ` 5'\n"],
  [['peer', P, 'allowed-ips', '10.0.0.0/8, fd00::/64 ,'], "Unable to parse IP address: `'\n"],
  [['peer', P, 'allowed-ips', '10.0.0.0/33'], "AllowedIP is not in the correct format: `10.0.0.0/33'\n"],
  [['peer', P, 'allowed-ips', '10.0.0.0/'], "AllowedIP is not in the correct format: `10.0.0.0/'\n"],
  [['peer', P, 'allowed-ips', '10.0.0.0/+8'], "AllowedIP is not in the correct format: `10.0.0.0/+8'\n"],
  [['peer', P, 'allowed-ips', '10.0.0.0/8/9'], "AllowedIP is not in the correct format: `10.0.0.0/8/9'\n"],
  [['peer', P, 'allowed-ips', '1.2.3'], "Unable to parse IP address: `1.2.3'\n"],
  [['peer', P, 'allowed-ips', '10.0.0.1/8,+10.2.0.0/16'], "Warning: AllowedIP has nonzero host part: 10.0.0.1/8\nUnable to parse IP address: `+10.2.0.0'\n"],
  [['peer', P, 'allowed-ips', 'fd00::/129'], "AllowedIP is not in the correct format: `fd00::/129'\n"],
  [['private-key', '/nonexistent/key'], 'fopen: No such file or directory\n'],
  [['bogus'], 'Invalid argument: bogus\n'],
];

test('set arguments wg rejects are rejected with wg’s message', async () => {
  for (const [argv, message] of REJECTED) {
    const r = await parse(argv);
    assert.equal(r.req, null, argv.join(' '));
    assert.equal(r.err, message, argv.join(' '));
  }
});

const head = `public_key=${PH}\n`;
const ACCEPTED: [string[], string, string?][] = [
  [['listen-port', '70000'], 'listen_port=4464\n'],
  [['listen-port', '0'], 'listen_port=0\n'],
  [['fwmark', 'off'], 'fwmark=0\n'],
  [['fwmark', 'OFF'], 'fwmark=0\n'],
  [['fwmark', '077'], 'fwmark=77\n'],
  [['fwmark', '0xff'], 'fwmark=255\n'],
  [['fwmark', '0xFFFFFFFF'], 'fwmark=4294967295\n'],
  [['peer', P, 'endpoint', '1.2.3.4:99999'], `${head}endpoint=1.2.3.4:34463\n`],
  [['peer', P, 'endpoint', '1.2.3.4:4294967296'], `${head}endpoint=1.2.3.4:0\n`],
  [['peer', P, 'endpoint', '1.2.3.4:+5'], `${head}endpoint=1.2.3.4:5\n`],
  [['peer', P, 'endpoint', '1.2.3.4: 5'], `${head}endpoint=1.2.3.4:5\n`],
  [['peer', P, 'endpoint', '[1.2.3.4]:5'], `${head}endpoint=1.2.3.4:5\n`],
  [['peer', P, 'endpoint', '::1:51820'], `${head}endpoint=[::1]:51820\n`],
  [['peer', P, 'endpoint', '127.1:51820'], `${head}endpoint=127.0.0.1:51820\n`],
  [['peer', P, 'endpoint', '[fe80::1%lo]:51820'], `${head}endpoint=[fe80::1%lo]:51820\n`],
  [['peer', P, 'endpoint', '[fe80::1%1]:51820'], `${head}endpoint=[fe80::1%lo]:51820\n`],
  [['peer', P, 'endpoint', '[fe80::1%99]:51820'], `${head}endpoint=[fe80::1%99]:51820\n`],
  [['peer', P, 'endpoint', '[fd00::1%99]:51820'], `${head}endpoint=[fd00::1%99]:51820\n`],
  [['peer', P, 'endpoint', '[::ffff:1.2.3.4]:51820'], `${head}endpoint=[::ffff:1.2.3.4]:51820\n`],
  [['peer', P, 'persistent-keepalive', 'OFF'], `${head}persistent_keepalive_interval=0\n`],
  [['peer', P, 'persistent-keepalive', '25'], `${head}persistent_keepalive_interval=25\n`],
  [['peer', P, 'allowed-ips', 'fd00::1/64'], `${head}replace_allowed_ips=true\nallowed_ip=fd00::1/64\n`, 'Warning: AllowedIP has nonzero host part: fd00::1/64\n'],
  [['peer', P, 'allowed-ips', ''], `${head}replace_allowed_ips=true\n`],
  [['peer', P, 'allowed-ips', ' 10.0.0.0/8 , 0::0/0,1.2.3.4'], `${head}replace_allowed_ips=true\nallowed_ip=10.0.0.0/8\nallowed_ip=::/0\nallowed_ip=1.2.3.4/32\n`],
  [['peer', P, 'allowed-ips', '10.0.0.0/8', 'allowed-ips', '10.1.0.0/16'], `${head}replace_allowed_ips=true\nallowed_ip=10.0.0.0/8\nallowed_ip=10.1.0.0/16\n`],
  [['peer', P, 'remove', 'allowed-ips', '1.2.3.4'], `${head}remove=true\n`],
  [['peer', P, 'peer', P, 'remove'], `${head}${head}remove=true\n`],
];

test('set arguments wg accepts become the UAPI lines wg sends', async () => {
  for (const [argv, body, warning] of ACCEPTED) {
    const r = await parse(argv);
    assert.equal(r.err, warning ?? '', argv.join(' '));
    assert.equal(r.req, `set=1\n${body}\n`, argv.join(' '));
  }
});

test('key files: empty means no key, and wg’s checks for length and trailing bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-keyfile-'));
  try {
    const file = (name: string, body: string | Buffer) => {
      const p = join(dir, name);
      writeFileSync(p, body);
      return p;
    };
    const zero = '0'.repeat(64);
    assert.deepEqual(await parse(['private-key', file('empty', '')]), { err: '', req: `set=1\nprivate_key=${zero}\n\n` });
    assert.deepEqual(await parse(['private-key', '/dev/null']), { err: '', req: `set=1\nprivate_key=${zero}\n\n` });
    const hex = Buffer.from(PRIV, 'base64').toString('hex');
    assert.deepEqual(await parse(['private-key', file('nl', `${PRIV}\n`)]), { err: '', req: `set=1\nprivate_key=${hex}\n\n` });
    assert.deepEqual(await parse(['private-key', file('nonl', PRIV)]), { err: '', req: `set=1\nprivate_key=${hex}\n\n` });
    assert.deepEqual(await parse(['private-key', file('spaces', `${PRIV} \t\r\n\n`)]), { err: '', req: `set=1\nprivate_key=${hex}\n\n` });
    assert.deepEqual(await parse(['peer', P, 'preshared-key', file('psk', `${PRIV}\n`)]), { err: '', req: `set=1\n${head}preshared_key=${hex}\n\n` });
    assert.deepEqual(await parse(['private-key', file('short', 'short\n')]), { err: 'Invalid length key in key file\n', req: null });
    assert.deepEqual(await parse(['private-key', file('trail', `${PRIV}\nx\n`)]), { err: "Found trailing character in key file: `x'\n", req: null });
    assert.deepEqual(await parse(['private-key', file('nul', Buffer.concat([Buffer.from(PRIV), Buffer.from([0])]))]), { err: "Found trailing character in key file: `\0'\n", req: null });
    const bad = `${PRIV.slice(0, 43)}A`;
    assert.deepEqual(await parse(['private-key', file('bad', bad)]), { err: `Key is not the correct length or format: \`${bad}'\n`, req: null });
    assert.deepEqual(await parse(['private-key', dir]), { err: 'Invalid length key in key file\n', req: null });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('endpoint resolution: names resolve, transient failures are retried as wg does', async () => {
  const r = await parse(['peer', P, 'endpoint', 'localhost:51820']);
  assert.equal(r.err, '');
  assert.match(r.req ?? '', /endpoint=(127\.0\.0\.1|\[::1\]):51820\n/);

  // A service that is not a UDP service is EAI_SERVICE, which wg treats as transient.
  const io = new MemoryIo({ WG_ENDPOINT_RESOLUTION_RETRIES: '3' });
  const slept: number[] = [];
  const ep = await parseEndpoint(io, '127.0.0.1:no-such-service', async (ms) => {
    slept.push(ms);
  });
  assert.equal(ep, null);
  assert.deepEqual(slept, [1000, 1200, 1440]);
  assert.equal(
    io.stderr,
    [
      "Servname not supported for ai_socktype: `127.0.0.1:no-such-service'. Trying again in 1.00 seconds...",
      "Servname not supported for ai_socktype: `127.0.0.1:no-such-service'. Trying again in 1.20 seconds...",
      "Servname not supported for ai_socktype: `127.0.0.1:no-such-service'. Trying again in 1.44 seconds...",
      "Servname not supported for ai_socktype: `127.0.0.1:no-such-service'",
      '',
    ].join('\n'),
  );

  // An unknown host is permanent: no retry (an unknown scope name fails the same way, without DNS).
  const io2 = new MemoryIo({});
  assert.equal(await parseEndpoint(io2, '[fe80::1%no-such-if]:1', () => assert.fail('no retry')), null);
  assert.equal(io2.stderr, "Name or service not known: `[fe80::1%no-such-if]:1'\n");

  const io3 = new MemoryIo({ WG_ENDPOINT_RESOLUTION_RETRIES: 'x' });
  await assert.rejects(parseEndpoint(io3, ''), (e) => e instanceof ExitError && e.code === 1);
  assert.equal(io3.stderr, "Unable to parse WG_ENDPOINT_RESOLUTION_RETRIES: `x'\n");
});
