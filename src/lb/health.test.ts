import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { parseConfig } from '../config/parse.js';
import { lbSettingsFromConfig } from '../config/lb-settings.js';
import { Balancer } from './balancer.js';
import { HealthMonitor } from './health.js';
import { NetHealthProber, type HealthProber } from './health-probes.js';
import { SeededRandom } from './random.js';
import { requireHost } from '../../test/support/netns.js';

/** A prober whose answers the test releases by hand. */
class ManualProber implements HealthProber {
  readonly pending: Array<{ what: string; at: number; resolve: (ok: boolean) => void }> = [];
  now = 0;
  tcp(address: string, port: number): Promise<boolean> {
    return new Promise((resolve) => this.pending.push({ what: `tcp ${address}:${port}`, at: this.now, resolve }));
  }
  http(address: string, port: number, path: string, status: number): Promise<boolean> {
    return new Promise((resolve) => this.pending.push({ what: `http ${address}:${port}${path} ${status}`, at: this.now, resolve }));
  }
  icmp(_f: 4 | 6, address: string): Promise<boolean> {
    return new Promise((resolve) => this.pending.push({ what: `icmp ${address}`, at: this.now, resolve }));
  }
  close(): void {}
  /** Answers every pending probe. */
  answer(ok: (what: string) => boolean): number {
    const all = this.pending.splice(0);
    for (const p of all) p.resolve(ok(p.what));
    return all.length;
  }
}

const settle = () => new Promise((r) => setImmediate(r));

function setup(health: string, backends = 'Backend = 10.0.1.2:8080\nBackend = 10.0.2.2:8080\n') {
  const text = `[FerryLb]\nServiceRange = 10.96.0.0/16\nSnatAddress = 10.96.255.254\n[FerryService]\nName = web\nAddress = 10.96.0.10:80\n${backends}${health}`;
  const settings = lbSettingsFromConfig(parseConfig(text, { file: 'h.conf' }))!;
  const balancer = new Balancer({ random: new SeededRandom(1) });
  balancer.add(settings.services[0]);
  const prober = new ManualProber();
  const changes: string[] = [];
  const monitor = new HealthMonitor({ balancer, prober, random: new SeededRandom(2), onChange: (b, healthy, why) => changes.push(`${b.name} ${healthy ? 'up' : 'down'}: ${why}`) });
  return { balancer, prober, monitor, changes, web: balancer.get('web')! };
}

test('checks run every interval ± 10%, never overlap, and thresholds decide: 3 failures out, 2 successes back', async () => {
  const { prober, monitor, changes, web } = setup('HealthCheck = tcp 9000\nHealthInterval = 1\nUnhealthyThreshold = 3\nHealthyThreshold = 2\n');
  let now = 0;
  const starts: number[] = [];
  /** Ticks until 10.0.1.2 is probed (answering the other backend's probes as passed), then answers it. */
  const step = async (ok: boolean) => {
    for (let i = 0; i < 40; i++) {
      now += 50;
      prober.now = now;
      monitor.tick(now);
      const mine = prober.pending.find((p) => p.what === 'tcp 10.0.1.2:9000');
      if (mine !== undefined) starts.push(mine.at);
      const done = mine !== undefined;
      prober.answer((w) => (w.startsWith('tcp 10.0.1.2') ? ok : true));
      await settle();
      if (done) return;
    }
    throw new Error('no check of 10.0.1.2 within 2 s');
  };
  await step(true);
  assert.ok(starts[0] <= 1050, 'the first check comes within one interval');
  // A probe not yet answered delays the next one: 4 s of ticks, still one probe per backend.
  for (let i = 0; i < 40; i++) monitor.tick((now += 100));
  assert.ok(prober.pending.length <= 2, `${prober.pending.length} probes pending`);
  prober.answer(() => true);
  await settle();
  starts.length = 0;
  for (const ok of [false, false]) await step(ok);
  assert.equal(web.backends[0].healthy, true, 'two failures are not three');
  await step(false);
  assert.equal(web.backends[0].healthy, false);
  assert.deepEqual(web.eligible.map((b) => b.name), ['10.0.2.2:8080'], 'out of the table');
  await step(true);
  assert.equal(web.backends[0].healthy, false);
  await step(true);
  assert.equal(web.backends[0].healthy, true);
  assert.deepEqual(changes, ['10.0.1.2:8080 down: 3 checks failed (tcp check failed)', '10.0.1.2:8080 up: 2 checks passed']);
  const gaps = starts.slice(1).map((t, i) => t - starts[i]);
  for (const g of gaps) assert.ok(g >= 850 && g <= 1200, `interval between checks ${gaps}`);
});

test('http and icmp checks ask what the config says; a failed probe that throws counts as a failure', async () => {
  const { prober, monitor, web } = setup('HealthCheck = http /healthz 204\nHealthInterval = 0.5\nUnhealthyThreshold = 1\n');
  for (let t = 0; t <= 600 && prober.pending.length < 2; t += 50) monitor.tick(t);
  assert.deepEqual(prober.pending.map((p) => p.what).sort(), ['http 10.0.1.2:8080/healthz 204', 'http 10.0.2.2:8080/healthz 204']);
  prober.answer((w) => !w.includes('10.0.2.2'));
  await settle();
  assert.deepEqual(web.eligible.map((b) => b.name), ['10.0.1.2:8080']);
  assert.equal(monitor.status(web.backends[1])?.lastError, 'http check failed');

  const icmp = setup('HealthCheck = icmp\nHealthInterval = 1\n');
  for (let t = 0; t <= 1100 && icmp.prober.pending.length < 2; t += 50) icmp.monitor.tick(t);
  assert.deepEqual(icmp.prober.pending.map((p) => p.what).sort(), ['icmp 10.0.1.2', 'icmp 10.0.2.2']);

  const throwing = setup('HealthCheck = tcp\nUnhealthyThreshold = 1\n');
  throwing.prober.tcp = () => {
    throw new Error('no socket');
  };
  for (let t = 0; t <= 2100; t += 100) throwing.monitor.tick(t);
  await settle();
  assert.equal(throwing.web.eligible.length, 0);
  assert.equal(throwing.monitor.status(throwing.web.backends[0])?.lastError, 'no socket');
});

test('a passive failure takes a backend out at once; with active checks it needs HealthyThreshold passes to return', async () => {
  const { prober, monitor, web } = setup('HealthCheck = tcp\nHealthInterval = 1\nHealthyThreshold = 3\n');
  const b = web.backends[1];
  monitor.passiveFailure(b, 0);
  assert.equal(b.healthy, false);
  assert.deepEqual(web.eligible.map((x) => x.name), ['10.0.1.2:8080']);
  let passes = 0;
  for (let t = 0; t < 10_000 && !b.healthy; t += 100) {
    monitor.tick(t);
    passes += prober.answer((w) => w.includes('10.0.2.2')) > 0 ? 1 : 0;
    await settle();
  }
  assert.equal(b.healthy, true);
  assert.ok(passes >= 3, `back after ${passes} rounds of checks`);
});

test('the real probes: TCP connect and HTTP status against loopback servers', async (t) => {
  const prober = new NetHealthProber();
  const tcp = createServer((s) => s.end());
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  const http = createHttpServer((req, res) => {
    res.statusCode = req.url === '/ok' ? 204 : 500;
    res.end();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  t.after(() => {
    tcp.close();
    http.close();
    prober.close();
  });
  const tcpPort = (tcp.address() as AddressInfo).port;
  const httpPort = (http.address() as AddressInfo).port;
  assert.equal(await prober.tcp('127.0.0.1', tcpPort, 1000), true);
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  assert.equal(await prober.tcp('127.0.0.1', closedPort, 1000), false, 'refused');
  assert.equal(await prober.http('127.0.0.1', httpPort, '/ok', 204, 1000), true);
  assert.equal(await prober.http('127.0.0.1', httpPort, '/bad', 204, 1000), false, 'wrong status');
  assert.equal(await prober.http('127.0.0.1', closedPort, '/ok', 204, 1000), false);
});

test('the real ICMP probe (raw-socket): loopback answers over IPv4 and IPv6', async (t) => {
  if (!requireHost(t)) return;
  const prober = new NetHealthProber();
  t.after(() => prober.close());
  assert.equal(await prober.icmp(4, '127.0.0.1', 1000), true);
  assert.equal(await prober.icmp(6, '::1', 1000), true);
});

test('close() ends the checks under way: they fail at once, their sockets and timers go with them', async (t) => {
  const prober = new NetHealthProber();
  // A server that accepts and never answers: the HTTP check waits for its status line.
  let peerClosed!: Promise<void>;
  const silent = createServer((sock) => {
    sock.resume(); // read the request (and so see its end), never answer
    peerClosed = new Promise((r) => sock.once('close', () => r()));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => silent.close());
  const port = (silent.address() as AddressInfo).port;
  const waiting = prober.http('127.0.0.1', port, '/', 200, 60_000);
  await new Promise((r) => setTimeout(r, 100));
  const t0 = performance.now();
  prober.close();
  assert.equal(await waiting, false);
  assert.ok(performance.now() - t0 < 100, 'not after its 60 s timeout');
  await peerClosed; // the check's connection is closed (the test would time out otherwise)
});
