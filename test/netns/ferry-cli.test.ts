/**
 * The ferry CLI against the real wg(8) 1.0.20210914, on crafted daemon states and on
 * ferryd: the same daemons (ferryd, or a fake UAPI socket with crafted states) read by
 * both tools must print byte-identical output (non-TTY), and the same commands must send
 * the same changes. ferry-cli-ferryd.test.ts drives ferryd itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run as ferryInProcess } from '../../src/cli/ferry.js';
import { MemoryIo } from '../../src/cli/wg/cli-io.js';
import { requireHost } from '../support/netns.js';
import { genKey, ping, wgPair } from '../support/wg.js';
import { asFerry, compareWith, exec, fakeDaemon, ferry, FERRY, FIELDS, hex, sameAsWg, tempDir, TOOLS, wg } from '../support/wg-compare.js';

test('crafted daemon states: show, every field, dump and showconf are byte-identical to wg', async (t) => {
  if (!requireHost(t, ['wg'])) return;
  const now = Math.floor(Date.now() / 1000);
  const keys = Array.from({ length: 8 }, () => genKey());
  const psk = keys[7].publicKey;
  const peer = (i: number, lines: string[]) => [`public_key=${hex(keys[i].publicKey)}`, `preshared_key=${'0'.repeat(64)}`, 'protocol_version=1', ...lines];
  const get = [
    `private_key=${hex(keys[0].privateKey)}`,
    'listen_port=51820',
    'fwmark=4660',
    ...peer(1, [
      `preshared_key=${hex(psk)}`,
      'endpoint=10.0.0.2:51820',
      `last_handshake_time_sec=${now - 65}`,
      'last_handshake_time_nsec=1',
      'rx_bytes=1152',
      'tx_bytes=5368832576',
      'persistent_keepalive_interval=25',
      'allowed_ip=10.1.0.0/16',
      'allowed_ip=fd00::/64',
      'allowed_ip=::ffff:1.2.3.4/128',
      'allowed_ip=::1.2.3.4/128',
      'allowed_ip=0.0.0.0/0',
    ]),
    ...peer(2, ['endpoint=[fe80::1%1]:5', 'last_handshake_time_sec=0', 'last_handshake_time_nsec=0', 'rx_bytes=0', 'tx_bytes=0', 'persistent_keepalive_interval=0']),
    ...peer(3, [
      'endpoint=[fd00::1%99]:65535',
      `last_handshake_time_sec=${now - 2 * 365 * 86400 - 86400 - 1}`,
      'rx_bytes=18446744073709551615',
      'tx_bytes=1023',
      'allowed_ip=fd00:0:0:1::/64',
    ]),
    ...peer(4, [`last_handshake_time_sec=${now + 100000}`, 'rx_bytes=1048576', 'tx_bytes=1099511627776']),
    ...peer(5, ['last_handshake_time_sec=0', 'last_handshake_time_nsec=5', 'endpoint=[::ffff:1.2.3.4]:7', 'persistent_keepalive_interval=65535']),
    ...peer(6, [`last_handshake_time_sec=${now - 3 * 3600 - 7}`, 'endpoint=[2001:db8::1]:51820', 'rx_bytes=1536', 'tx_bytes=1048575']),
    'errno=0',
    '',
    '',
  ].join('\n');
  const d = await fakeDaemon(t, get);
  const envs: Record<string, string>[] = [{}, { WG_HIDE_KEYS: 'never' }, { WG_COLOR_MODE: 'always' }];
  for (const env of envs) await sameAsWg(['show', d.name], { env });
  for (const field of FIELDS) await sameAsWg(['show', d.name, field]);
  await sameAsWg(['showconf', d.name]);
  await sameAsWg(['show', d.name, 'bogus']);

  // A device with no key, no port, no peers.
  const bare = await fakeDaemon(t, 'errno=0\n\n');
  await sameAsWg(['show', bare.name]);
  await sameAsWg(['showconf', bare.name]);
  for (const field of FIELDS) await sameAsWg(['show', bare.name, field]);

  // Daemon errors and protocol violations are reported as wg reports them.
  for (const answer of ['errno=-5\n\n', 'errno=5\n\n', 'listen_port=x\nerrno=0\n\n', 'private_key=12\nerrno=0\n\n', '']) {
    const bad = await fakeDaemon(t, answer);
    await sameAsWg(['show', bad.name]);
    await sameAsWg(['showconf', bad.name]);
  }
});

test('set, setconf, addconf and syncconf send exactly what wg sends, and fail as wg fails', async (t) => {
  if (!requireHost(t, ['wg'])) return;
  const [p, q, r] = [genKey(), genKey(), genKey()];
  const runtime = [`public_key=${hex(p.publicKey)}`, `public_key=${hex(q.publicKey)}`, 'persistent_keepalive_interval=25', 'errno=0', '', ''].join('\n');
  const d = await fakeDaemon(t, runtime);
  const dir = tempDir(t);
  const file = (name: string, body: string) => {
    const path = join(dir, name);
    writeFileSync(path, body);
    return path;
  };
  const keyFile = file('key', `${r.privateKey}\n`);
  const conf = (peers: string[]) => `[Interface]\nPrivateKey = ${r.privateKey}\nListenPort = 4000\n${peers.map((pk) => `[Peer]\nPublicKey = ${pk}\nAllowedIPs = 10.9.0.0/16\n`).join('')}`;
  const files = {
    full: file('full.conf', conf([q.publicKey, r.publicKey])),
    none: file('none.conf', '[Interface]\nListenPort = 1\n'),
    bad: file('bad.conf', '[Interface]\nAddress = 10.0.0.1/24\n'),
    nokey: file('nokey.conf', '[Peer]\nAllowedIPs = 1.2.3.4/32\n'),
    hosts: file('hosts.conf', `[Peer]\nPublicKey = ${p.publicKey}\nEndpoint = localhost:51820\n`),
  };
  const cases: string[][] = [
    ['set', d.name, 'listen-port', '51820', 'fwmark', '0x10', 'private-key', keyFile],
    ['set', d.name, 'private-key', '/dev/null'],
    ['set', d.name, 'peer', p.publicKey, 'remove'],
    ['set', d.name, 'peer', p.publicKey, 'allowed-ips', ''],
    ['set', d.name, 'peer', p.publicKey, 'allowed-ips', '10.0.0.1/8, fd00::/64', 'endpoint', '[fd00::1]:1', 'persistent-keepalive', 'off', 'preshared-key', keyFile],
    ['set', d.name, 'peer', p.publicKey, 'endpoint', 'localhost:51820', 'peer', q.publicKey, 'endpoint', '127.1:9'],
    ['set', d.name, 'peer', p.publicKey, 'allowed-ips', '+10.0.0.0/8'],
    ['set', d.name, 'peer', p.publicKey, 'allowed-ips', '10.0.0.0/33'],
    ['set', d.name, 'peer', 'nope'],
    ['set', d.name, 'peer', p.publicKey, 'fwmark', '1'],
    ['set', d.name, 'peer', p.publicKey, 'endpoint', '[fe80::1%no-such-if]:1'],
    ['set', d.name, 'private-key', join(dir, 'missing')],
    ['set', d.name],
    ['setconf', d.name, files.full],
    ['addconf', d.name, files.full],
    ['syncconf', d.name, files.full],
    ['syncconf', d.name, files.none],
    ['setconf', d.name, files.hosts],
    ['setconf', d.name, files.bad],
    ['addconf', d.name, files.nokey],
    ['setconf', d.name, join(dir, 'missing.conf')],
    ['setconf', d.name],
  ];
  const env = { WG_ENDPOINT_RESOLUTION_RETRIES: '0' };
  for (const argv of cases) {
    d.sets.length = 0;
    const w = await wg(argv, { env });
    const wgSets = d.sets.splice(0);
    // In-process: the same code as the binary, without a node start per case.
    const io = new MemoryIo({ ...process.env, ...env });
    const code = await ferryInProcess(io, argv);
    const what = argv.join(' ');
    assert.equal(io.stderr, asFerry(w.err), `${what}: stderr`);
    assert.equal(code, w.code, `${what}: exit code`);
    assert.deepEqual(d.sets, wgSets, `${what}: UAPI request`);
    assert.equal(io.stdout, w.out);
  }

  // Without a socket wg falls back to the kernel (here: "Protocol not supported" without
  // the module, "No such device" with it); ferry has no kernel interfaces: always ENODEV.
  for (const argv of [['set', 'fy-no-such-if', 'listen-port', '1'], ['setconf', 'fy-no-such-if', files.full], ['syncconf', 'fy-no-such-if', files.full], ['show', 'fy-no-such-if'], ['showconf', 'fy-no-such-if']]) {
    const io = new MemoryIo({ ...process.env, ...env });
    assert.equal(await ferryInProcess(io, argv), (await wg(argv, { env })).code, argv.join(' '));
    const verb = argv[0] === 'syncconf' ? 'retrieve current interface configuration' : argv[0].startsWith('show') ? 'access interface' : 'modify interface';
    assert.equal(io.stderr, `Unable to ${verb}: No such device\n`, argv.join(' '));
  }

  // A daemon that refuses a set: both tools say why.
  d.setAnswer = 'errno=-98\n\n';
  await sameAsWg(['set', d.name, 'listen-port', '1']);
  // Keys from stdin, as a real process.
  d.setAnswer = 'errno=0\n\n';
  d.sets.length = 0;
  // Through a real pipe: node's own stdio pipes are socketpairs, which /dev/stdin cannot open (ENXIO).
  const piped = (cmd: string) => exec('sh', ['-c', `printf '%s\\n' "$KEY" | ${cmd} set ${d.name} private-key /dev/stdin`], { env: { KEY: r.privateKey } });
  assert.deepEqual(await piped('wg'), { code: 0, out: '', err: '' });
  assert.deepEqual(await piped(`${process.execPath} --import tsx ${FERRY}`), { code: 0, out: '', err: '' });
  assert.equal(d.sets.length, 2);
  assert.equal(d.sets[1], d.sets[0]);
  assert.equal(d.sets[0], `set=1\nprivate_key=${hex(r.privateKey)}\n\n`);
});

test('ferryd: show, every field, dump and showconf are byte-identical to wg, colours only on a terminal', async (t) => {
  if (!requireHost(t, [...TOOLS, 'script'])) return;
  const { a, b } = await wgPair(t, { left: 'ferry', right: 'ferry', psk: true, keepalive: 25 });
  ping(a, b.inner4, 2);
  ping(b, a.inner6, 2);
  const extra = genKey();
  a.ns.run('wg', ['set', a.ifname, 'fwmark', '0x42', 'peer', extra.publicKey, 'endpoint', '[fd00::9]:4444', 'allowed-ips', '192.168.77.0/24,fd77:1::/64,::ffff:10.0.0.1/128', 'persistent-keepalive', '65535']);
  a.ns.run('wg', ['set', a.ifname, 'peer', genKey().publicKey]);
  for (const peer of [a, b]) {
    const envs: Record<string, string>[] = [{}, { WG_HIDE_KEYS: 'never' }, { WG_COLOR_MODE: 'always' }];
    for (const env of envs) await sameAsWg(['show', peer.ifname], { env });
    for (const field of FIELDS) await sameAsWg(['show', peer.ifname, field]);
    await sameAsWg(['showconf', peer.ifname]);
  }
  const plain = await ferry(['show', a.ifname]);
  assert.ok(!plain.out.includes('\x1b'), 'no escape codes when stdout is not a terminal');
  // On a terminal (script(1) gives each a pty) both print the same colours.
  const tty = (cmd: string) => exec('script', ['-qec', cmd, '/dev/null']);
  const colored = await compareWith(
    'ferry show on a terminal',
    () => tty(`wg show ${a.ifname}`),
    () => tty(`${process.execPath} --import tsx ${FERRY} show ${a.ifname}`),
  );
  assert.ok(colored.out.includes('\x1b[32m\x1b[1minterface\x1b[0m'), 'colours on a terminal');
});

