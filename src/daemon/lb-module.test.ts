/**
 * The load-balancer plane module on fakes (a real Datapath over a FakeTun, a real control
 * socket in a temp dir): mounted from a parsed config file, reloaded, and changed with
 * the `ferry service` operations. A service whose section did not change keeps its
 * connection-table entries and its backend across a reload; a file the module refuses
 * leaves everything as it was.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferPool } from '../buffer/pool.js';
import { isConfigError } from '../config/issues.js';
import { parseConfig } from '../config/parse.js';
import { controlRequest } from '../control/control-client.js';
import { ControlServer } from '../control/control-server.js';
import { Datapath } from '../datapath/datapath.js';
import type { ConntrackListing } from '../lb/conntrack-list.js';
import type { ServiceView } from '../lb/service-view.js';
import { FakeClock } from '../../test/fakes/fake-clock.js';
import { FakeTun } from '../../test/fakes/fake-tun.js';
import { packet, parse } from '../../test/support/lb-packets.js';
import { turns } from '../../test/support/lb-harness.js';
import { MetricsText } from '../control/prometheus-text.js';
import { createLogger } from './logger.js';
import { type HostedPlane, planeModules, refuseNewModules } from './plane-module.js';
import './modules.js';

const HEAD = '[Interface]\nAddress = 10.96.255.253/32\n\n[FerryLb]\nServiceRange = 10.96.0.0/16\nSnatAddress = 10.96.255.254\nConntrackMax = 1024\n';
const WEB = '[FerryService]\nName = web\nAddress = 10.96.0.10:80\nBackend = 10.0.1.2:8080\nBackend = 10.0.2.2:8080\n';
const DNS = '[FerryService]\nName = dns\nAddress = 10.96.0.53:53\nProtocol = udp\nBackend = 10.0.1.2:5353\nBackend = 10.0.2.2:5353\nBackend = 10.0.3.2:5353\n';

function file(...sections: string[]): ReturnType<typeof parseConfig> {
  return parseConfig(HEAD + sections.join(''), { file: 'lb0.conf' });
}

interface Setup {
  hosted: HostedPlane;
  tun: FakeTun;
  dp: Datapath;
  sock: string;
  /** Sends a packet into the TUN; returns where ferry sent it (dst:dport), or null. */
  send(p: Parameters<typeof packet>[0]): Promise<string | null>;
}

async function setup(t: TestContext, config = file(WEB, DNS)): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-lbmod-'));
  const clock = new FakeClock(1_000_000);
  const pool = new BufferPool({ slotCount: 256 });
  const tun = new FakeTun('lb0', pool, 8);
  const dp = new Datapath({ pool, tun, now: clock.now, tickIntervalMs: 0 });
  const control = new ControlServer(join(dir, 'lb0.sock'));
  const module = planeModules().find((m) => m.name === 'lb')!;
  const hosted = module.mount(config, { ifname: 'lb0', pool, datapath: dp, control, logger: createLogger('test', 'silent'), openUdp: () => assert.fail('the LB opens no socket') })!;
  await control.listen();
  dp.start();
  t.after(async () => {
    hosted.close();
    await control.close();
    dp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let seen = 0;
  return {
    hosted,
    tun,
    dp,
    sock: control.path,
    async send(p) {
      tun.inject(packet(p));
      await turns();
      const out = tun.written.slice(seen);
      seen = tun.written.length;
      if (out.length === 0) return null;
      const r = parse(out[out.length - 1]);
      return `${r.dst}:${r.dport}`;
    },
  };
}

const udp = (sport: number) => ({ src: '10.200.0.2', sport, dst: '10.96.0.53', dport: 53, proto: 'udp' as const, payload: 'q' });
const syn = (sport: number) => ({ src: '10.200.0.2', sport, dst: '10.96.0.10', dport: 80, proto: 'tcp' as const });

test('no [FerryLb], no load balancer; with it, the stage is mounted and status counts services, backends and flows', async (t) => {
  assert.equal(planeModules().find((m) => m.name === 'lb')!.mount(parseConfig('[Interface]\nAddress = 10.0.0.1/24\n'), {} as never), null);
  const s = await setup(t);
  assert.deepEqual(s.hosted.ready(), { ready: true });
  assert.ok(s.dp.planes.some((p) => p.name === 'lb'), 'the answer plane is mounted');
  assert.match((await s.send(syn(40000)))!, /^10\.0\.[12]\.2:8080$/);
  assert.deepEqual(s.hosted.status(), { services: 2, backends: 5, backendsUp: 5, conntrack: 1, conntrackMax: 1024, newFlows: 1 });

  // /metrics: the table, the service's counters, each backend's state, families contiguous.
  const m = new MetricsText();
  s.hosted.metrics!(m, { interface: 'lb0' });
  const text = m.toString();
  assert.match(text, /^ferry_lb_services\{interface="lb0"\} 2$/m);
  assert.match(text, /^ferry_lb_conntrack_entries\{interface="lb0"\} 1$/m);
  assert.match(text, /^ferry_lb_service_connections_total\{interface="lb0",service="web"\} 1$/m);
  assert.match(text, /^ferry_lb_service_packets_total\{interface="lb0",service="web",direction="to_backend"\} 1$/m);
  assert.match(text, /^ferry_lb_backend_state\{interface="lb0",service="dns",backend="[^"]+",state="up"\} 1$/m);
  const names = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split('{')[0]);
  for (let i = 1; i < names.length; i++) if (names[i] !== names[i - 1]) assert.ok(!names.slice(0, i).includes(names[i]), `${names[i]}'s samples are together`);
});

test('reload: an unchanged service keeps its entries and backend, a changed one is updated, a new one added; refusals change nothing', async (t) => {
  const s = await setup(t);
  const first = await s.send(udp(5000));
  assert.match(first!, /^10\.0\.[123]\.2:5353$/);
  await s.send(syn(40001));
  const before = (await controlRequest(s.sock, 'conntrack', { service: 'dns' })) as ConntrackListing;
  assert.equal(before.matched, 1);

  const WEB2 = WEB.replace('Backend = 10.0.2.2:8080\n', 'Backend = 10.0.3.2:8080 weight=2\n');
  const API = '[FerryService]\nName = api\nAddress = 10.96.0.11:443\nBackend = 10.0.1.2:8443\n';
  s.hosted.reload(file(WEB2, DNS, API));
  const after = (await controlRequest(s.sock, 'conntrack', { service: 'dns' })) as ConntrackListing;
  assert.deepEqual(after.entries.map((e) => e.reply), before.entries.map((e) => e.reply), 'the same entry, same backend and SNAT port');
  assert.equal(await s.send(udp(5000)), first, 'the next datagram of the flow goes where the first went');
  assert.equal(after.entries[0].original.packets, 1);
  assert.equal(((await controlRequest(s.sock, 'conntrack', { service: 'dns' })) as ConntrackListing).entries[0].original.packets, 2);
  const shown = (await controlRequest(s.sock, 'service-show', {})) as ServiceView[];
  assert.deepEqual(shown.map((v) => v.name), ['web', 'dns', 'api']);
  assert.deepEqual(shown[0].backends.map((b) => `${b.name} ${b.weight}`), ['10.0.1.2:8080 1', '10.0.3.2:8080 2']);

  const refused = (config: ReturnType<typeof parseConfig>, message: RegExp) => {
    assert.throws(() => s.hosted.reload(config), (err) => isConfigError(err) && message.test(err.message));
  };
  refused(parseConfig('[Interface]\nAddress = 10.96.255.253/32\n', { file: 'lb0.conf' }), /removing \[FerryLb\] from a running interface needs a restart/);
  refused(parseConfig(HEAD.replace('1024', '2048') + WEB, { file: 'lb0.conf' }), /^lb0\.conf:7: ConntrackMax changed from 1024 to 2048: that needs a restart/);
  refused(file(WEB, DNS, '[FerryService]\nName = out\nAddress = 10.97.0.1:80\nBackend = 10.0.1.2:80\n'), /its address is outside ServiceRange/);
  assert.equal(((await controlRequest(s.sock, 'service-list')) as unknown[]).length, 3, 'nothing of a refused file was applied');
  assert.equal(await s.send(udp(5000)), first);
});

test('ferry service operations: add, set-backend, drain, del, with the file\'s checks; conntrack filters and limit', async (t) => {
  const s = await setup(t, file(WEB));
  const req = (op: string, args: Record<string, unknown> = {}) => controlRequest(s.sock, op, args);
  const added = (await req('service-add', { service: 'dns', address: '10.96.0.53:53', options: ['Protocol=udp', 'Backend=10.0.1.2:5353', 'Backend=10.0.2.2:5353 weight=3'] })) as ServiceView;
  assert.deepEqual([added.protocol, added.backends.map((b) => b.weight)], ['udp', [1, 3]]);
  await assert.rejects(req('service-add', { service: 'x', address: '10.97.0.1:80' }), /service x: its address is outside ServiceRange/);
  await assert.rejects(req('service-add', { service: 'y', address: '10.96.0.12:80', options: ['Colour=blue'] }), /unknown key "Colour" in \[FerryService\]/);
  await assert.rejects(req('service-add', { service: 'dns', address: '10.96.0.54:53' }), /service dns exists already/);

  const sport = [6000, 6001, 6002, 6003, 6004, 6005];
  for (const p of sport) await s.send(udp(p));
  for (const p of [41000, 41001]) await s.send(syn(p));
  const all = (await req('conntrack', {})) as ConntrackListing;
  assert.deepEqual([all.count, all.matched, all.entries.length], [8, 8, 8]);
  assert.equal(((await req('conntrack', { proto: 'tcp' })) as ConntrackListing).matched, 2);
  assert.equal(((await req('conntrack', { origDst: '10.96.0.53:53', state: 'unreplied' })) as ConntrackListing).matched, 6);
  const limited = (await req('conntrack', { service: 'dns', limit: 2 })) as ConntrackListing;
  assert.deepEqual([limited.matched, limited.entries.length], [6, 2]);
  const onB2 = ((await req('conntrack', { backend: '10.0.2.2:5353' })) as ConntrackListing).matched;
  const onB1 = ((await req('conntrack', { backend: '10.0.1.2' , proto: 'udp' })) as ConntrackListing).matched;
  assert.equal(onB1 + onB2, 6);
  await assert.rejects(req('conntrack', { state: 'SLEEPING' }), /--state "SLEEPING" is invalid/);
  await assert.rejects(req('conntrack', { limit: 0 }), /--limit must be an integer from 1 to 10000/);
  await assert.rejects(req('conntrack', { origDst: '10.96.0.300' }), /--orig-dst/);

  // Draining keeps the flows on the drained backend; set-backend keeps the others'.
  const drained = (await req('service-drain', { service: 'dns', backend: '10.0.2.2:5353' })) as ServiceView;
  assert.deepEqual(drained.backends.map((b) => b.state), ['up', 'draining']);
  assert.equal(((await req('conntrack', { backend: '10.0.2.2:5353' })) as ConntrackListing).matched, onB2, 'a drained backend keeps its flows');
  for (const p of [7000, 7001, 7002, 7003]) assert.equal(await s.send(udp(p)), '10.0.1.2:5353', 'new flows avoid the drained backend');
  const set = (await req('service-set-backend', { service: 'dns', backend: '10.0.3.2:5353', options: ['weight=2'] })) as ServiceView;
  assert.deepEqual(set.backends.map((b) => `${b.name} ${b.state}`), ['10.0.1.2:5353 up', '10.0.2.2:5353 draining', '10.0.3.2:5353 up']);
  assert.equal(((await req('conntrack', { backend: '10.0.2.2:5353' })) as ConntrackListing).matched, onB2);
  await req('service-drain', { service: 'dns', backend: '10.0.2.2:5353', drain: false });
  const removed = (await req('service-set-backend', { service: 'dns', backend: '10.0.3.2:5353', options: ['remove'] })) as ServiceView;
  assert.deepEqual(removed.backends.map((b) => `${b.name} ${b.state} ${b.weight}`), ['10.0.1.2:5353 up 1', '10.0.2.2:5353 up 3']);
  await assert.rejects(req('service-drain', { service: 'dns', backend: '10.0.9.2:5353' }), /service dns has no backend 10\.0\.9\.2:5353/);

  assert.deepEqual(await req('service-del', { service: 'dns' }), { removed: 'dns' });
  assert.deepEqual(((await req('service-list')) as Array<{ name: string }>).map((v) => v.name), ['web']);
  await assert.rejects(req('service-del', { service: 'dns' }), /no service "dns"/);
  // The file is the truth again at the next reload.
  s.hosted.reload(file(WEB, DNS));
  assert.deepEqual(((await req('service-list')) as Array<{ name: string }>).map((v) => v.name), ['web', 'dns']);
});

test('a reload that adds [FerryLb] to an interface started without it is refused, not ignored', () => {
  const plain = parseConfig('[Interface]\nAddress = 10.96.255.253/32\n', { file: 'lb0.conf' });
  refuseNewModules(plain, []);
  assert.throws(() => refuseNewModules(file(WEB), []), (err) => isConfigError(err) && /^lb0\.conf: adding \[FerryLb\] to a running interface needs a restart \(ferry down, ferry up\)/.test(err.message));
  refuseNewModules(file(WEB), [{ name: 'lb' } as HostedPlane]);
});
