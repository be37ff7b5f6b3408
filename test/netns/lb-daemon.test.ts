/**
 * The load balancer in the daemon, beyond the traffic tests of lb.test.ts: `ferry service`
 * and `ferry conntrack` against a running interface (drain and del while connections are
 * open), SIGHUP reloads that leave unchanged services' flows alone, and a backend behind
 * a ferry WireGuard peer (one interface with a private key, a [Peer] and [FerryLb]).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { run as ferryCli } from '../../src/cli/ferry.js';
import { MemoryIo } from '../../src/cli/wg/cli-io.js';
import { controlRequest } from '../../src/control/control-client.js';
import { getDevice } from '../../src/uapi/client.js';
import { UAPI_DIR } from '../../src/uapi/socket-path.js';
import { netns, requireHost, uniqueName, vethPair } from '../support/netns.js';
import { ferry, waitFor } from '../support/quick-workspace.js';
import { genKey } from '../support/wg.js';
import { LB_HEAD, lbNet, service, startServer, type JsonLines } from './helpers/lb-topology.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = new MemoryIo({}, tmpdir());
  const code = await ferryCli(io, argv);
  return { code, out: io.stdout, err: io.stderr };
}

interface Conns {
  names: Record<string, number>;
  errors: Record<string, number>;
  maxMs: number;
}

/** tcp-hold: COUNT connections held open; resolves with the names they greeted with and a function that ends them. */
async function hold(net: Awaited<ReturnType<typeof lbNet>>, count: number): Promise<{ opened: string[]; finish(): Promise<{ finished: string[]; errors: string[]; ms: number }> }> {
  let lines: JsonLines | undefined;
  let child: ChildProcess | undefined;
  const done = net.runClient(['tcp-hold', '10.96.0.10', '80', String(count)], (c, l) => {
    child = c;
    lines = l;
  });
  const opened = ((await lines!.next()) as { opened: string[] }).opened;
  return {
    opened,
    async finish() {
      const t0 = Date.now();
      child!.stdin!.write('bye\n');
      await done;
      return { ...((await lines!.next()) as { finished: string[]; errors: string[] }), ms: Date.now() - t0 };
    },
  };
}

test('ferry service drain and del while connections are open; ferry service list/show and ferry conntrack', async (t) => {
  if (!requireHost(t)) return;
  const net = await lbNet(t, LB_HEAD + service('web', '10.96.0.10:80', 'tcp', false));
  const { ifname } = net;
  const held = await hold(net, 30);
  const onB2 = held.opened.filter((n) => n === 'b2').length;
  assert.ok(onB2 > 0, `b2 holds some of ${held.opened}`);

  const drain = await cli('service', 'drain', ifname, 'web', '10.0.2.2:8080');
  assert.deepEqual([drain.code, drain.err], [0, '']);
  const [after] = (await net.runClient(['tcp-conns', '10.96.0.10', '80', '150', '10', '23000'])) as Conns[];
  assert.deepEqual(after.errors, {});
  assert.equal(after.names.b2, undefined, `new connections avoid the drained b2: ${JSON.stringify(after.names)}`);
  const ct = await cli('conntrack', ifname, '--backend', '10.0.2.2:8080', '--state', 'ESTABLISHED');
  assert.equal(ct.code, 0, ct.err);
  const lines = ct.out.trim().split('\n');
  assert.equal(lines.length, onB2, ct.out);
  assert.match(lines[0], /^tcp {6}6 \d+ ESTABLISHED src=10\.200\.0\.2 dst=10\.96\.0\.10 sport=\d+ dport=80 packets=\d+ bytes=\d+ src=10\.0\.2\.2 dst=10\.96\.255\.254 sport=8080 dport=\d+ packets=\d+ bytes=\d+ \[ASSURED\] service=web backend=10\.0\.2\.2:8080$/);
  assert.match(ct.err, new RegExp(`^ferry conntrack: ${onB2} flow entries have been shown; \\d+ of 262144 in the table\\.\\n$`));
  const limited = await cli('conntrack', ifname, '-p', 'tcp', '--vip', '10.96.0.10:80', '--limit', '5');
  assert.equal(limited.out.trim().split('\n').length, 5);
  assert.match(limited.err, /^ferry conntrack: 5 flow entries have been shown \(\d+ matched; raise --limit to see more\)/);
  const show = await cli('service', 'show', ifname, 'web');
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /^service: web\n {2}address: 10\.96\.0\.10:80 tcp\n {2}scheduler: maglev\n {2}health check: none\n {2}connections: 180, open flows: \d+\n/);
  assert.match(show.out, /\n {2}backend: 10\.0\.2\.2:8080\n {4}state: draining, weight 1\n/);
  const list = await cli('service', 'list', ifname);
  assert.match(list.out, /^web\t10\.96\.0\.10:80\ttcp\t2\/3 backends up\t\d+ flows\t180 connections\n$/);
  const ended = await held.finish();
  assert.deepEqual(ended.errors, []);
  assert.deepEqual([...ended.finished].sort(), [...held.opened].sort(), 'every held connection, the drained b2\'s too, finished normally');

  // del: the service's open connections are reset on their next packet, new ones refused at once.
  const held2 = await hold(net, 10);
  const del = await cli('service', 'del', ifname, 'web');
  assert.equal(del.code, 0, del.err);
  const reset = await held2.finish();
  assert.deepEqual(reset.finished, []);
  assert.ok(reset.errors.every((e) => e.endsWith('ECONNRESET')), JSON.stringify(reset.errors));
  assert.ok(reset.ms < 2000, `reset in ${reset.ms} ms, not a timeout`);
  const [refused] = (await net.runClient(['tcp-conns', '10.96.0.10', '80', '5', '1', '24000'])) as Conns[];
  assert.deepEqual(refused.errors, { ECONNREFUSED: 5 });
  assert.ok(refused.maxMs < 1000, `refused in ${refused.maxMs} ms`);
  const gone = await cli('service', 'show', ifname, 'web');
  assert.deepEqual([gone.code, gone.err], [1, `Unable to show on interface ${ifname}: no service "web"\n`]);
  const bad = await cli('service', 'add', ifname, 'web', '10.97.0.10:80', 'Backend=10.0.1.2:8080');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /its address is outside ServiceRange/);
});

test('SIGHUP and ferry reload: services added and removed, the unchanged ones keep their TCP connections and UDP flows', async (t) => {
  if (!requireHost(t)) return;
  const old = service('old', '10.96.0.20:80', 'tcp', false);
  const web = service('web', '10.96.0.10:80', 'tcp', false);
  const echo = service('echo', '10.96.0.53:53', 'udp', false);
  const net = await lbNet(t, LB_HEAD + web + echo + old);
  const held = await hold(net, 20);
  const webFlows = (await net.conntrack({ service: 'web' })).matched;
  let udp: Array<{ t: number; name?: string; lost?: boolean }> = [];
  const pid = ((await controlRequest(net.ifname, 'status')) as { pid: number }).pid;
  const loop = net.runClient(['udp-loop', '10.96.0.53', '53', '3000', '20'], (_c, lines) => {
    void (async () => {
      await lines.next();
      // SIGHUP with a file that adds api and removes old; web and echo are unchanged.
      net.ws.config(net.ifname, `[Interface]\nAddress = 10.96.255.253/32\n\n${LB_HEAD}${web}${echo}${service('api', '10.96.0.11:80', 'tcp', false)}`);
      process.kill(pid, 'SIGHUP');
    })();
  });
  udp = (await loop) as typeof udp;
  await waitFor(async () => ((await controlRequest(net.ifname, 'service-list')) as Array<{ name: string }>).some((s) => s.name === 'api'), 'the reload to add api');
  assert.deepEqual(((await controlRequest(net.ifname, 'service-list')) as Array<{ name: string }>).map((s) => s.name), ['web', 'echo', 'api']);
  assert.deepEqual(udp.filter((l) => l.lost), [], 'no UDP request lost');
  assert.equal(new Set(udp.map((l) => l.name)).size, 1, 'the UDP flow stayed on its backend across the reload');
  assert.equal((await net.conntrack({ service: 'web' })).matched, webFlows, 'web\'s entries are all still there');
  const ended = await held.finish();
  assert.deepEqual(ended.errors, []);
  assert.equal(ended.finished.length, 20);

  // ferry reload: a backend's weight changes; a bad file changes nothing and says where.
  await net.apply(LB_HEAD + service('web', '10.96.0.10:80', 'tcp', false, '', [1, 2, 1]) + echo);
  const weights = ((await net.stats()).services.find((s) => s.name === 'web')!).backends.map((b) => b.weight);
  assert.deepEqual(weights, [1, 2, 1]);
  net.ws.config(net.ifname, `[Interface]\nAddress = 10.96.255.253/32\n\n${LB_HEAD}ConntrackMax = 1024\n${web}`);
  const refused = await cli('reload', net.ifname);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /\.conf:7: ConntrackMax changed from 262144 to 1024: that needs a restart \(ferry down, ferry up\)/);
  assert.equal(((await controlRequest(net.ifname, 'service-list')) as unknown[]).length, 2);
});

test('a backend behind a ferry WireGuard peer: one interface with a private key, a [Peer] and [FerryLb]; the peer\'s flows are not SNATed', async (t) => {
  if (!requireHost(t, ['wg'])) return;
  const a = genKey();
  const b = genKey();
  const svc = '[FerryService]\nName = web\nAddress = 10.96.0.10:80\nBackend = 10.0.1.2:8080\nBackend = 10.0.9.2:8080\n';
  const net = await lbNet(t, LB_HEAD + svc, {
    iface: `PrivateKey = ${a.privateKey}\nListenPort = 51900\n`,
    peers: `[Peer]\nPublicKey = ${b.publicKey}\nEndpoint = 10.201.0.2:51901\nAllowedIPs = 10.0.9.0/24\n`,
  });
  // The peer: its own namespace and ferry interface, the backend b4 on its address 10.0.9.2.
  const peerNs = netns(t, 'lbp');
  vethPair(peerNs, '10.201.0.2/24', net.ferry, '10.201.0.1/24');
  const peerIf = uniqueName('lbw');
  net.ws.track(peerNs, peerIf);
  const path = net.ws.config(peerIf, `[Interface]\nPrivateKey = ${b.privateKey}\nListenPort = 51901\nAddress = 10.0.9.2/24\n\n[Peer]\nPublicKey = ${a.publicKey}\nEndpoint = 10.201.0.1:51900\nAllowedIPs = 10.200.0.0/24\n`);
  const up = ferry(peerNs, 'up', path, { FERRYD: net.ws.ferryd });
  assert.equal(up.status, 0, up.stderr);
  await startServer(peerNs, 'b4');
  const status = (await controlRequest(net.ifname, 'status')) as { kind: string };
  assert.equal(status.kind, 'wireguard+lb');

  const [r] = (await net.runClient(['tcp-conns', '10.96.0.10', '80', '200', '10', '25000'])) as Conns[];
  assert.deepEqual(r.errors, {});
  assert.deepEqual(Object.keys(r.names).sort(), ['b1', 'b4']);
  for (const n of Object.values(r.names)) assert.ok(n >= 60, JSON.stringify(r.names));
  const viaPeer = await net.conntrack({ backend: '10.0.9.2' });
  assert.equal(viaPeer.matched, r.names.b4);
  assert.ok(viaPeer.entries.every((e) => !e.snat && e.reply.dst === '10.200.0.2'), 'the peer answers the client itself, through the tunnel');
  const viaHost = await net.conntrack({ backend: '10.0.1.2' });
  assert.ok(viaHost.entries.every((e) => e.snat && e.reply.dst === '10.96.255.254'), 'the host\'s backend answers the SNAT address');
  const [peer] = (await getDevice(UAPI_DIR, net.ifname)).peers;
  assert.ok((peer.lastHandshakeSec ?? 0n) > 0n && (peer.rxBytes ?? 0n) > 0n, 'the replies came through the tunnel');
});
