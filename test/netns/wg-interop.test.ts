/**
 * ferryd against wireguard-go (and against itself), real processes in network namespaces,
 * configured with the real `wg` tool: a ferry peer must be indistinguishable from
 * wireguard-go on the wire.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { netns, requireHost } from '../support/netns.js';
import { ping, transfer, wgDump, wgPair } from '../support/wg.js';
import { controlRequest } from '../../src/control/control-client.js';

const TOOLS = ['wg', 'wireguard-go', 'ping'];

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `no RSS for pid ${pid}`);
  return Number(m[1]);
}

test('ferryd initiates to wireguard-go: IPv4 and IPv6 pings both ways', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const { a, b } = await wgPair(t, { left: 'ferry', right: 'wireguard-go' });
  ping(a, b.inner4);
  ping(a, b.inner6);
  ping(b, a.inner4);
  ping(b, a.inner6);
  const [, peerOnFerry] = wgDump(a);
  assert.notEqual(peerOnFerry[4], '0', 'ferry reports a latest handshake');
  assert.ok(Number(peerOnFerry[5]) > 0 && Number(peerOnFerry[6]) > 0, 'ferry counts rx and tx bytes');
});

test('wireguard-go initiates to ferryd, with a preshared key', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const { a, b } = await wgPair(t, { left: 'ferry', right: 'wireguard-go', psk: true });
  ping(b, a.inner4);
  ping(b, a.inner6);
  ping(a, b.inner4);
  const [, peerOnGo] = wgDump(b);
  assert.notEqual(peerOnGo[4], '0', 'wireguard-go completed a handshake with ferry');
});

test('256 MiB over TCP from ferryd to wireguard-go arrives intact, then a 10 s iperf3 run', async (t) => {
  if (!requireHost(t, [...TOOLS, 'ncat', 'iperf3', 'sha256sum'])) return;
  const { a, b } = await wgPair(t, { left: 'ferry', right: 'wireguard-go' });
  ping(a, b.inner4, 1);
  const { sent, received } = await transfer(a, b, 256);
  assert.match(sent, /^[0-9a-f]{64}$/);
  assert.equal(received, sent, 'sha256 of what arrived equals what was sent');

  const server = b.ns.spawn('iperf3', ['-s', '-1', '-B', b.inner4]);
  t.after(() => server.kill());
  await new Promise((r) => setTimeout(r, 300));
  const report = JSON.parse(a.ns.run('iperf3', ['-c', b.inner4, '-t', '10', '-J'], { timeout: 60_000 })) as {
    end: { sum_received: { bits_per_second: number; bytes: number } };
  };
  const gbps = report.end.sum_received.bits_per_second / 1e9;
  t.diagnostic(`iperf3 ferryd -> wireguard-go: ${gbps.toFixed(3)} Gbit/s`);
  assert.ok(report.end.sum_received.bytes > 0, 'iperf3 moved data');
});

test('wireguard-go sends 64 MiB to ferryd intact', async (t) => {
  if (!requireHost(t, [...TOOLS, 'ncat', 'sha256sum'])) return;
  const { a, b } = await wgPair(t, { left: 'ferry', right: 'wireguard-go', psk: true });
  ping(b, a.inner4, 1);
  const { sent, received } = await transfer(b, a, 64);
  assert.equal(received, sent);
});

test('ferryd to ferryd: pings and 64 MiB both ways', async (t) => {
  if (!requireHost(t, [...TOOLS, 'ncat', 'sha256sum'])) return;
  const { a, b } = await wgPair(t, { left: 'ferry', right: 'ferry', psk: true });
  ping(a, b.inner4);
  ping(b, a.inner6);
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    const { sent, received } = await transfer(from, to, 64);
    assert.equal(received, sent);
  }
});

test('roaming: wireguard-go moves to a new underlay address and port; ferryd follows', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const { a, b } = await wgPair(t, { left: 'ferry', right: 'wireguard-go' });
  ping(a, b.inner4);
  const dev = b.ns.run('ip', ['-o', 'addr', 'show', 'to', `${b.underlay}/32`]).split(/\s+/)[1];
  // Keep the new address when the old primary goes (else the kernel drops secondaries too).
  b.ns.run('sysctl', ['-qw', `net.ipv4.conf.${dev}.promote_secondaries=1`]);
  b.ns.run('ip', ['addr', 'add', '10.201.0.3/24', 'dev', dev]);
  b.ns.run('ip', ['addr', 'del', `${b.underlay}/24`, 'dev', dev]);
  b.ns.run('wg', ['set', b.ifname, 'listen-port', '52999']);
  // The roaming side speaks first; ferryd learns the new endpoint from it.
  ping(b, a.inner4);
  const [, peerOnFerry] = wgDump(a);
  assert.equal(peerOnFerry[2], '10.201.0.3:52999');
  ping(a, b.inner4);
});

test('garbage at the UDP port does not hurt ferryd', async (t) => {
  if (!requireHost(t, [...TOOLS, 'python3'])) return;
  const { a, b } = await wgPair(t, { left: 'ferry', right: 'wireguard-go' });
  ping(a, b.inner4, 1);
  // Random lengths and bytes, each valid message type with truncated/forged content, replays.
  const script = `
import os, random, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst = ("${a.underlay}", ${a.listenPort})
random.seed(7)
for i in range(20000):
    kind = i % 5
    if kind == 0: data = os.urandom(random.randint(0, 1500))
    elif kind == 1: data = bytes([random.randint(1, 4), 0, 0, 0]) + os.urandom(random.randint(0, 200))
    elif kind == 2: data = bytes([1, 0, 0, 0]) + os.urandom(144)
    elif kind == 3: data = bytes([4, 0, 0, 0]) + os.urandom(4) + (i).to_bytes(8, "little") + os.urandom(random.randint(16, 64))
    else: data = bytes([2, 0, 0, 0]) + os.urandom(88)
    s.sendto(data, dst)
`;
  const rssBefore = rssKiB(a.pid);
  for (let round = 0; round < 3; round++) b.ns.run('python3', ['-c', script], { timeout: 60_000 });
  ping(a, b.inner4, 3);
  ping(b, a.inner6, 3);
  // 60,000 bad datagrams later the daemon has not grown: every table is bounded.
  const grown = rssKiB(a.pid) - rssBefore;
  t.diagnostic(`ferryd RSS grew by ${grown} KiB over 60,000 garbage datagrams`);
  assert.ok(grown < 32 * 1024, `ferryd RSS grew by ${grown} KiB`);
  // Each bad datagram was counted under a reason, visible on the control socket.
  const drops = ((await controlRequest(a.ifname, 'drops')) as { total: Record<string, number> }).total;
  t.diagnostic(`ferryd drops: ${JSON.stringify(drops)}`);
  const total = Object.values(drops).reduce((x, y) => x + y, 0);
  assert.ok(total >= 60_000 * 0.9, `counted ${total} drops for 60,000 garbage datagrams`);
  for (const reason of ['wg_bad_message_length', 'wg_unknown_index', 'wg_bad_mac1']) assert.ok((drops[reason] ?? 0) > 0, `no ${reason} drops`);
});

test('the TUN moved into another namespace keeps working while the UDP socket stays behind', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const { a, b } = await wgPair(t, { left: 'ferry', right: 'wireguard-go' });
  ping(a, b.inner4, 1);
  const inner = netns(t, 'fyc');
  a.ns.run('ip', ['link', 'set', a.ifname, 'netns', inner.name]);
  inner.run('ip', ['addr', 'add', `${a.inner4}/24`, 'dev', a.ifname]);
  inner.run('ip', ['link', 'set', a.ifname, 'up']);
  ping(inner, b.inner4);
  ping(b, a.inner4);
  // Still configurable: the UAPI socket did not move.
  assert.equal(wgDump(a)[0][2], String(a.listenPort));
});
