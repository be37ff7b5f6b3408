/**
 * The ferry CLI against the real wg(8) 1.0.20210914: the same daemons (ferryd, or a fake
 * UAPI socket with crafted states) read by both tools must print byte-identical output
 * (non-TTY), and the same commands must change a daemon the same way (read back with the
 * real `wg showconf`). Also: syncconf keeps sessions, large configurations, and malformed
 * UAPI input against ferryd.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as ferryInProcess } from '../../src/cli/ferry.js';
import { MemoryIo } from '../../src/cli/wg/cli-io.js';
import { fakeUapiDaemon } from '../support/fake-uapi.js';
import { netns, requireHost, uniqueName } from '../support/netns.js';
import { genKey, ping, REPO, startDaemon, wgPair } from '../support/wg.js';

const TOOLS = ['wg', 'wireguard-go', 'ping'];
const FERRY = join(REPO, 'src/cli/ferry.ts');
const SOCK_DIR = '/var/run/wireguard';
const FIELDS = ['public-key', 'private-key', 'listen-port', 'fwmark', 'peers', 'preshared-keys', 'endpoints', 'allowed-ips', 'latest-handshakes', 'transfer', 'persistent-keepalive', 'dump'];

interface Result {
  code: number;
  out: string;
  err: string;
}

interface RunOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  timeout?: number;
}

function exec(cmd: string, args: string[], o: RunOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO, env: { ...process.env, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeout ?? 120_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out: Buffer.concat(out).toString('latin1'), err: Buffer.concat(err).toString('latin1') });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(o.input ?? '');
  });
}

const ferry = (args: string[], o?: RunOptions) => exec(process.execPath, ['--import', 'tsx', FERRY, ...args], o);
const wg = (args: string[], o?: RunOptions) => exec('wg', args, o);

/** wg names itself in usage lines and pubkey's errors; ferry says "ferry" there. */
function asFerry(text: string): string {
  return text.replaceAll('Usage: wg ', 'Usage: ferry ').replace(/^wg: /gm, 'ferry: ');
}

/**
 * Runs ferry, then wg right after, and requires the same stdout, stderr and exit code.
 * Between the two runs a handshake or a counter may change and "5 seconds ago" may turn
 * into "6 seconds ago", so a mismatch is retried a few times; the last try must match.
 */
async function compareWith(what: string, runWg: () => Promise<Result>, runFerry: () => Promise<Result>): Promise<Result> {
  for (let attempt = 1; ; attempt++) {
    const mine = await runFerry();
    const theirs = await runWg();
    const same = mine.out === theirs.out && mine.err === asFerry(theirs.err) && mine.code === theirs.code;
    if (same || attempt === 6) {
      assert.equal(mine.out, theirs.out, `${what}: stdout`);
      assert.equal(mine.err, asFerry(theirs.err), `${what}: stderr`);
      assert.equal(mine.code, theirs.code, `${what}: exit code`);
      return mine;
    }
  }
}

function sameAsWg(args: string[], o: RunOptions = {}): Promise<Result> {
  return compareWith(`ferry ${args.join(' ')} ${JSON.stringify(o.env ?? {})}`, () => wg(args, o), () => ferry(args, o));
}

/** A fake userspace daemon: answers `get` with a scripted text ('' hangs up), records each `set`. */
async function fakeDaemon(t: TestContext, get: string) {
  const name = uniqueName('fyk');
  const state = { name, get, setAnswer: 'errno=0\n\n', sets: [] as string[] };
  const path = `${SOCK_DIR}/${name}.sock`;
  const server = await fakeUapiDaemon(path, state);
  t.after(() => {
    server.close();
    rmSync(path, { force: true });
  });
  return state;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

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

test('show all and show interfaces list sockets like wg (private socket directory)', async (t) => {
  if (!requireHost(t, [...TOOLS, 'unshare'])) return;
  const ns = netns(t, 'fyl');
  const d1 = await startDaemon(t, ns, 'ferry');
  const d2 = await startDaemon(t, ns, 'wireguard-go');
  const d3 = await startDaemon(t, ns, 'ferry');
  const k = genKey();
  const dir = tempDir(t);
  writeFileSync(join(dir, 'key'), k.privateKey);
  ns.run('wg', ['set', d1.ifname, 'listen-port', '40001', 'private-key', join(dir, 'key'), 'peer', genKey().publicKey, 'allowed-ips', '10.0.0.0/8']);
  ns.run('wg', ['set', d2.ifname, 'listen-port', '40002', 'peer', k.publicKey, 'endpoint', '127.0.0.1:40001']);
  // A mount namespace where /run/wireguard holds only this test's sockets (bind-mounted),
  // so `show all` is not disturbed by other tests' daemons.
  const forms = [['show'], ['show', 'all'], ['show', 'interfaces'], ...FIELDS.map((f) => ['show', 'all', f])];
  const script = [
    'set -e',
    `mkdir -p ${dir}/orig`,
    `mount --bind /run/wireguard ${dir}/orig`,
    'mount -t tmpfs tmpfs /run/wireguard',
    ...[d1, d2, d3].map(({ ifname }) => `touch /run/wireguard/${ifname}.sock && mount --bind ${dir}/orig/${ifname}.sock /run/wireguard/${ifname}.sock`),
    ...forms.flatMap((args, i) => [
      `for try in 1 2 3 4 5; do`,
      `  wg ${args.join(' ')} > ${dir}/wg${i}a 2>&1 || true`,
      `  ${process.execPath} --import tsx ${FERRY} ${args.join(' ')} > ${dir}/ferry${i} 2>&1 || true`,
      `  wg ${args.join(' ')} > ${dir}/wg${i}b 2>&1 || true`,
      `  cmp -s ${dir}/wg${i}a ${dir}/wg${i}b && break`,
      'done',
    ]),
  ].join('\n');
  const r = await exec('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { timeout: 300_000 });
  assert.equal(r.code, 0, r.err);
  const { readFileSync } = await import('node:fs');
  forms.forEach((args, i) => {
    const w = readFileSync(join(dir, `wg${i}a`), 'latin1');
    assert.equal(readFileSync(join(dir, `ferry${i}`), 'latin1'), w, args.join(' '));
    if (args.length === 1 || args[1] !== 'interfaces') assert.ok(w.length > 0, 'wg printed something');
  });
  const names = readFileSync(join(dir, `wg${forms.findIndex((f) => f[1] === 'interfaces')}a`), 'latin1').trim().split(' ');
  assert.deepEqual([...names].sort(), [d1.ifname, d2.ifname, d3.ifname].sort());
});

/** Two ferryd in two namespaces: one configured with wg, the other with ferry; compare with `wg showconf`. */
test('ferry set/setconf/addconf/syncconf change ferryd exactly as wg does', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const byWg = { ns: netns(t, 'fyw'), ifname: '' };
  const byFerry = { ns: netns(t, 'fyf'), ifname: '' };
  byWg.ifname = (await startDaemon(t, byWg.ns, 'ferry')).ifname;
  byFerry.ifname = (await startDaemon(t, byFerry.ns, 'ferry')).ifname;
  const dir = tempDir(t);
  const keys = Array.from({ length: 6 }, () => genKey());
  const psk = genKey().privateKey;
  const file = (name: string, body: string) => {
    const path = join(dir, name);
    writeFileSync(path, body, { mode: 0o600 });
    return path;
  };
  const base = file(
    'base.conf',
    `[Interface]\nPrivateKey = ${keys[0].privateKey}\nListenPort = 41000\nFwMark = 0x7\n\n` +
      `[Peer]\nPublicKey = ${keys[1].publicKey}\nPresharedKey = ${psk}\nAllowedIPs = 10.1.0.0/16, fd01::/64\nEndpoint = 127.0.0.1:41001\nPersistentKeepalive = 25\n\n` +
      `[Peer]\nPublicKey = ${keys[2].publicKey}\nAllowedIPs = 10.2.0.0/16\nEndpoint = [::1]:41002\n\n` +
      `[Peer]\nPublicKey = ${keys[3].publicKey}\nAllowedIPs = 10.3.0.1/32, 10.3.0.2/32\n`,
  );
  const pskFile = file('psk', `${psk}\n`);
  const keyFile = file('key', `${keys[5].privateKey}\n`);
  const add = file('add.conf', `[Peer]\nPublicKey = ${keys[4].publicKey}\nAllowedIPs = 10.4.0.0/16\n\n[Peer]\nPublicKey = ${keys[2].publicKey}\nAllowedIPs = 10.22.0.0/16\n`);
  const sync = file('sync.conf', `[Interface]\nPrivateKey = ${keys[5].privateKey}\nListenPort = 41005\n\n[Peer]\nPublicKey = ${keys[4].publicKey}\nAllowedIPs = 10.44.0.0/16\n\n[Peer]\nPublicKey = ${keys[1].publicKey}\nAllowedIPs = 10.1.0.0/16\nPersistentKeepalive = 5\n`);
  const steps: string[][] = [
    ['setconf', '@', base],
    ['set', '@', 'listen-port', '41010', 'fwmark', 'off', 'private-key', keyFile],
    ['set', '@', 'peer', keys[2].publicKey, 'allowed-ips', '', 'peer', keys[3].publicKey, 'remove'],
    ['set', '@', 'peer', keys[1].publicKey, 'endpoint', 'localhost:41011', 'persistent-keepalive', 'off', 'allowed-ips', '10.1.0.0/16,fd01::/64,10.11.0.0/16'],
    ['set', '@', 'peer', keys[3].publicKey, 'preshared-key', pskFile, 'allowed-ips', '10.3.0.0/24', 'endpoint', '[fd00::3]:3'],
    ['addconf', '@', add],
    ['syncconf', '@', sync],
    ['set', '@', 'peer', keys[1].publicKey, 'preshared-key', '/dev/null', 'peer', keys[4].publicKey, 'allowed-ips', '10.4.0.1/32, fd04::1/128'],
    ['setconf', '@', base],
  ];
  for (const step of steps) {
    const viaWg = await wg(step.map((w) => (w === '@' ? byWg.ifname : w)));
    const viaFerry = await ferry(step.map((w) => (w === '@' ? byFerry.ifname : w)));
    assert.deepEqual([viaFerry.code, viaFerry.err], [viaWg.code, asFerry(viaWg.err)], step.join(' '));
    const confWg = byWg.ns.run('wg', ['showconf', byWg.ifname]);
    const confFerry = byFerry.ns.run('wg', ['showconf', byFerry.ifname]);
    assert.equal(confFerry, confWg, `after ${step.join(' ')}`);
    assert.equal((await ferry(['showconf', byFerry.ifname])).out, confFerry);
  }
});

test('syncconf keeps an established session: handshake and counters stay, traffic keeps flowing', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const { a, b } = await wgPair(t, { left: 'ferry', right: 'wireguard-go' });
  ping(a, b.inner4, 2);
  const handshake = () => a.ns.run('wg', ['show', a.ifname, 'latest-handshakes']).trim().split('\n').find((l) => l.startsWith(b.publicKey))?.split('\t')[1];
  const rx = () => BigInt(a.ns.run('wg', ['show', a.ifname, 'transfer']).split('\n').find((l) => l.startsWith(b.publicKey))?.split('\t')[1] ?? '0');
  const h1 = handshake();
  assert.ok(h1 !== undefined && h1 !== '0', 'a handshake happened');
  const rx1 = rx();
  // Any new handshake would now carry a later second.
  await new Promise((r) => setTimeout(r, 1200));
  const dir = tempDir(t);
  const newPeer = genKey();
  const conf = join(dir, 'a.conf');
  writeFileSync(
    conf,
    `[Interface]\nPrivateKey = ${a.privateKey}\nListenPort = ${a.listenPort}\n\n` +
      `[Peer]\nPublicKey = ${b.publicKey}\nAllowedIPs = ${b.inner4}/32, ${b.inner6}/128, 10.77.9.0/24\nEndpoint = ${b.underlay}:${b.listenPort}\n\n` +
      `[Peer]\nPublicKey = ${newPeer.publicKey}\nAllowedIPs = 10.78.0.0/16\n`,
  );
  const r = await ferry(['syncconf', a.ifname, conf]);
  assert.deepEqual([r.code, r.err], [0, '']);
  assert.equal(handshake(), h1, 'the unchanged peer kept its session');
  assert.ok(rx() >= rx1, 'its counters were not reset');
  const shown = (await ferry(['show', a.ifname, 'allowed-ips'])).out;
  assert.ok(shown.includes(`${b.publicKey}\t${b.inner4}/32 ${b.inner6}/128 10.77.9.0/24\n`), shown);
  assert.ok(shown.includes(`${newPeer.publicKey}\t10.78.0.0/16\n`), 'the new peer was added');
  ping(a, b.inner4, 3);
  ping(b, a.inner6, 3);
  assert.equal(handshake(), h1, 'traffic flowed on the old session');

  // The same file through setconf replaces the peer: its session is gone.
  const s = await ferry(['setconf', a.ifname, conf]);
  assert.equal(s.code, 0);
  assert.notEqual(handshake(), h1, 'setconf drops the session (so the check above can fail)');
});

test('large configurations: 1,000 peers, and one peer with 100,000 allowed IPs', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const ns = netns(t, 'fyz');
  const { ifname } = await startDaemon(t, ns, 'ferry');
  const dir = tempDir(t);
  const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

  const peers = Array.from({ length: 1000 }, (_, i) => ({ key: genKeyFast(i), ip: ip(i + 1) }));
  const many = join(dir, 'many.conf');
  writeFileSync(many, `[Interface]\nListenPort = 42000\n\n${peers.map((p, i) => `[Peer]\nPublicKey = ${p.key}\nAllowedIPs = ${p.ip}/32\nEndpoint = 127.0.0.1:${20000 + i}\n`).join('\n')}`);
  let t0 = performance.now();
  assert.deepEqual(await ferry(['setconf', ifname, many], { timeout: 300_000 }), { code: 0, out: '', err: '' });
  const setMs = performance.now() - t0;
  t0 = performance.now();
  const conf = await ferry(['showconf', ifname], { timeout: 300_000 });
  const showMs = performance.now() - t0;
  t.diagnostic(`1,000 peers: ferry setconf ${setMs.toFixed(0)} ms, ferry showconf ${showMs.toFixed(0)} ms (including node start)`);
  assertSameText(conf.out, (await wg(['showconf', ifname])).out, '1,000 peers: ferry showconf vs wg showconf');
  const shownPeers = conf.out.split('[Peer]\n').slice(1);
  assert.equal(shownPeers.length, 1000);
  const byKey = new Map(peers.map((p, i) => [p.key, i]));
  for (const block of shownPeers) {
    const key = /PublicKey = (\S+)/.exec(block)?.[1] ?? '';
    const i = byKey.get(key);
    assert.ok(i !== undefined, 'a configured peer');
    assert.ok(block.includes(`AllowedIPs = ${peers[i].ip}/32\n`) && block.includes(`Endpoint = 127.0.0.1:${20000 + i}\n`));
  }

  const one = genKey().publicKey;
  const ips = Array.from({ length: 100_000 }, (_, i) => `${ip(i + 0x10000)}/32`);
  const lines: string[] = [];
  for (let i = 0; i < ips.length; i += 1000) lines.push(`AllowedIPs = ${ips.slice(i, i + 1000).join(', ')}`);
  const big = join(dir, 'big.conf');
  writeFileSync(big, `[Interface]\nListenPort = 42001\n\n[Peer]\nPublicKey = ${one}\n${lines.join('\n')}\n`);
  t0 = performance.now();
  assert.deepEqual(await ferry(['setconf', ifname, big], { timeout: 300_000 }), { code: 0, out: '', err: '' });
  const bigSetMs = performance.now() - t0;
  t0 = performance.now();
  const bigConf = await ferry(['showconf', ifname], { timeout: 300_000 });
  const bigShowMs = performance.now() - t0;
  t.diagnostic(`100,000 allowed IPs: ferry setconf ${bigSetMs.toFixed(0)} ms, ferry showconf ${bigShowMs.toFixed(0)} ms`);
  assertSameText(bigConf.out, `[Interface]\nListenPort = 42001\n\n[Peer]\nPublicKey = ${one}\nAllowedIPs = ${ips.join(', ')}\n`, '100,000 allowed IPs read back');
  assertSameText(bigConf.out, (await wg(['showconf', ifname])).out, '100,000 allowed IPs: ferry showconf vs wg showconf');
});

/** Equality for megabyte texts: on a mismatch, shows where, not the whole text. */
function assertSameText(actual: string, expected: string, what: string): void {
  if (actual === expected) return;
  let i = 0;
  while (i < actual.length && actual[i] === expected[i]) i++;
  assert.fail(`${what}: differs at byte ${i} of ${actual.length}/${expected.length}: ${JSON.stringify(actual.slice(Math.max(0, i - 40), i + 40))} vs ${JSON.stringify(expected.slice(Math.max(0, i - 40), i + 40))}`);
}

/** Distinct valid public keys without spawning wg a thousand times (any 32 bytes are a valid key). */
function genKeyFast(i: number): string {
  const b = Buffer.alloc(32, 0x5a);
  b.writeUInt32BE(i, 0);
  return b.toString('base64');
}

/** One raw UAPI exchange; resolves with what the daemon sent before closing or going quiet. */
function rawUapi(path: string, data: string | Buffer, quietMs = 1500): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    let text = '';
    let closed = false;
    let timer = setTimeout(() => done(), quietMs);
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ text, closed });
    };
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      text += d;
      clearTimeout(timer);
      timer = setTimeout(done, 300);
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      closed = true;
      done();
    });
    sock.on('connect', () => sock.write(data));
  });
}

test('malformed UAPI input to ferryd gets an errno, changes nothing, and ferryd keeps working', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const ns = netns(t, 'fym');
  const { ifname } = await startDaemon(t, ns, 'ferry');
  const path = `${SOCK_DIR}/${ifname}.sock`;
  const k = genKey();
  assert.equal((await ferry(['set', ifname, 'listen-port', '43000', 'peer', k.publicKey, 'allowed-ips', '10.0.0.0/8'])).code, 0);
  const before = (await ferry(['showconf', ifname])).out;
  const stillWorks = async () => {
    assert.equal((await ferry(['showconf', ifname])).out, before, 'configuration unchanged');
    assert.equal((await wg(['show', ifname, 'listen-port'])).out, '43000\n');
  };

  const cases: [string, string | Buffer][] = [
    ['unknown key', 'set=1\nlisten_port=43001\nno_such_key=1\n\n'],
    ['unknown peer key', `set=1\npublic_key=${hex(k.publicKey)}\nno_such_key=1\n\n`],
    ['bad hex key', 'set=1\nprivate_key=zz\n\n'],
    ['short hex key', `set=1\npublic_key=${'ab'.repeat(31)}\n\n`],
    ['bad number', 'set=1\nlisten_port=70000\n\n'],
    ['bad allowed ip', `set=1\npublic_key=${hex(k.publicKey)}\nallowed_ip=10.0.0.0/99\n\n`],
    ['line without =', 'set=1\nnonsense\n\n'],
    ['unknown operation', 'put=1\n\n'],
    ['get with a body', 'get=1\nlisten_port=1\n\n'],
    ['binary', Buffer.from([0x73, 0x65, 0x74, 0x3d, 0x31, 0x0a, 0xff, 0x00, 0xfe, 0x3d, 0x0a, 0x0a])],
  ];
  for (const [what, data] of cases) {
    const r = await rawUapi(path, data);
    assert.match(r.text, /^errno=-\d+\n\n$/, what);
    assert.notEqual(r.text, 'errno=0\n\n', what);
    await stillWorks();
  }

  // A line far over ferryd's 4 KiB limit (small enough to sit in the socket buffer, so the
  // answer is not lost to our own write failing) is refused with an errno.
  const huge = await rawUapi(path, `set=1\nlisten_port=${'1'.repeat(100_000)}\n\n`);
  assert.match(huge.text, /^errno=-\d+\n\n/, 'a huge line is refused');
  assert.ok(huge.closed, 'and the connection closed');
  await stillWorks();
  // 16 MiB without a newline: ferryd hangs up early instead of buffering it.
  const flood = await rawUapi(path, Buffer.alloc(16 << 20, 0x61), 5000);
  assert.ok(flood.closed, 'ferryd closed the flood');
  await stillWorks();

  // A connection that never finishes its operation does not block anyone else.
  const stuck = createConnection(path);
  stuck.on('error', () => {});
  await new Promise<void>((resolve) => stuck.on('connect', () => resolve()));
  stuck.write('set=1\nlisten_port=43002\n');
  await stillWorks();
  assert.equal((await ferry(['set', ifname, 'peer', k.publicKey, 'persistent-keepalive', '7'])).code, 0, 'others can still configure');
  stuck.destroy();
  // One that hangs up in the middle: nothing of it is applied.
  const halfOpen = await rawUapi(path, 'set=1\nlisten_port=43003\n');
  void halfOpen;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await wg(['show', ifname, 'listen-port'])).out, '43000\n');
  assert.equal((await ferry(['show', ifname, 'persistent-keepalive'])).out, `${k.publicKey}\t7\n`);
});
