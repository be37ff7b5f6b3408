/**
 * Backends that fail, leave, drain, come back; session affinity and the schedulers. On
 * the real Datapath over a FakeTun with a fake clock and fake health probes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/parse.js';
import { lbSettingsFromConfig } from '../config/lb-settings.js';
import { TCPFlag } from '../packet/constants.js';
import { DropReason } from '../stats/drop-reasons.js';
import { Counter } from './service.js';
import { LbHarness, turns } from '../../test/support/lb-harness.js';
import { CONFIG } from '../../test/support/lb-config.js';
import { packet, type Parsed } from '../../test/support/lb-packets.js';

const { SYN, ACK, RST } = TCPFlag;
const client = '10.200.0.2';
const VIP = '10.96.0.10';
const HEALTHY_WEB = CONFIG.replace('Backend = 10.0.3.2:8080\n', 'Backend = 10.0.3.2:8080\nHealthCheck = tcp\nHealthInterval = 1\nUnhealthyThreshold = 2\nHealthyThreshold = 2\n');

function one(out: Parsed[]): Parsed {
  assert.equal(out.length, 1, `expected one packet, got ${out.length}`);
  return out[0];
}

/** Opens a TCP connection through the VIP (handshake done); returns the translated SYN. */
async function open(h: LbHarness, sport: number, src = client): Promise<Parsed> {
  const syn = one(await h.send(packet({ src, sport, dst: VIP, dport: 80, proto: 'tcp', flags: SYN, seq: 100 })));
  one(await h.send(packet({ src: syn.dst, sport: 8080, dst: syn.src, dport: syn.sport, proto: 'tcp', flags: SYN | ACK, seq: 500, ack: 101 })));
  one(await h.send(packet({ src, sport, dst: VIP, dport: 80, proto: 'tcp', flags: ACK, seq: 101, ack: 501 })));
  return syn;
}

const data = (sport: number, src = client) => packet({ src, sport, dst: VIP, dport: 80, proto: 'tcp', flags: ACK, seq: 101, ack: 501, payload: 'more' });
const dgram = (sport: number) => packet({ src: client, sport, dst: '10.96.0.53', dport: 53, proto: 'udp', payload: 'q' });

function settings(text: string) {
  return lbSettingsFromConfig(parseConfig(text, { file: 'lb.conf' }))!;
}

/** Ticks the fake clock in steps, letting probe results land, until cond() or the time is up; returns ms taken. */
async function until(h: LbHarness, cond: () => boolean, maxMs: number, stepMs = 100): Promise<number> {
  for (let t = 0; t <= maxMs; t += stepMs) {
    if (cond()) return t;
    h.tick(stepMs);
    await turns(2);
  }
  throw new Error(`condition not met within ${maxMs} ms`);
}

test('a backend failing its checks leaves within the thresholds: its TCP clients get a RST, new flows avoid it, it comes back', async () => {
  const h = LbHarness.fromConfig(HEALTHY_WEB);
  try {
    const flows: Array<{ sport: number; backend: string }> = [];
    for (let i = 0; i < 30; i++) flows.push({ sport: 42000 + i, backend: (await open(h, 42000 + i)).dst });
    const victim = '10.0.2.2';
    assert.ok(flows.some((f) => f.backend === victim));
    h.prober.down.add(`${victim}:8080`);
    const web = h.lb.balancer.get('web')!;
    const b = web.backends.find((x) => x.host === victim)!;
    // Two failed checks one interval apart, after a first check within one interval (jitter ±10%).
    const took = await until(h, () => !b.healthy, 3500);
    assert.ok(took >= 1000 && took <= 3300, `out after ${took} ms`);
    assert.ok(h.prober.calls.includes(`tcp ${victim}:8080`));
    for (const f of flows) {
      const out = one(await h.send(data(f.sport)));
      if (f.backend === victim) {
        assert.deepEqual([out.src, out.sport, out.dst, out.dport, out.flags, out.seq], [VIP, 80, client, f.sport, RST, 501], 'RST from the VIP, in window');
      } else {
        assert.deepEqual([out.dst, out.dport], [f.backend, 8080], 'other flows are untouched');
      }
    }
    const resets = flows.filter((f) => f.backend === victim).length;
    assert.equal(h.drops().lb_backend_failed, resets);
    assert.equal(b.drops[DropReason.LbBackendFailed], resets);
    assert.equal(b.flows, 0, 'its entries are gone');
    for (let i = 0; i < 30; i++) assert.notEqual(one(await h.send(packet({ src: client, sport: 43000 + i, dst: VIP, dport: 80, proto: 'tcp', flags: SYN }))).dst, victim);
    h.prober.down.delete(`${victim}:8080`);
    await until(h, () => b.healthy, 3500);
    const back = new Set<string>();
    for (let i = 0; i < 30; i++) back.add(one(await h.send(packet({ src: client, sport: 44000 + i, dst: VIP, dport: 80, proto: 'tcp', flags: SYN }))).dst);
    assert.ok(back.has(victim), 'healthy again: it gets new flows');
    // All down: a SYN is refused at once.
    for (const x of web.backends) h.prober.down.add(`${x.host}:8080`);
    await until(h, () => web.eligible.length === 0, 3500);
    const rst = one(await h.send(packet({ src: client, sport: 45000, dst: VIP, dport: 80, proto: 'tcp', flags: SYN, seq: 9 })));
    assert.deepEqual([rst.flags, rst.ack], [RST | ACK, 10]);
  } finally {
    h.close();
  }
});

test('a UDP flow of a failed backend moves on its next datagram; no backend left: port unreachable', async () => {
  const h = LbHarness.fromConfig(CONFIG);
  try {
    const first = one(await h.send(dgram(30000)));
    const dns = h.lb.balancer.get('dns')!;
    const b = dns.backends.find((x) => x.host === first.dst)!;
    h.lb.balancer.setHealthy(b, false);
    const moved = one(await h.send(dgram(30000)));
    assert.notEqual(moved.dst, first.dst);
    assert.equal(moved.dport, 5353);
    assert.equal(h.lb.stage.stats.moved, 1);
    // The reply of the new backend finds the flow.
    const reply = one(await h.send(packet({ src: moved.dst, sport: 5353, dst: moved.src, dport: moved.sport, proto: 'udp', payload: 'a' })));
    assert.deepEqual([reply.src, reply.dst, reply.dport], ['10.96.0.53', client, 30000]);
    // The old backend's late reply matches no flow: answered as a host without a listener would.
    const late = one(await h.send(packet({ src: first.dst, sport: 5353, dst: first.src, dport: first.sport, proto: 'udp', payload: 'late' })));
    assert.deepEqual([late.src, late.dst, late.icmpType, late.icmpCode], ['10.96.255.254', first.dst, 3, 3]);
    assert.equal(h.drops().lb_no_connection, 1);
    for (const x of dns.backends) h.lb.balancer.setHealthy(x, false);
    const icmp = one(await h.send(dgram(30000)));
    assert.deepEqual([icmp.icmpType, icmp.icmpCode, icmp.src], [3, 3, '10.96.0.53']);
    assert.equal(h.lb.conntrack.count, 0);
    assert.equal(h.drops().lb_no_backend, 1);
  } finally {
    h.close();
  }
});

test('a backend removed from the config keeps its TCP flows until they end, moves its UDP flows, gets no new flows', async () => {
  const h = LbHarness.fromConfig(CONFIG);
  try {
    const tcp: Parsed[] = [];
    for (let i = 0; i < 12; i++) tcp.push(await open(h, 46000 + i));
    const gone = tcp[0].dst;
    const udp = one(await h.send(dgram(31000)));
    const text = CONFIG.replace(`Backend = ${gone}:8080\n`, '').replace(`Backend = ${udp.dst}:5353\n`, '');
    const r = h.lb.apply(settings(text));
    assert.deepEqual(r.updated.web.removed, [`${gone}:8080`]);
    assert.deepEqual([...r.unchanged].sort(), ['empty', 'web6']);
    // Established connections go on to their backend, the removed one included.
    for (let i = 0; i < tcp.length; i++) assert.equal(one(await h.send(data(46000 + i))).dst, tcp[i].dst);
    const web = h.lb.balancer.get('web')!;
    const removed = h.lb.balancer.backends.find((b) => b?.host === gone && b.service === web)!;
    assert.equal(removed.configured, false);
    assert.ok(removed.flows > 0);
    for (let i = 0; i < 30; i++) assert.notEqual(one(await h.send(packet({ src: client, sport: 47000 + i, dst: VIP, dport: 80, proto: 'tcp', flags: SYN }))).dst, gone);
    const moved = one(await h.send(dgram(31000)));
    assert.notEqual(moved.dst, udp.dst, 'the UDP flow moved on its next datagram');
    // A removed backend's flows ending frees it for good.
    for (let i = 0; i < tcp.length; i++) if (tcp[i].dst === gone) await h.send(packet({ src: client, sport: 46000 + i, dst: VIP, dport: 80, proto: 'tcp', flags: RST | ACK, seq: 105, ack: 501 }));
    h.tick(10_000);
    assert.equal(removed.flows, 0);
    assert.equal(h.lb.balancer.backends[removed.id], undefined, 'its id came free');
  } finally {
    h.close();
  }
});

test('a drained backend keeps its TCP and UDP flows and gets no new ones; undrained it does again', async () => {
  const h = LbHarness.fromConfig(CONFIG);
  try {
    const t = await open(h, 48000);
    const u = one(await h.send(dgram(32000)));
    const text = CONFIG.replace(`Backend = ${t.dst}:8080\n`, `Backend = ${t.dst}:8080 drain\n`).replace(`Backend = ${u.dst}:5353\n`, `Backend = ${u.dst}:5353 drain\n`);
    h.lb.apply(settings(text));
    assert.equal(one(await h.send(data(48000))).dst, t.dst);
    assert.equal(one(await h.send(dgram(32000))).dst, u.dst);
    for (let i = 0; i < 30; i++) assert.notEqual(one(await h.send(packet({ src: client, sport: 49000 + i, dst: VIP, dport: 80, proto: 'tcp', flags: SYN }))).dst, t.dst);
    const web = h.lb.balancer.get('web')!;
    assert.ok(h.lb.balancer.setDrain(web, `${t.dst}:8080`, false));
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add(one(await h.send(packet({ src: client, sport: 50000 + i, dst: VIP, dport: 80, proto: 'tcp', flags: SYN }))).dst);
    assert.ok(seen.has(t.dst));
  } finally {
    h.close();
  }
});

test('session affinity: one client keeps its backend while it reconnects within the timeout', async () => {
  const h = LbHarness.fromConfig(CONFIG.replace('Backend = 10.0.3.2:8080\n', 'Backend = 10.0.3.2:8080\nSessionAffinity = client-ip 10\n'));
  try {
    const per = new Map<string, Set<string>>();
    for (let c = 0; c < 20; c++) {
      const src = `10.200.1.${c + 1}`;
      const got = new Set<string>();
      for (let i = 0; i < 10; i++) got.add(one(await h.send(packet({ src, sport: 20000 + i, dst: VIP, dport: 80, proto: 'tcp', flags: SYN }))).dst);
      per.set(src, got);
    }
    for (const [src, got] of per) assert.equal(got.size, 1, `${src} went to ${[...got]}`);
    assert.ok(new Set([...per.values()].map((s) => [...s][0])).size > 1, 'different clients still spread');
    assert.equal(h.lb.balancer.affinity.count, 20);
    h.tick(10_001);
    assert.equal(h.lb.balancer.affinity.count, 0, 'records expire after the timeout');
  } finally {
    h.close();
  }
});

test('schedulers: round-robin follows the weights exactly, random roughly, maglev the same backend for the same flow', async () => {
  const rr = LbHarness.fromConfig(CONFIG.replace('Name = web\n', 'Name = web\nScheduler = round-robin\n').replace('Backend = 10.0.2.2:8080\n', 'Backend = 10.0.2.2:8080 weight=2\n'));
  try {
    const count = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const d = one(await rr.send(packet({ src: client, sport: 21000 + i, dst: VIP, dport: 80, proto: 'tcp', flags: SYN }))).dst;
      count.set(d, (count.get(d) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries([...count].sort()), { '10.0.1.2': 10, '10.0.2.2': 20, '10.0.3.2': 10 });
  } finally {
    rr.close();
  }
  const rnd = LbHarness.fromConfig(CONFIG.replace('Name = web\n', 'Name = web\nScheduler = random\n'));
  try {
    const count = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const d = one(await rnd.send(packet({ src: client, sport: 22000 + i, dst: VIP, dport: 80, proto: 'tcp', flags: SYN }))).dst;
      count.set(d, (count.get(d) ?? 0) + 1);
    }
    for (const n of count.values()) assert.ok(n > 60 && n < 140, `random spread ${[...count.values()]}`);
  } finally {
    rnd.close();
  }
  const mg = LbHarness.fromConfig(CONFIG);
  try {
    const first = one(await mg.send(packet({ src: client, sport: 23000, dst: VIP, dport: 80, proto: 'tcp', flags: SYN }))).dst;
    mg.tick(120_000); // the SYN_SENT entry expires
    assert.equal(mg.lb.conntrack.count, 0);
    assert.equal(one(await mg.send(packet({ src: client, sport: 23000, dst: VIP, dport: 80, proto: 'tcp', flags: SYN }))).dst, first);
    assert.equal(mg.lb.balancer.get('web')!.counters[Counter.Connections], 2);
  } finally {
    mg.close();
  }
});
