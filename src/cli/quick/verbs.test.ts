/**
 * The verbs end to end against a scripted host and an in-memory UAPI device: which
 * commands run, in which order, with which "[#]" lines, and what is undone on failure.
 * (test/netns/ferry-quick.test.ts runs them for real.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allowedIpsOf, newDevice, newPeer, type Device } from '../../uapi/model.js';
import { formatSet } from '../../uapi/set-format.js';
import { parseSet } from '../../uapi/set-parse.js';
import { parseKeyBase64 } from '../../wireguard/keys.js';
import { PEER_A, PEER_B, PRIV } from '../../../test/support/test-keys.js';
import type { DaemonState, QuickDevice } from './device.js';
import type { ExecOptions, ExecResult, Host } from './host.js';
import { runQuickVerb, type QuickVerb } from './index.js';

type Reply = Partial<ExecResult>;

class FakeHost implements Host {
  readonly calls: { argv: string[]; options: ExecOptions }[] = [];
  tools = new Set(['nft', 'sysctl', 'resolvconf', 'iptables', 'iptables-restore']);
  constructor(
    private readonly device: FakeDevice,
    private readonly replies: [RegExp, Reply | ((cmd: string) => Reply)][] = [],
  ) {}

  has(command: string): boolean {
    return this.tools.has(command);
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ argv: [...argv], options });
    const cmd = argv.join(' ');
    if (cmd === 'ferryd wg0') this.device.up = true;
    if (cmd === 'ip link delete dev wg0') this.device.up = false;
    for (const [re, reply] of this.replies) {
      if (re.test(cmd)) {
        const r = typeof reply === 'function' ? reply(cmd) : reply;
        return { status: r.status ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
      }
    }
    return { status: 0, stdout: '', stderr: '' };
  }

  /** The commands that ran, as one string each. */
  commands(): string[] {
    return this.calls.map((c) => c.argv.join(' '));
  }
}

class FakeDevice implements QuickDevice {
  up = false;
  /** The daemon died: its sockets are still there, nothing answers on them. */
  crashed = false;
  readonly removedSockets: string[] = [];
  state: Device = { ...newDevice(), listenPort: 0, fwmark: 0 };
  readonly sets: string[][] = [];

  async get(): Promise<Device> {
    if (!this.up) throw Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' });
    return this.state;
  }

  async set(_ifname: string, change: Device): Promise<void> {
    if (!this.up) throw Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' });
    // The lines of the request, between `set=1` and the empty line.
    const lines = formatSet(change).split('\n').slice(1, -2);
    this.sets.push(lines);
    const c = parseSet(lines);
    if (c.privateKey) this.state.privateKey = c.privateKey;
    if (c.listenPort !== undefined) this.state.listenPort = c.listenPort;
    if (c.fwmark !== undefined) this.state.fwmark = c.fwmark;
    if (c.replacePeers) this.state.peers = [];
    for (const p of c.peers) {
      const peer = { ...newPeer(p.publicKey), persistentKeepaliveInterval: p.persistentKeepaliveInterval ?? 0, allowedIps: p.allowedIps };
      if (p.endpoint) peer.endpoint = p.endpoint;
      this.state.peers.push(peer);
    }
  }

  isWireGuard(): boolean {
    return this.up;
  }

  async waitGone(): Promise<boolean> {
    return !this.up;
  }

  async daemonState(): Promise<DaemonState> {
    return this.up ? 'live' : this.crashed ? 'stale' : 'absent';
  }

  async removeStaleSockets(ifname: string): Promise<string[]> {
    if (!this.crashed) return [];
    this.crashed = false;
    const paths = [`/var/run/wireguard/${ifname}.sock`, `/run/ferry/${ifname}.sock`];
    this.removedSockets.push(...paths);
    return paths;
  }
}

function setup(t: { after(fn: () => void): void }, config: string) {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-quick-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'wg0.conf');
  writeFileSync(path, config, { mode: 0o600 });
  const device = new FakeDevice();
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } };
  const run = (host: FakeHost, verb: QuickVerb, arg = path) => runQuickVerb(verb, [arg], io, { host, device, env: { FERRYD: 'ferryd' }, trapSignals: false });
  return { dir, path, device, io, run, out: () => stdout, err: () => stderr, traces: () => stderr.split('\n').filter((l) => l.startsWith('[#] ')).map((l) => l.slice(4)) };
}

const BASE = `[Interface]
PrivateKey = ${PRIV}
Address = 10.0.0.1/24, fd00::1/64
DNS = 10.0.0.53, corp.example
PreUp = echo pre %i
PostUp = echo post %i
PreDown = echo predown %i
PostDown = echo postdown %i

[Peer]
PublicKey = ${PEER_A}
AllowedIPs = 10.0.0.2/32, 10.9.0.0/16, fd00::2/128
Endpoint = 192.0.2.2:51820
`;

const ROUTE_GET: [RegExp, Reply] = [/^ip route get 192\.0\.2\.2$/, { stdout: '192.0.2.2 via 198.51.100.1 dev eth0 src 198.51.100.2 uid 0 \n    cache \n' }];
const LINK_ETH0: [RegExp, Reply] = [/^ip link show dev eth0$/, { stdout: '2: eth0: <BROADCAST,UP> mtu 1500 qdisc fq state UP\n' }];
const COVERED: [RegExp, Reply] = [/^ip -[46] route show dev wg0 match (10\.0\.0\.2\/32|fd00::2\/128)$/, { stdout: 'covered by the address route\n' }];

test('up: the steps and "[#]" lines of wg-quick, in its order', async (t) => {
  const s = setup(t, BASE);
  const host = new FakeHost(s.device, [ROUTE_GET, LINK_ETH0, COVERED]);
  assert.equal(await s.run(host, 'up'), 0, s.err());
  assert.deepEqual(s.traces(), [
    'ferryd wg0',
    'echo pre wg0',
    'wg setconf wg0 /dev/fd/63',
    'ip -4 address add 10.0.0.1/24 dev wg0',
    'ip -6 address add fd00::1/64 dev wg0',
    'ip link set mtu 1420 up dev wg0',
    'resolvconf -a wg0 -m 0 -x',
    'ip -4 route add 10.9.0.0/16 dev wg0',
    'echo post wg0',
  ]);
  // The daemon learns which file to reload; the config went through setconf.
  const ferryd = host.calls.find((c) => c.argv[0] === 'ferryd');
  assert.equal(ferryd?.options.env?.FERRY_CONFIG_FILE, s.path);
  assert.equal(s.device.sets[0][0].startsWith('private_key='), true);
  assert.ok(s.device.sets[0].includes('replace_peers=true'));
  const resolv = host.calls.find((c) => c.argv[0] === 'resolvconf');
  assert.equal(resolv?.options.input, 'nameserver 10.0.0.53\nsearch corp.example\n');
  assert.deepEqual(host.calls.find((c) => c.argv.includes('echo pre wg0'))?.argv.slice(0, 2), ['bash', '-e']);
  // The existence check came first and printed nothing.
  assert.equal(host.commands()[0], 'ip link show dev wg0');
});

test('up refuses an existing interface and starts nothing', async (t) => {
  const s = setup(t, BASE);
  const host = new FakeHost(s.device, [[/^ip link show dev wg0$/, { stdout: '9: wg0: <POINTOPOINT> mtu 1420\n' }]]);
  assert.equal(await s.run(host, 'up'), 1);
  assert.equal(s.err(), "ferry: `wg0' already exists\n");
  assert.deepEqual(host.commands(), ['ip link show dev wg0']);
});

test('up: MTU from the config; Table = off adds no route; a Table number puts every route there', async (t) => {
  const s = setup(t, BASE.replace('DNS = 10.0.0.53, corp.example\n', 'MTU = 1380\nTable = off\n'));
  const host = new FakeHost(s.device, [COVERED]);
  assert.equal(await s.run(host, 'up'), 0, s.err());
  assert.ok(s.traces().includes('ip link set mtu 1380 up dev wg0'));
  assert.equal(s.traces().filter((l) => l.includes('route')).length, 0);

  const s2 = setup(t, BASE.replace('DNS = 10.0.0.53, corp.example\n', 'Table = 1234\n').replace('10.9.0.0/16', '0.0.0.0/0'));
  const host2 = new FakeHost(s2.device, [COVERED]);
  assert.equal(await s2.run(host2, 'up'), 0, s2.err());
  assert.deepEqual(
    s2.traces().filter((l) => l.includes('route') || l.includes('rule') || l.includes('fwmark')),
    ['ip -6 route add fd00::2/128 dev wg0 table 1234', 'ip -4 route add 10.0.0.2/32 dev wg0 table 1234', 'ip -4 route add 0.0.0.0/0 dev wg0 table 1234'],
  );
});

/** `ip -4 rule show` answered from a list that the delete commands shrink, as the kernel's does. */
function ruleTable(): [RegExp, (cmd: string) => Reply][] {
  const rules = ['32764: from all lookup main suppress_prefixlength 0', '32765: not from all fwmark 0xca6c lookup 51820'];
  const drop = (needle: string) => {
    const i = rules.findIndex((r) => r.includes(needle));
    if (i >= 0) rules.splice(i, 1);
    return {};
  };
  return [
    [/^ip -4 rule show$/, () => ({ stdout: rules.map((r) => `${r}\n`).join('') })],
    [/^ip -4 rule delete table 51820$/, () => drop('lookup 51820')],
    [/^ip -4 rule delete table main suppress_prefixlength 0$/, () => drop('suppress_prefixlength 0')],
  ];
}

const FULL = `[Interface]
PrivateKey = ${PRIV}
Address = 10.0.0.1/24, fd00::1/64

[Peer]
PublicKey = ${PEER_A}
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = 192.0.2.2:51820
`;

test('up, full tunnel: fwmark = first free table from 51820, rules, table route, src_valid_mark, nft', async (t) => {
  const s = setup(t, FULL);
  const host = new FakeHost(s.device, [
    ROUTE_GET,
    LINK_ETH0,
    [/^ip -4 route show table 51820$/, { stdout: 'default via 192.0.2.1 dev eth1\n' }], // taken by someone else
    [/^ip -o -4 addr show dev wg0$/, { stdout: '5: wg0    inet 10.0.0.1/24 scope global wg0\\       valid_lft forever\n' }],
    [/^sysctl -n net.ipv4.conf.all.src_valid_mark$/, { stdout: '0\n' }],
  ]);
  assert.equal(await s.run(host, 'up'), 0, s.err());
  assert.deepEqual(s.traces(), [
    'ferryd wg0',
    'wg setconf wg0 /dev/fd/63',
    'ip -4 address add 10.0.0.1/24 dev wg0',
    'ip -6 address add fd00::1/64 dev wg0',
    'ip link set mtu 1420 up dev wg0',
    'wg set wg0 fwmark 51821',
    'ip -6 rule add not fwmark 51821 table 51821',
    'ip -6 rule add table main suppress_prefixlength 0',
    'ip -6 route add ::/0 dev wg0 table 51821',
    'nft -f /dev/fd/63',
    'ip -4 rule add not fwmark 51821 table 51821',
    'ip -4 rule add table main suppress_prefixlength 0',
    'ip -4 route add 0.0.0.0/0 dev wg0 table 51821',
    'sysctl -q net.ipv4.conf.all.src_valid_mark=1',
    'nft -f /dev/fd/63',
  ]);
  assert.equal(s.device.state.fwmark, 51821);
  const nft = host.calls.filter((c) => c.argv[0] === 'bash' && c.argv[2] === 'nft -f <(printf %s "$1")').map((c) => c.argv[4]);
  assert.match(nft[0], /^add table ip6 wg-quick-wg0\n/);
  assert.match(nft[1], /preraw iifname != "wg0" ip daddr 10\.0\.0\.1 fib saddr type != local drop\n.*mark 51821 ct mark set mark/s);
});

test('up, full tunnel with FwMark set: that mark is the table; src_valid_mark already 1 is left alone', async (t) => {
  const s = setup(t, FULL.replace('[Interface]\n', '[Interface]\nFwMark = 0x1234\n').replace(', ::/0', ''));
  const host = new FakeHost(s.device, [ROUTE_GET, LINK_ETH0, [/^sysctl -n/, { stdout: '1\n' }]]);
  host.tools.delete('nft');
  assert.equal(await s.run(host, 'up'), 0, s.err());
  const tail = s.traces().slice(5);
  assert.deepEqual(tail, ['ip -4 rule add not fwmark 4660 table 4660', 'ip -4 rule add table main suppress_prefixlength 0', 'ip -4 route add 0.0.0.0/0 dev wg0 table 4660', 'iptables-restore -n']);
  assert.match(host.calls.at(-1)?.options.input ?? '', /^\*raw\n.*--mark 4660 -p udp -j CONNMARK --save-mark/s);
});

test('up: a failing PostUp undoes everything (DNS, firewall, rules, interface) and exits with its status', async (t) => {
  const s = setup(t, FULL.replace('Address', 'DNS = 10.0.0.53\nPostUp = exit 3\nAddress').replace(', ::/0', ''));
  const host = new FakeHost(s.device, [
    ROUTE_GET,
    LINK_ETH0,
    [/exit 3$/, { status: 3 }],
    [/^nft list tables$/, { stdout: 'table ip wg-quick-wg0\n' }],
    ...ruleTable(),
  ]);
  assert.equal(await s.run(host, 'up'), 3);
  const traces = s.traces();
  const at = traces.indexOf('exit 3');
  assert.deepEqual(traces.slice(at), [
    'exit 3',
    'resolvconf -d wg0 -f',
    'nft -f /dev/fd/63',
    'ip -4 rule delete table 51820',
    'ip -4 rule delete table main suppress_prefixlength 0',
    'ip link delete dev wg0',
  ]);
  assert.equal(s.device.up, false);
});

test('up: a daemon that does not start ends `up` with its status after del_if', async (t) => {
  const s = setup(t, BASE);
  const host = new FakeHost(s.device, [[/^ferryd wg0$/, { status: 1 }], [/^ip link delete/, { status: 1 }]]);
  assert.equal(await s.run(host, 'up'), 1);
  assert.deepEqual(s.traces(), ['ferryd wg0', 'ip link delete dev wg0']);
});

test('up: the device refusing the config is "Unable to modify interface" and a rollback', async (t) => {
  const s = setup(t, BASE);
  const host = new FakeHost(s.device, []);
  s.device.set = async () => {
    throw Object.assign(new Error('UAPI errno=-22'), { errno: -22 });
  };
  assert.equal(await s.run(host, 'up'), 1);
  assert.match(s.err(), /\[#\] wg setconf wg0 \/dev\/fd\/63\nUnable to modify interface: Invalid argument\n\[#\] ip link delete dev wg0\n$/);
});

test('down: PreDown, save (SaveConfig), rules, interface, DNS, firewall, PostDown', async (t) => {
  const s = setup(t, FULL.replace('Address', 'SaveConfig = true\nDNS = 10.0.0.53\nPreDown = echo predown %i\nPostDown = echo postdown %i\nMTU = 1400\nAddress').replace(', ::/0', ''));
  s.device.up = true;
  s.device.state = {
    privateKey: parseKeyBase64(PRIV),
    listenPort: 40000,
    fwmark: 51820,
    replacePeers: false,
    peers: [{ ...newPeer(parseKeyBase64(PEER_B)), endpoint: { family: 4, address: '192.0.2.7', port: 51820 }, persistentKeepaliveInterval: 25, allowedIps: allowedIpsOf([{ family: 4, bytes: new Uint8Array(4), cidr: 0 }]) }],
  };
  const host = new FakeHost(s.device, [
    [/^ip -all -brief address show dev wg0$/, { stdout: 'wg0              UNKNOWN        10.0.0.1/24 fd00::1/64 \n' }],
    [/^resolvconf -l wg0$/, { stdout: 'nameserver 10.0.0.53\n' }],
    [/^ip link show dev wg0$/, { stdout: '5: wg0: <POINTOPOINT,UP> mtu 1400 qdisc fq state UNKNOWN\n' }],
    ...ruleTable(),
    [/^nft list tables$/, { stdout: 'table ip wg-quick-wg0\n' }],
  ]);
  assert.equal(await s.run(host, 'down'), 0, s.err());
  assert.deepEqual(s.traces(), [
    'echo predown wg0',
    'wg showconf wg0',
    'ip -4 rule delete table 51820',
    'ip -4 rule delete table main suppress_prefixlength 0',
    'ip link delete dev wg0',
    'resolvconf -d wg0 -f',
    'nft -f /dev/fd/63',
    'echo postdown wg0',
  ]);
  assert.equal(
    readFileSync(s.path, 'utf8'),
    `[Interface]
Address = 10.0.0.1/24
Address = fd00::1/64
DNS = 10.0.0.53
MTU = 1400
SaveConfig = true
PreDown = echo predown %i
PostDown = echo postdown %i
ListenPort = 40000
FwMark = 0xca6c
PrivateKey = ${PRIV}

[Peer]
PublicKey = ${PEER_B}
AllowedIPs = 0.0.0.0/0
Endpoint = 192.0.2.7:51820
PersistentKeepalive = 25
`,
  );
  assert.equal(statSync(s.path).mode & 0o777, 0o600);
});

test('down and save refuse an interface that is not WireGuard', async (t) => {
  const s = setup(t, BASE);
  const host = new FakeHost(s.device);
  assert.equal(await s.run(host, 'down'), 1);
  assert.equal(await s.run(host, 'save'), 1);
  assert.equal(s.err(), "ferry: `wg0' is not a WireGuard interface\nferry: `wg0' is not a WireGuard interface\n");
  assert.deepEqual(host.commands(), []);
});

const CRASHED_FULL = FULL.replace('Address', 'DNS = 10.0.0.53\nPreDown = echo predown %i\nPostDown = echo postdown %i\nAddress').replace(', ::/0', '');
const NFT_LEFT: [RegExp, Reply][] = [
  [/^nft list table ip wg-quick-wg0$/, { stdout: 'table ip wg-quick-wg0 {\n\tchain postmangle {\n\t\ttype filter hook postrouting priority mangle; policy accept;\n\t\tmeta l4proto udp meta mark 0x0000ca6c ct mark set meta mark\n\t}\n}\n' }],
  [/^nft list tables$/, { stdout: 'table ip wg-quick-wg0\n' }],
];

test('down after ferryd died: says so, removes the rules (table read back from the firewall), DNS, firewall, stale sockets; exit 0', async (t) => {
  const s = setup(t, CRASHED_FULL);
  s.device.crashed = true;
  const host = new FakeHost(s.device, [...ruleTable(), ...NFT_LEFT]);
  assert.equal(await s.run(host, 'down'), 0, s.err());
  assert.match(s.err(), /^ferry: ferryd of `wg0' is not running: it died without cleaning up/);
  assert.deepEqual(s.traces(), [
    'echo predown wg0',
    'ip -4 rule delete table 51820',
    'ip -4 rule delete table main suppress_prefixlength 0',
    'resolvconf -d wg0 -f',
    'nft -f /dev/fd/63',
    'rm -f /var/run/wireguard/wg0.sock',
    'rm -f /run/ferry/wg0.sock',
    'echo postdown wg0',
  ]);
  assert.deepEqual(s.device.removedSockets, ['/var/run/wireguard/wg0.sock', '/run/ferry/wg0.sock']);
  assert.ok(!host.commands().includes('wg showconf wg0'), 'nothing asks the dead daemon');
});

test('down after ferryd died: the table from FwMark without a firewall; a link still there is deleted; a failing step does not stop the rest', async (t) => {
  const s = setup(t, CRASHED_FULL.replace('[Interface]', '[Interface]\nFwMark = 51820'));
  s.device.crashed = true;
  const host = new FakeHost(s.device, [...ruleTable(), [/^ip link show dev wg0$/, { stdout: '5: wg0: <POINTOPOINT> mtu 1420\n' }], [/echo predown/, { status: 4 }]]);
  host.tools.delete('nft');
  host.tools.delete('iptables');
  assert.equal(await s.run(host, 'down'), 4);
  assert.deepEqual(s.traces(), [
    'echo predown wg0',
    'ip -4 rule delete table 51820',
    'ip -4 rule delete table main suppress_prefixlength 0',
    'ip link delete dev wg0',
    'resolvconf -d wg0 -f',
    'rm -f /var/run/wireguard/wg0.sock',
    'rm -f /run/ferry/wg0.sock',
    'echo postdown wg0',
  ]);
});

test('down after ferryd died: a ferryd started again meanwhile is left alone', async (t) => {
  const s = setup(t, CRASHED_FULL);
  s.device.crashed = true;
  let looks = 0;
  s.device.daemonState = async () => (++looks === 1 ? 'stale' : 'live');
  const host = new FakeHost(s.device, [...ruleTable(), ...NFT_LEFT]);
  assert.equal(await s.run(host, 'down'), 1);
  assert.match(s.err(), /a ferryd of `wg0' is running again; leaving its interface, rules and sockets alone/);
  assert.deepEqual(s.traces(), ['echo predown wg0'], 'the hooks ran, nothing was removed');
  assert.deepEqual(s.device.removedSockets, []);
});

test('down after ferryd died, full tunnel table unknown: says where to look, cleans the rest', async (t) => {
  const s = setup(t, CRASHED_FULL);
  s.device.crashed = true;
  const host = new FakeHost(s.device, ruleTable());
  host.tools.delete('nft');
  host.tools.delete('iptables');
  assert.equal(await s.run(host, 'down'), 0, s.err());
  assert.match(s.err(), /routing table is unknown .*ip rule show/);
  assert.ok(!s.traces().some((l) => l.includes('rule delete')));
});

test('down: a failing PreDown stops there, as under wg-quick\'s set -e', async (t) => {
  const s = setup(t, BASE);
  s.device.up = true;
  const host = new FakeHost(s.device, [[/predown/, { status: 1 }]]);
  assert.equal(await s.run(host, 'down'), 1);
  assert.deepEqual(s.traces(), ['echo predown wg0']);
});

test('strip prints the file for wg; nothing runs', async (t) => {
  const s = setup(t, BASE);
  const host = new FakeHost(s.device);
  assert.equal(await s.run(host, 'strip'), 0);
  assert.equal(s.out(), `[Interface]\nPrivateKey = ${PRIV}\n\n[Peer]\nPublicKey = ${PEER_A}\nAllowedIPs = 10.0.0.2/32, 10.9.0.0/16, fd00::2/128\nEndpoint = 192.0.2.2:51820\n\n`);
  assert.deepEqual(host.commands(), []);
});

test('a config with errors is reported with file:line and nothing runs', async (t) => {
  const s = setup(t, BASE.replace('Address = 10.0.0.1/24, fd00::1/64', 'ListenPort = 70000'));
  const host = new FakeHost(s.device);
  assert.equal(await s.run(host, 'up'), 1);
  assert.match(s.err(), new RegExp(`^${s.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: ListenPort "70000" is out of range`));
  assert.deepEqual(host.commands(), []);
});

test('arguments: one CONFIG_FILE or INTERFACE; --help on stdout', async (t) => {
  const s = setup(t, BASE);
  const host = new FakeHost(s.device);
  const io = s.io;
  assert.equal(await runQuickVerb('up', [], io, { host, device: s.device }), 1);
  assert.match(s.err(), /^Usage: ferry \[ up \| down \| save \| strip \] \[ CONFIG_FILE \| INTERFACE \]/);
  assert.equal(await runQuickVerb('up', ['a', 'b'], io, { host, device: s.device }), 1);
  assert.equal(await runQuickVerb('down', ['--help'], io, { host, device: s.device }), 0);
  assert.match(s.out(), /^Usage: ferry down \[ CONFIG_FILE \| INTERFACE \]/);
  // A name is looked up in /etc/ferry, then /etc/wireguard.
  const dirs = [join(s.dir, 'ferry'), s.dir];
  assert.equal(await runQuickVerb('strip', ['wg0'], io, { host, device: s.device, lookup: { dirs } }), 0);
  assert.equal(await runQuickVerb('strip', ['nosuch'], io, { host, device: s.device, lookup: { dirs } }), 1);
  assert.match(s.err(), /nosuch\.conf: does not exist/);
});

test('a world-readable config draws wg-quick\'s warning', async (t) => {
  const s = setup(t, BASE);
  const host = new FakeHost(s.device);
  const { chmodSync } = await import('node:fs');
  chmodSync(s.path, 0o644);
  chmodSync(s.dir, 0o755);
  assert.equal(await s.run(host, 'strip'), 0);
  assert.match(s.err(), /^Warning: `.*wg0\.conf' is world accessible\n/);
});
