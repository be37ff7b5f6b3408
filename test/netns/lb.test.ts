/**
 * The load balancer against real servers, through the daemon (lb-topology.ts): `ferry up`
 * with [FerryLb]/[FerryService] in ferry's namespace, a client namespace whose service
 * range is routed through it into the interface, three backend namespaces with TCP and
 * UDP servers that answer with their name. Changes are reloads of the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireHost } from '../support/netns.js';
import { kill, LB_HEAD, lbNet, service, type JsonLines, type StatsView } from './helpers/lb-topology.js';

/** The interface's drops but no_route (lb-topology.ts leaves that out already). */
const lbDrops = (s: StatsView): Record<string, number> => s.drops;

interface Conns {
  names: Record<string, number>;
  errors: Record<string, number>;
  maxMs: number;
}

test('1,000 TCP connections through a VIP spread over three backends within ±10% of their weights (1:2:1)', async (t) => {
  if (!requireHost(t)) return;
  const net = await lbNet(t, LB_HEAD + service('web', '10.96.0.10:80', 'tcp', false, '', [1, 2, 1]));
  // ferry up routed the service range into the interface and turned forwarding on (a fresh namespace has it off).
  assert.ok(net.up.traces.includes('sysctl -q net.ipv4.ip_forward=1'), net.up.traces.join('\n'));
  assert.ok(net.up.traces.includes('sysctl -q net.ipv6.conf.all.forwarding=1'), net.up.traces.join('\n'));
  assert.ok(net.up.traces.some((l) => l.startsWith(`ip -4 route add 10.96.0.0/16 dev ${net.ifname}`)), net.up.traces.join('\n'));
  const [r] = (await net.runClient(['tcp-conns', '10.96.0.10', '80', '1000', '20', '20000'])) as Conns[];
  assert.deepEqual(r.errors, {});
  const total = Object.values(r.names).reduce((a, b) => a + b, 0);
  assert.equal(total, 1000);
  const want: Record<string, number> = { b1: 250, b2: 500, b3: 250 };
  for (const [name, n] of Object.entries(want)) assert.ok(Math.abs(r.names[name] - n) <= n * 0.1, `${name}: ${r.names[name]} of 1000, expected ${n} ± 10% (${JSON.stringify(r.names)})`);
  const s = await net.stats();
  assert.equal(s.services[0].connections, 1000);
  assert.deepEqual(lbDrops(s), {});
});

test('a backend removed mid-run: its established connections finish, new connections avoid it', async (t) => {
  if (!requireHost(t)) return;
  const head = LB_HEAD;
  const net = await lbNet(t, head + service('web', '10.96.0.10:80', 'tcp', false));
  let hold: JsonLines | undefined;
  let holder: import('node:child_process').ChildProcess | undefined;
  const held = net.runClient(['tcp-hold', '10.96.0.10', '80', '30'], (child, lines) => {
    holder = child;
    hold = lines;
  });
  const opened = ((await hold!.next()) as { opened: string[] }).opened;
  assert.ok(opened.includes('b2'), `b2 holds some of ${opened}`);
  await net.apply(head + service('web', '10.96.0.10:80', 'tcp', false, '', [1, 1, 1], [2]));
  assert.deepEqual((await net.stats()).services[0].backends.map((b) => b.name), ['10.0.1.2:8080', '10.0.3.2:8080']);
  const [after] = (await net.runClient(['tcp-conns', '10.96.0.10', '80', '200', '10', '21000'])) as Conns[];
  assert.deepEqual(after.errors, {});
  assert.equal(after.names.b2, undefined, `new connections avoid b2: ${JSON.stringify(after.names)}`);
  assert.equal((after.names.b1 ?? 0) + (after.names.b3 ?? 0), 200);
  holder!.stdin!.write('bye\n');
  await held;
  const done = (await hold!.next()) as { finished: string[]; errors: string[] };
  assert.deepEqual(done.errors, []);
  assert.deepEqual([...done.finished].sort(), [...opened].sort(), 'every held connection, b2 included, finished normally');
});

test('a backend killed: the health check takes it out within its thresholds and no client waits for a timeout', async (t) => {
  if (!requireHost(t)) return;
  // Checks every 0.5 s, out after 2 failures: at most ~1.6 s (jitter) after the kill.
  const net = await lbNet(t, LB_HEAD + service('web', '10.96.0.10:80', 'tcp', false, 'HealthCheck = tcp\nHealthInterval = 0.5\nUnhealthyThreshold = 2\n'));
  let killedAt = 0;
  const records = (await net.runClient(['tcp-loop', '10.96.0.10', '80', '4500'], () => {
    setTimeout(() => {
      kill(net.servers[2]);
      killedAt = Date.now();
    }, 1500);
  })) as Array<{ t: number; ms: number; name?: string; error?: string }>;
  assert.ok(killedAt > 0 && records.length > 100, `${records.length} connections`);
  const slow = records.filter((r) => r.ms >= 1000);
  assert.deepEqual(slow, [], 'a lost SYN would have cost a 1 s retransmission; none did');
  // Failures are immediate: refused by b3's kernel before the checks took it out, or reset/closed by it when killed.
  const errors = records.filter((r) => r.error !== undefined);
  for (const e of errors) {
    assert.ok(['ECONNREFUSED', 'ECONNRESET', 'closed'].includes(e.error!), JSON.stringify(e));
    assert.ok(e.t >= killedAt - 50 && e.t <= killedAt + 2000, `refused at +${e.t - killedAt} ms`);
  }
  const late = records.filter((r) => r.t > killedAt + 2000);
  assert.ok(late.length > 50);
  assert.ok(late.every((r) => r.name === 'b1' || r.name === 'b2'), 'after the thresholds, only b1 and b2 answer, all of them');
  const s = await net.stats();
  assert.equal(s.services[0].backends.find((b) => b.address === '10.0.3.2')?.state, 'down');
  assert.match(s.events.join('\n'), /10\.0\.3\.2:8080 down: 2 checks failed/);
});

test('UDP requests keep being answered across the removal of the backend they use', async (t) => {
  if (!requireHost(t)) return;
  const net = await lbNet(t, LB_HEAD + service('echo', '10.96.0.53:53', 'udp', false));
  let first = '';
  let removedAt = 0;
  const lines = (await net.runClient(['udp-loop', '10.96.0.53', '53', '2500', '20'], (_child, out) => {
    void (async () => {
      const answer = (await out.next()) as { name: string };
      first = answer.name;
      await new Promise((r) => setTimeout(r, 800));
      const n = Number(first.slice(1));
      await net.apply(LB_HEAD + service('echo', '10.96.0.53:53', 'udp', false, '', [1, 1, 1], [n]));
      removedAt = Date.now();
    })();
  })) as Array<{ t: number; seq: number; name?: string; tries?: number; lost?: boolean }>;
  assert.ok(removedAt > 0);
  assert.ok(lines.length > 100, `${lines.length} requests`);
  assert.deepEqual(lines.filter((l) => l.lost), [], 'no request lost');
  assert.ok(lines.every((l) => (l.tries ?? 0) <= 2), 'at most the request in flight at the removal was retried');
  const after = lines.filter((l) => l.t > removedAt + 50);
  assert.ok(after.length > 30);
  assert.ok(after.every((l) => l.name !== first), `after the removal no answer comes from ${first}`);
  assert.equal(new Set(after.map((l) => l.name)).size, 1, 'the flow moved once and stays');
  assert.equal((await net.conntrack({ backend: `10.0.${first.slice(1)}.2` })).matched, 0, 'no entry points at the removed backend');
});

test('IPv6: TCP and UDP through an IPv6 VIP to IPv6 backends', async (t) => {
  if (!requireHost(t)) return;
  const net = await lbNet(t, LB_HEAD + service('web6', '[fd00:96::10]:80', 'tcp', true) + service('echo6', '[fd00:96::53]:53', 'udp', true));
  const [r] = (await net.runClient(['tcp-conns', 'fd00:96::10', '80', '300', '10', '22000'])) as Conns[];
  assert.deepEqual(r.errors, {});
  assert.deepEqual(Object.keys(r.names).sort(), ['b1', 'b2', 'b3']);
  for (const n of Object.values(r.names)) assert.ok(n >= 70, JSON.stringify(r.names));
  const udp = (await net.runClient(['udp-loop', 'fd00:96::53', '53', '1000', '20'])) as Array<{ name?: string; lost?: boolean }>;
  assert.ok(udp.length >= 20, `${udp.length} requests`);
  assert.ok(udp.every((l) => l.name !== undefined && /^b[123]$/.test(l.name)), JSON.stringify(udp.slice(0, 3)));
  assert.deepEqual(lbDrops(await net.stats()), {});
});
