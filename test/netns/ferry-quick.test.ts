/**
 * The wg-quick verbs for real: `ferry up|down|save` inside network namespaces, ferryd as
 * the daemon, a wireguard-go peer across a veth, config files in a temp dir (never /etc).
 * Also the stock wg-quick driving ferryd (WG_QUICK_USERSPACE_IMPLEMENTATION), the state
 * `ferry up` makes compared with the state wg-quick makes, SIGHUP reload, and rollback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { controlRequest } from '../../src/control/control-client.js';
import { parseConfig } from '../../src/config/parse.js';
import { firewallScripts } from '../../src/cli/quick/firewall.js';
import { netns, requireHost, tryRun, uniqueName, vethPair, type Netns, type Scope } from '../support/netns.js';
import { genKey, ping, setconf, startDaemon } from '../support/wg.js';
import { alive, ferry, sleep, waitFor, wgQuick, workspace } from '../support/quick-workspace.js';

const TOOLS = ['wg', 'wireguard-go', 'ping', 'bash'];
interface Peer {
  ns: Netns;
  ifname: string;
  privateKey: string;
  publicKey: string;
}

/**
 * Namespaces A (for ferry) and B (wireguard-go, listening on 10.201.0.2:51822 with inner
 * 10.77.0.2/24 and fd77::2/64, and 10.88.0.1 behind it), joined by a veth.
 */
async function peerB(t: Scope, nsB: Netns, aPublicKey: string, aAllowed: string): Promise<Peer> {
  const { ifname } = await startDaemon(t, nsB, 'wireguard-go');
  const keys = genKey();
  setconf({ ns: nsB, ifname }, `[Interface]\nPrivateKey = ${keys.privateKey}\nListenPort = 51822\n\n[Peer]\nPublicKey = ${aPublicKey}\nAllowedIPs = ${aAllowed}\nEndpoint = 10.201.0.1:51821\n`);
  nsB.run('ip', ['addr', 'add', '10.77.0.2/24', 'dev', ifname]);
  nsB.run('ip', ['-6', 'addr', 'add', 'fd77::2/64', 'dev', ifname, 'nodad']);
  nsB.run('ip', ['addr', 'add', '10.88.0.1/32', 'dev', ifname]);
  nsB.run('ip', ['link', 'set', ifname, 'up']);
  return { ns: nsB, ifname, ...keys };
}

function ifaceGone(ns: Netns, ifname: string): boolean {
  return !ns.tryRun('ip', ['link', 'show', 'dev', ifname]);
}

async function ferrydPid(ifname: string): Promise<number> {
  return ((await controlRequest(ifname, 'status')) as { pid: number }).pid;
}

test('ferry up / down: addresses, MTU, routes, hooks, setconf, traffic, SaveConfig', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const ifname = uniqueName('fyqa');
  const ws = workspace(t);
  const nsA = netns(t, 'fyqa');
  ws.track(nsA, ifname);
  const nsB = netns(t, 'fyqb');
  vethPair(nsA, '10.201.0.1/24', nsB, '10.201.0.2/24');
  const a = genKey();
  const b = await peerB(t, nsB, a.publicKey, '10.77.0.1/32, fd77::1/128');
  const hooks = join(ws.dir, 'hooks.log');
  const path = ws.config(
    ifname,
    `[Interface]
PrivateKey = ${a.privateKey}
ListenPort = 51821
Address = 10.77.0.1/24
Address = fd77::1/64
MTU = 1380
SaveConfig = true
PreUp = echo pre-up %i >> ${hooks}
PostUp = echo post-up %i >> ${hooks}
PreDown = echo pre-down %i >> ${hooks}
PostDown = echo post-down %i >> ${hooks}

[Peer]
PublicKey = ${b.publicKey}
AllowedIPs = 10.77.0.2/32, fd77::2/128, 10.88.0.0/16
Endpoint = 10.201.0.2:51822
`,
  );

  const up = ferry(nsA, 'up', path, { FERRYD: ws.ferryd });
  assert.equal(up.status, 0, up.stderr);
  assert.deepEqual(up.traces, [
    `${ws.ferryd} ${ifname}`,
    `echo pre-up ${ifname} >> ${hooks}`,
    `wg setconf ${ifname} /dev/fd/63`,
    `ip -4 address add 10.77.0.1/24 dev ${ifname}`,
    `ip -6 address add fd77::1/64 dev ${ifname}`,
    `ip link set mtu 1380 up dev ${ifname}`,
    // 10.77.0.2/32 and fd77::2/128 lie in the addresses' subnets: wg-quick adds no route for them
    `ip -4 route add 10.88.0.0/16 dev ${ifname}`,
    `echo post-up ${ifname} >> ${hooks}`,
  ]);
  const pid = await ferrydPid(ifname);

  const addrs = nsA.run('ip', ['-o', 'addr', 'show', 'dev', ifname]);
  assert.match(addrs, /inet 10\.77\.0\.1\/24 /);
  assert.match(addrs, /inet6 fd77::1\/64 /);
  const link = nsA.run('ip', ['link', 'show', 'dev', ifname]);
  assert.match(link, /<[^>]*\bUP\b[^>]*> mtu 1380 /);
  const routes = nsA.run('ip', ['route', 'show', 'dev', ifname]);
  assert.match(routes, /^10\.77\.0\.0\/24 proto kernel/m);
  assert.match(routes, /^10\.88\.0\.0\/16 scope link/m);
  assert.equal(
    nsA.run('wg', ['showconf', ifname]),
    `[Interface]\nListenPort = 51821\nPrivateKey = ${a.privateKey}\n\n[Peer]\nPublicKey = ${b.publicKey}\nAllowedIPs = 10.77.0.2/32, fd77::2/128, 10.88.0.0/16\nEndpoint = 10.201.0.2:51822\n`,
  );

  ping(nsA, '10.77.0.2');
  ping(nsA, '10.88.0.1');
  await waitFor(() => !nsA.run('ip', ['-6', 'addr', 'show', 'dev', ifname]).includes('tentative'), 'IPv6 DAD');
  ping(nsA, 'fd77::2');

  // A change made at runtime, which SaveConfig must write back.
  nsA.run('wg', ['set', ifname, 'peer', b.publicKey, 'persistent-keepalive', '25']);

  const down = ferry(nsA, 'down', path);
  assert.equal(down.status, 0, down.stderr);
  assert.deepEqual(down.traces, [`echo pre-down ${ifname} >> ${hooks}`, `wg showconf ${ifname}`, `ip link delete dev ${ifname}`, `echo post-down ${ifname} >> ${hooks}`]);
  assert.ok(ifaceGone(nsA, ifname), 'the interface is gone');
  await waitFor(() => !alive(pid), 'ferryd to exit');
  assert.equal(existsSync(`/var/run/wireguard/${ifname}.sock`), false);
  assert.equal(readFileSync(hooks, 'utf8'), `pre-up ${ifname}\npost-up ${ifname}\npre-down ${ifname}\npost-down ${ifname}\n`);

  const saved = readFileSync(path, 'utf8');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const config = parseConfig(saved);
  assert.deepEqual(
    config.interface.addresses.filter((x) => x.bytes[0] !== 0xfe).map((x) => `${x.family}/${x.cidr}`),
    ['4/24', '6/64'],
  );
  assert.match(saved, /^\[Interface\]\nAddress = 10\.77\.0\.1\/24\nAddress = fd77::1\/64\n/);
  assert.equal(config.interface.mtu, 1380);
  assert.equal(config.interface.saveConfig, true);
  assert.deepEqual(config.interface.preUp, [`echo pre-up %i >> ${hooks}`]);
  assert.deepEqual(config.interface.postDown, [`echo post-down %i >> ${hooks}`]);
  assert.equal(config.interface.listenPort, 51821);
  assert.equal(config.peers.length, 1);
  assert.equal(config.peers[0].persistentKeepalive, 25, 'the runtime change was saved');
  assert.match(saved, new RegExp(`\\[Peer\\]\\nPublicKey = ${b.publicKey.replace(/[+/]/g, '\\$&')}\\nAllowedIPs = 10\\.77\\.0\\.2/32, fd77::2/128, 10\\.88\\.0\\.0/16\\nEndpoint = 10\\.201\\.0\\.2:51822\\nPersistentKeepalive = 25\\n$`));

  // `down` again: it is gone.
  const again = ferry(nsA, 'down', path);
  assert.equal(again.status, 1);
  assert.match(again.stderr, new RegExp(`ferry: \`${ifname}' is not a WireGuard interface`));
});

test('ferry up / down, full tunnel: fwmark, policy rules, table 51820, firewall; traffic; all gone after down', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const ifname = uniqueName('fyqf');
  const ws = workspace(t);
  const nsA = netns(t, 'fyqa');
  ws.track(nsA, ifname);
  const nsB = netns(t, 'fyqb');
  vethPair(nsA, '10.201.0.1/24', nsB, '10.201.0.2/24');
  const a = genKey();
  const b = await peerB(t, nsB, a.publicKey, '10.77.0.1/32');
  const path = ws.config(ifname, `[Interface]\nPrivateKey = ${a.privateKey}\nListenPort = 51821\nAddress = 10.77.0.1/24\n\n[Peer]\nPublicKey = ${b.publicKey}\nAllowedIPs = 0.0.0.0/0\nEndpoint = 10.201.0.2:51822\n`);
  const nft = requireTool('nft');

  const up = ferry(nsA, 'up', path, { FERRYD: ws.ferryd });
  assert.equal(up.status, 0, up.stderr);
  assert.deepEqual(up.traces.slice(1), [
    `wg setconf ${ifname} /dev/fd/63`,
    `ip -4 address add 10.77.0.1/24 dev ${ifname}`,
    `ip link set mtu 1420 up dev ${ifname}`, // veth MTU 1500 towards the endpoint, minus 80
    `wg set ${ifname} fwmark 51820`,
    'ip -4 rule add not fwmark 51820 table 51820',
    'ip -4 rule add table main suppress_prefixlength 0',
    `ip -4 route add 0.0.0.0/0 dev ${ifname} table 51820`,
    'sysctl -q net.ipv4.conf.all.src_valid_mark=1',
    ...(nft ? ['nft -f /dev/fd/63'] : []),
  ]);
  const rules = nsA.run('ip', ['-4', 'rule', 'show']);
  assert.match(rules, /not from all fwmark 0xca6c lookup 51820/);
  assert.match(rules, /from all lookup main suppress_prefixlength 0/);
  assert.match(nsA.run('ip', ['-4', 'route', 'show', 'table', '51820']), new RegExp(`^default dev ${ifname} scope link`));
  assert.equal(nsA.run('wg', ['show', ifname, 'fwmark']).trim(), '0xca6c');
  assert.equal(nsA.run('sysctl', ['-n', 'net.ipv4.conf.all.src_valid_mark']).trim(), '1');
  if (nft) assert.match(nsA.run('nft', ['list', 'tables']), new RegExp(`table ip wg-quick-${ifname}`));

  // Everything goes through the tunnel, while ferryd's own (marked) packets still reach the peer.
  ping(nsA, '10.77.0.2');
  ping(nsA, '10.88.0.1');

  const down = ferry(nsA, 'down', path);
  assert.equal(down.status, 0, down.stderr);
  assert.deepEqual(down.traces, ['ip -4 rule delete table 51820', 'ip -4 rule delete table main suppress_prefixlength 0', `ip link delete dev ${ifname}`, ...(nft ? ['nft -f /dev/fd/63'] : [])]);
  const after = nsA.run('ip', ['-4', 'rule', 'show']);
  assert.doesNotMatch(after, /51820|suppress_prefixlength/);
  assert.equal(nsA.run('ip', ['-4', 'route', 'show', 'table', '51820']).trim(), '');
  if (nft) assert.doesNotMatch(nsA.run('nft', ['list', 'tables']), /wg-quick/);
  assert.ok(ifaceGone(nsA, ifname));
});

function requireTool(tool: string): boolean {
  return tryRun('sh', ['-c', `command -v ${tool}`]);
}

/** The state a namespace holds for one interface, with its name replaced by IF and volatile parts dropped. */
function stateOf(ns: Netns, ifname: string): Record<string, string> {
  const norm = (s: string, sorted = true) => {
    const lines = s
      .split(ifname)
      .join('IF')
      .split('\n')
      .map((l) => l.replace(/^\d+: /, '').replace(/\s+$/, ''))
      .filter((l) => l !== '' && !/fe80::|valid_lft/.test(l));
    return (sorted ? lines.sort() : lines).join('\n');
  };
  return {
    addresses: norm(ns.run('ip', ['-o', 'addr', 'show', 'dev', ifname]).replace(/\\\s+valid_lft.*$/gm, '')),
    link: norm(ns.run('ip', ['-o', 'link', 'show', 'dev', ifname]).replace(/qdisc.*$/gm, '')),
    routes4: norm(ns.run('ip', ['-4', 'route', 'show', 'table', 'all'])),
    routes6: norm(ns.run('ip', ['-6', 'route', 'show', 'table', 'all']).replace(/ pref medium| expires \S+/g, '')),
    rules4: norm(ns.run('ip', ['-4', 'rule', 'show'])),
    rules6: norm(ns.run('ip', ['-6', 'rule', 'show'])),
    nft: requireTool('nft') ? norm(ns.run('nft', ['list', 'ruleset']), false) : '',
    showconf: ns.run('wg', ['showconf', ifname]),
    srcValidMark: ns.run('sysctl', ['-n', 'net.ipv4.conf.all.src_valid_mark']).trim(),
  };
}

test('ferry up makes the state stock wg-quick makes (wireguard-go), and down removes the same', async (t) => {
  if (!requireHost(t, [...TOOLS, 'wg-quick', 'sysctl'])) return;
  const ferryIf = uniqueName('fyqs');
  const quickIf = uniqueName('fyqw');
  const ws = workspace(t);
  const nsF = netns(t, 'fyqs');
  const nsQ = netns(t, 'fyqw');
  ws.track(nsF, ferryIf);
  ws.track(nsQ, quickIf);
  for (const ns of [nsF, nsQ]) {
    // Same underlay in both: the endpoint is reached through a 1500-byte veth (both ends inside).
    ns.run('ip', ['link', 'add', 'under0', 'type', 'veth', 'peer', 'name', 'under1']);
    ns.run('ip', ['addr', 'add', '10.201.0.1/24', 'dev', 'under0']);
    ns.run('ip', ['link', 'set', 'under0', 'up']);
    ns.run('ip', ['link', 'set', 'under1', 'up']);
  }
  const a = genKey();
  const peer = genKey();
  const text = `[Interface]
PrivateKey = ${a.privateKey}
ListenPort = 51821
Address = 10.77.0.1/24, fd77::1/64

[Peer]
PublicKey = ${peer.publicKey}
AllowedIPs = 10.77.0.2/32, 10.88.0.0/16, 0.0.0.0/0, ::/0
Endpoint = 10.201.0.2:51822
`;
  const ferryUp = ferry(nsF, 'up', ws.config(ferryIf, text), { FERRYD: ws.ferryd });
  assert.equal(ferryUp.status, 0, ferryUp.stderr);
  const quickUp = wgQuick(nsQ, 'up', ws.config(quickIf, text), { WG_QUICK_USERSPACE_IMPLEMENTATION: 'wireguard-go', WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' });
  assert.equal(quickUp.status, 0, quickUp.stderr);
  const ferryState = stateOf(nsF, ferryIf);
  assert.deepEqual(ferryState, stateOf(nsQ, quickIf));
  assert.match(ferryState.rules6, /not from all fwmark 0xca6c lookup 51820/, 'the comparison covered the full tunnel');
  // The same commands, but for the daemon line and the order of 1.0.20210914 (route before rules).
  const order = (traces: string[], ifn: string) => traces.slice(1).map((l) => l.split(ifn).join('IF')).sort();
  assert.deepEqual(order(ferryUp.traces, ferryIf), order(quickUp.traces.filter((l) => !l.startsWith('ip link add ')), quickIf));

  assert.equal(ferry(nsF, 'down', join(ws.dir, `${ferryIf}.conf`)).status, 0);
  assert.equal(wgQuick(nsQ, 'down', join(ws.dir, `${quickIf}.conf`)).status, 0);
  for (const ns of [nsF, nsQ]) {
    assert.doesNotMatch(ns.run('ip', ['-4', 'rule', 'show']) + ns.run('ip', ['-6', 'rule', 'show']), /51820|suppress/);
    if (requireTool('nft')) assert.doesNotMatch(ns.run('nft', ['list', 'tables']), /wg-quick/);
  }
});

test('stock wg-quick brings up ferryd (WG_QUICK_USERSPACE_IMPLEMENTATION) and takes it down', async (t) => {
  if (!requireHost(t, [...TOOLS, 'wg-quick'])) return;
  const ifname = uniqueName('fyqq');
  const ws = workspace(t);
  const nsA = netns(t, 'fyqa');
  ws.track(nsA, ifname);
  const nsB = netns(t, 'fyqb');
  vethPair(nsA, '10.201.0.1/24', nsB, '10.201.0.2/24');
  const a = genKey();
  const b = await peerB(t, nsB, a.publicKey, '10.77.0.1/32');
  const path = ws.config(ifname, `[Interface]\nPrivateKey = ${a.privateKey}\nListenPort = 51821\nAddress = 10.77.0.1/24\n\n[Peer]\nPublicKey = ${b.publicKey}\nAllowedIPs = 10.77.0.2/32, 10.88.0.0/16\nEndpoint = 10.201.0.2:51822\n`);

  const up = wgQuick(nsA, 'up', path, { WG_QUICK_USERSPACE_IMPLEMENTATION: ws.ferrydPlain });
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stderr, /Missing WireGuard kernel module\. Falling back to slow userspace implementation\./);
  assert.ok(up.traces.includes(`${ws.ferrydPlain} ${ifname}`), up.stderr);
  const status = (await controlRequest(ifname, 'status')) as { pid: number; kind: string };
  assert.equal(status.kind, 'wireguard', 'the daemon behind the interface is ferryd');
  ping(nsA, '10.77.0.2');
  ping(nsA, '10.88.0.1');

  const down = wgQuick(nsA, 'down', path);
  assert.equal(down.status, 0, down.stderr);
  assert.ok(ifaceGone(nsA, ifname));
  await waitFor(() => !alive(status.pid), 'ferryd to exit');
});

/** `wg show IF latest-handshakes` as public key → seconds. */
function handshakes(ns: Netns, ifname: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of ns.run('wg', ['show', ifname, 'latest-handshakes']).trim().split('\n')) {
    const [key, sec] = line.split('\t');
    if (key) out.set(key, Number(sec));
  }
  return out;
}

test('SIGHUP: ferryd syncs to the edited file, the established session stays; a file with an error changes nothing', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const ifname = uniqueName('fyqh');
  const ws = workspace(t);
  const nsA = netns(t, 'fyqa');
  ws.track(nsA, ifname);
  const nsB = netns(t, 'fyqb');
  vethPair(nsA, '10.201.0.1/24', nsB, '10.201.0.2/24');
  const a = genKey();
  const b = await peerB(t, nsB, a.publicKey, '10.77.0.1/32');
  const c = genKey();
  const d = genKey();
  const head = `[Interface]\nPrivateKey = ${a.privateKey}\nListenPort = 51821\nAddress = 10.77.0.1/24\n`;
  const peerBText = (allowed: string) => `\n[Peer]\nPublicKey = ${b.publicKey}\nAllowedIPs = ${allowed}\nEndpoint = 10.201.0.2:51822\n`;
  const path = ws.config(ifname, head + peerBText('10.77.0.2/32'));

  const up = ferry(nsA, 'up', path, { FERRYD: ws.ferryd });
  assert.equal(up.status, 0, up.stderr);
  const pid = await ferrydPid(ifname);
  ping(nsA, '10.77.0.2');
  const established = handshakes(nsA, ifname).get(b.publicKey) ?? 0;
  assert.ok(established > 0, 'a session with B');
  await sleep(1100); // a new handshake would now show a later second

  // Edit: B gets another network, C is added. Then SIGHUP.
  ws.config(ifname, `${head}${peerBText('10.77.0.2/32, 10.66.0.0/16')}\n[Peer]\nPublicKey = ${c.publicKey}\nAllowedIPs = 10.77.0.3/32\n`);
  process.kill(pid, 'SIGHUP');
  await waitFor(() => nsA.run('wg', ['showconf', ifname]).includes(c.publicKey), 'the reload to add C');
  const conf = nsA.run('wg', ['showconf', ifname]);
  assert.equal(
    conf,
    `[Interface]\nListenPort = 51821\nPrivateKey = ${a.privateKey}\n\n[Peer]\nPublicKey = ${b.publicKey}\nAllowedIPs = 10.77.0.2/32, 10.66.0.0/16\nEndpoint = 10.201.0.2:51822\n\n[Peer]\nPublicKey = ${c.publicKey}\nAllowedIPs = 10.77.0.3/32\n`,
  );
  assert.equal(handshakes(nsA, ifname).get(b.publicKey), established, 'B kept its session through the reload');
  ping(nsA, '10.77.0.2');
  assert.equal(handshakes(nsA, ifname).get(b.publicKey), established, 'traffic after the reload used the same session');

  // A file with an error (and a valid new peer D): nothing of it is applied.
  const broken = `${head.replace('ListenPort = 51821', 'ListenPort = 70000')}${peerBText('10.77.0.2/32')}\n[Peer]\nPublicKey = ${d.publicKey}\nAllowedIPs = 10.77.0.4/32\n`;
  ws.config(ifname, broken);
  process.kill(pid, 'SIGHUP');
  await waitFor(() => existsSync(ws.log) && readFileSync(ws.log, 'utf8').includes('ListenPort \\"70000\\" is out of range'), 'the reload error in the log');
  assert.match(readFileSync(ws.log, 'utf8'), new RegExp(`${ifname}\\.conf:3: ListenPort`), 'reported with file:line');
  assert.equal(nsA.run('wg', ['showconf', ifname]), conf, 'nothing changed');

  // Fixed: the same edit now applies (the daemon still answers SIGHUP).
  ws.config(ifname, broken.replace('ListenPort = 70000', 'ListenPort = 51821'));
  process.kill(pid, 'SIGHUP');
  await waitFor(() => nsA.run('wg', ['showconf', ifname]).includes(d.publicKey), 'the reload to add D');
  assert.doesNotMatch(nsA.run('wg', ['showconf', ifname]), new RegExp(c.publicKey.replace(/[+/]/g, '\\$&')), 'C, no longer in the file, was removed');
  assert.equal(handshakes(nsA, ifname).get(b.publicKey), established);

  const down = ferry(nsA, 'down', path);
  assert.equal(down.status, 0, down.stderr);
  await waitFor(() => !alive(pid), 'ferryd to exit');
});

test('a failing PostUp: ferry up exits 1 and removes the interface and the daemon', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const ifname = uniqueName('fyqr');
  const ws = workspace(t);
  const nsA = netns(t, 'fyqa');
  ws.track(nsA, ifname);
  const a = genKey();
  const peer = genKey();
  const path = ws.config(ifname, `[Interface]\nPrivateKey = ${a.privateKey}\nAddress = 10.77.0.1/24\nPostUp = false\n\n[Peer]\nPublicKey = ${peer.publicKey}\nAllowedIPs = 10.66.0.0/16\n`);

  const up = ferry(nsA, 'up', path, { FERRYD: ws.ferryd });
  assert.equal(up.status, 1, up.stderr);
  assert.deepEqual(up.traces.slice(-2), ['false', `ip link delete dev ${ifname}`]);
  assert.ok(ifaceGone(nsA, ifname), 'the interface is gone');
  await waitFor(() => !existsSync(`/var/run/wireguard/${ifname}.sock`), 'ferryd to exit');
  assert.equal(nsA.run('ip', ['route', 'show']).includes('10.66.0.0/16'), false);
});

test('nft accepts the firewall scripts for both families (checked, not applied)', (t) => {
  if (!requireHost(t, ['nft'])) return;
  const ns = netns(t, 'fyqn');
  for (const proto of [4, 6] as const) {
    const { nft } = firewallScripts('wg0', 51820, proto, proto === 4 ? ['10.0.0.1'] : ['fd00::1', 'fe80::1']);
    ns.run('nft', ['-c', '-f', '-'], { input: nft });
  }
});
