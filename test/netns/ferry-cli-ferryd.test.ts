/**
 * The ferry CLI against the real wg(8) 1.0.20210914 on a running ferryd: show all and
 * show interfaces, the same commands changing ferryd exactly as wg does (read back with
 * the real `wg showconf`), syncconf keeping sessions, large configurations, and
 * malformed UAPI input. ferry-cli.test.ts has the crafted daemon states.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { netns, requireHost } from '../support/netns.js';
import { genKey, ping, startDaemon, wgPair } from '../support/wg.js';
import { asFerry, exec, ferry, FERRY, FIELDS, hex, SOCK_DIR, tempDir, TOOLS, wg } from '../support/wg-compare.js';

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
