import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { ipv6ToBytes } from '../io/endpoint.js';
import { IPProto, TCPFlag } from '../packet/constants.js';
import { FakeClock } from '../../test/fakes/fake-clock.js';
import { Conntrack, CtStatus } from './conntrack.js';
import { CtState, Dir, tcpFlagsValid } from './conntrack-states.js';
import { SeededRandom } from './random.js';
import { SnatPorts } from './snat-ports.js';

const { SYN, ACK, FIN, RST } = TCPFlag;

function addr(text: string): Uint8Array {
  const out = new Uint8Array(16);
  if (isIP(text) === 4) text.split('.').forEach((p, i) => (out[i] = Number(p)));
  else ipv6ToBytes(text, out, 0);
  return out;
}

interface Flow {
  proto: number;
  family: 4 | 6;
  client: string;
  cport: number;
  vip: string;
  vport: number;
  backend: string;
  bport: number;
  snat: string;
  sport: number;
}

const web: Flow = { proto: IPProto.TCP, family: 4, client: '10.200.0.2', cport: 40000, vip: '10.96.0.10', vport: 80, backend: '10.0.1.2', bport: 8080, snat: '10.96.255.254', sport: 33000 };

function insert(ct: Conntrack, f: Flow, state: number, now: number): number {
  const e = ct.allocate(f.proto, f.family, now);
  if (e < 0) return e;
  ct.setTuple(e, Dir.Original, addr(f.client), 0, f.cport, addr(f.vip), 0, f.vport);
  ct.setTuple(e, Dir.Reply, addr(f.backend), 0, f.bport, addr(f.snat), 0, f.sport);
  ct.link(e, state, now);
  return e;
}

function find(ct: Conntrack, f: Flow, src: string, sport: number, dst: string, dport: number, now: number): number {
  return ct.lookup(f.proto, f.family, addr(src), 0, sport, addr(dst), 0, dport, now);
}

const orig = (ct: Conntrack, f: Flow, now: number) => find(ct, f, f.client, f.cport, f.vip, f.vport, now);
const reply = (ct: Conntrack, f: Flow, now: number) => find(ct, f, f.backend, f.bport, f.snat, f.sport, now);

test('one entry is found from its ORIGINAL and its REPLY tuple, IPv4 and IPv6, and from nothing else', () => {
  const clock = new FakeClock();
  const ct = new Conntrack({ capacity: 16, seed: 1 });
  const v6: Flow = { ...web, family: 6, client: 'fd00:200::2', vip: 'fd00:96::10', backend: 'fd00:1::2', snat: 'fd00:96::fffe' };
  const udp: Flow = { ...web, proto: IPProto.UDP };
  const now = clock.now();
  const a = insert(ct, web, CtState.TcpSynSent, now);
  const b = insert(ct, v6, CtState.TcpSynSent, now);
  const c = insert(ct, udp, CtState.Udp, now);
  assert.deepEqual([orig(ct, web, now), reply(ct, web, now)], [a * 2 + Dir.Original, a * 2 + Dir.Reply]);
  assert.deepEqual([orig(ct, v6, now), reply(ct, v6, now)], [b * 2 + Dir.Original, b * 2 + Dir.Reply]);
  assert.deepEqual([orig(ct, udp, now), reply(ct, udp, now)], [c * 2, c * 2 + 1], 'same addresses, other protocol: another entry');
  // The inverse of a tuple is not that tuple: a packet from the VIP to the client, or the translated forward packet.
  assert.equal(find(ct, web, web.vip, web.vport, web.client, web.cport, now), -1);
  assert.equal(find(ct, web, web.snat, web.sport, web.backend, web.bport, now), -1);
  assert.equal(find(ct, web, web.client, web.cport + 1, web.vip, web.vport, now), -1);
  // The translated packet is the inverse of the other direction's tuple, and vice versa.
  assert.equal(ct.sport(a, Dir.Reply), 8080);
  assert.equal(ct.dport(a, Dir.Reply), 33000);
  assert.equal(ct.count, 3);
  ct.remove(a);
  assert.equal(orig(ct, web, now), -1);
  assert.equal(reply(ct, web, now), -1);
  assert.equal(orig(ct, v6, now), b * 2, 'the others stay');
});

test('TCP walks the kernel states with their timeouts: SYN_SENT 120 s … ESTABLISHED 5 days … TIME_WAIT 120 s', () => {
  const clock = new FakeClock();
  const ct = new Conntrack({ capacity: 8, seed: 2 });
  const e = insert(ct, web, CtState.TcpSynSent, clock.now());
  const left = () => (ct.expires[e] - clock.now()) / 1000;
  assert.equal(left(), 120);
  const step = (dir: number, flags: number, seq: number, ack: number, len: number, want: number, timeout: number) => {
    clock.advance(1000);
    assert.equal(ct.trackTcp(e, dir, flags, seq, ack, len, clock.now()), want);
    assert.equal(left(), timeout, `state ${want}`);
  };
  step(Dir.Original, SYN, 100, 0, 0, CtState.TcpSynSent, 120); // retransmitted SYN
  step(Dir.Reply, SYN | ACK, 900, 101, 0, CtState.TcpSynRecv, 60);
  assert.equal(ct.status[e] & CtStatus.Assured, 0);
  step(Dir.Original, ACK, 101, 901, 0, CtState.TcpEstablished, 432000);
  assert.ok(ct.status[e] & CtStatus.Assured);
  assert.ok(ct.status[e] & CtStatus.SeenReply);
  step(Dir.Original, ACK, 101, 901, 50, CtState.TcpEstablished, 432000);
  step(Dir.Original, FIN | ACK, 151, 901, 0, CtState.TcpFinWait, 120); // client closes
  step(Dir.Reply, ACK, 901, 151, 0, CtState.TcpFinWait, 120); // an ACK not yet covering the FIN
  step(Dir.Reply, ACK, 901, 152, 0, CtState.TcpCloseWait, 60); // FIN acked
  step(Dir.Reply, FIN | ACK, 901, 152, 0, CtState.TcpLastAck, 30); // backend closes
  step(Dir.Original, ACK, 152, 902, 0, CtState.TcpTimeWait, 120);
  // A new SYN on the same tuple reopens it.
  step(Dir.Original, SYN, 5000, 0, 0, CtState.TcpSynSent, 120);
  assert.equal(ct.status[e] & (CtStatus.Assured | CtStatus.SeenReply), 0);
  step(Dir.Reply, RST | ACK, 0, 5001, 0, CtState.TcpClose, 10);
  // Expiry: still there a millisecond before, gone at the deadline.
  clock.advance(9999);
  assert.equal(ct.expire(clock.now(), 100), 0);
  assert.equal(orig(ct, web, clock.now()), e * 2);
  clock.advance(1);
  assert.equal(ct.expire(clock.now(), 100), 1);
  assert.equal(ct.count, 0);
  assert.equal(ct.stats.expired, 1);
});

test('every TCP state expires after exactly its timeout, also when only looked up (lazy expiry)', () => {
  const want: Array<[number, number]> = [
    [CtState.TcpSynSent, 120],
    [CtState.TcpSynRecv, 60],
    [CtState.TcpEstablished, 432000],
    [CtState.TcpFinWait, 120],
    [CtState.TcpCloseWait, 60],
    [CtState.TcpLastAck, 30],
    [CtState.TcpTimeWait, 120],
    [CtState.TcpClose, 10],
  ];
  for (const [state, seconds] of want) {
    const clock = new FakeClock();
    const ct = new Conntrack({ capacity: 4, seed: 3 });
    const released: number[] = [];
    ct.onRelease = (e) => released.push(e);
    const e = insert(ct, web, state, clock.now());
    clock.advance(seconds * 1000 - 1);
    assert.equal(orig(ct, web, clock.now()), e * 2, `state ${state} alive before ${seconds} s`);
    clock.advance(1);
    assert.equal(reply(ct, web, clock.now()), -1, `state ${state} gone at ${seconds} s`);
    assert.deepEqual(released, [e]);
  }
});

test('UDP: 30 s unreplied, still 30 s when replied within 2 s, 120 s (assured) once a stream', () => {
  const clock = new FakeClock();
  const ct = new Conntrack({ capacity: 4, seed: 4 });
  const f: Flow = { ...web, proto: IPProto.UDP, vport: 53, bport: 53 };
  const e = insert(ct, f, CtState.Udp, clock.now());
  const left = () => (ct.expires[e] - clock.now()) / 1000;
  clock.advance(500);
  assert.equal(ct.trackUdp(e, Dir.Original, clock.now()), CtState.Udp);
  assert.equal(left(), 30);
  clock.advance(500);
  assert.equal(ct.trackUdp(e, Dir.Reply, clock.now()), CtState.Udp, 'a quick answer is not yet a stream');
  assert.equal(left(), 30);
  assert.equal(ct.status[e] & CtStatus.Assured, 0);
  clock.advance(1000);
  assert.equal(ct.trackUdp(e, Dir.Original, clock.now()), CtState.UdpStream);
  assert.equal(left(), 120);
  assert.ok(ct.status[e] & CtStatus.Assured);
  clock.advance(120_000);
  assert.equal(ct.expire(clock.now(), 10), 1);
  // Unreplied: 30 s whatever its age.
  const g = insert(ct, f, CtState.Udp, clock.now());
  clock.advance(5000);
  assert.equal(ct.trackUdp(g, Dir.Original, clock.now()), CtState.Udp);
  clock.advance(29_999);
  assert.equal(ct.expire(clock.now(), 10), 0);
  clock.advance(1);
  assert.equal(ct.expire(clock.now(), 10), 1);
});

test('a full table reclaims an expired entry, else evicts the stalest not-yet-established one, else counts full', () => {
  const clock = new FakeClock();
  const ct = new Conntrack({ capacity: 4, seed: 5 });
  const flow = (i: number): Flow => ({ ...web, cport: 40000 + i, sport: 33000 + i });
  const est1 = insert(ct, flow(1), CtState.TcpEstablished, clock.now());
  clock.advance(10);
  const syn2 = insert(ct, flow(2), CtState.TcpSynSent, clock.now());
  clock.advance(10);
  const syn3 = insert(ct, flow(3), CtState.TcpSynSent, clock.now());
  clock.advance(10);
  const est4 = insert(ct, flow(4), CtState.TcpEstablished, clock.now());
  clock.advance(10);
  // syn2 was seen again after syn3: syn3 is now the stalest half-open entry.
  ct.trackTcp(syn2, Dir.Original, SYN, 1, 0, 0, clock.now());
  const e5 = insert(ct, flow(5), CtState.TcpSynSent, clock.now());
  assert.equal(e5, syn3, 'the slot of the evicted entry is reused');
  assert.equal(ct.stats.evicted, 1);
  assert.equal(orig(ct, flow(3), clock.now()), -1);
  assert.equal(orig(ct, flow(2), clock.now()), syn2 * 2);
  // Only established entries left: the insert fails and is counted.
  ct.trackTcp(syn2, Dir.Reply, SYN | ACK, 1, 2, 0, clock.now());
  ct.trackTcp(syn2, Dir.Original, ACK, 2, 2, 0, clock.now());
  ct.trackTcp(e5, Dir.Reply, SYN | ACK, 1, 2, 0, clock.now());
  ct.trackTcp(e5, Dir.Original, ACK, 2, 2, 0, clock.now());
  assert.equal(insert(ct, flow(6), CtState.TcpSynSent, clock.now()), -1);
  assert.equal(ct.stats.full, 1);
  assert.equal(ct.count, 4);
  // An expired entry is reclaimed before anything is evicted, even when the sweep has not run.
  ct.trackTcp(est4, Dir.Original, RST, 0, 0, 0, clock.now());
  clock.advance(10_000);
  assert.equal(insert(ct, flow(7), CtState.TcpSynSent, clock.now()), est4);
  assert.equal(ct.stats.evicted, 1);
  assert.equal(ct.stats.expired, 1);
  assert.equal(orig(ct, flow(1), clock.now()), est1 * 2);
  // UDP not yet a stream is evictable too; a UDP stream is not.
  const u = new Conntrack({ capacity: 1, seed: 6 });
  const uf: Flow = { ...web, proto: IPProto.UDP };
  const ue = insert(u, uf, CtState.Udp, clock.now());
  assert.equal(insert(u, { ...uf, cport: 1 }, CtState.Udp, clock.now()), ue);
  assert.equal(u.stats.evicted, 1);
  clock.advance(3000);
  u.trackUdp(ue, Dir.Reply, clock.now());
  u.trackUdp(ue, Dir.Original, clock.now());
  assert.equal(u.state[ue], CtState.UdpStream);
  assert.equal(insert(u, { ...uf, cport: 2 }, CtState.Udp, clock.now()), -1);
  assert.equal(u.stats.full, 1);
});

test('the sweep frees at most its budget per call, oldest first', () => {
  const clock = new FakeClock();
  const ct = new Conntrack({ capacity: 64, seed: 7 });
  for (let i = 0; i < 50; i++) insert(ct, { ...web, proto: IPProto.UDP, cport: i }, CtState.Udp, clock.now());
  clock.advance(30_000);
  assert.equal(ct.expire(clock.now(), 20), 20);
  assert.equal(ct.count, 30);
  assert.equal(orig(ct, { ...web, proto: IPProto.UDP, cport: 0 }, clock.now() - 1), -1, 'the oldest went first');
  assert.equal(ct.expire(clock.now(), 100), 30);
  assert.equal(ct.nextExpiry(), Infinity);
});

test('SNAT ports: random within the range, unique per backend tuple, closed connections give theirs back, exhaustion counted', () => {
  const clock = new FakeClock();
  const ct = new Conntrack({ capacity: 64, seed: 8 });
  const ports = new SnatPorts(40000, 40009, new SeededRandom(9));
  const backend = addr(web.backend);
  const snat = addr(web.snat);
  const got = new Set<number>();
  for (let i = 0; i < 10; i++) {
    const p = ports.pick(ct, IPProto.TCP, 4, backend, 0, 8080, snat, 0, clock.now());
    assert.ok(p >= 40000 && p <= 40009, `port ${p}`);
    assert.ok(!got.has(p), `port ${p} given twice`);
    got.add(p);
    insert(ct, { ...web, cport: 50000 + i, sport: p }, CtState.TcpSynSent, clock.now());
  }
  assert.equal(ports.pick(ct, IPProto.TCP, 4, backend, 0, 8080, snat, 0, clock.now()), -1);
  assert.equal(ports.exhausted, 1);
  // Another backend, another backend port or UDP: the same ports are free there.
  assert.ok(ports.pick(ct, IPProto.TCP, 4, addr('10.0.2.2'), 0, 8080, snat, 0, clock.now()) >= 40000);
  assert.ok(ports.pick(ct, IPProto.TCP, 4, backend, 0, 8081, snat, 0, clock.now()) >= 40000);
  assert.ok(ports.pick(ct, IPProto.UDP, 4, backend, 0, 8080, snat, 0, clock.now()) >= 40000);
  // A connection that is over (here: reset) gives its port to the next flow at once.
  const resetEntry = find(ct, web, web.backend, 8080, web.snat, [...got][3], clock.now()) >>> 1;
  ct.trackTcp(resetEntry, Dir.Original, RST, 0, 0, 0, clock.now());
  assert.equal(ports.pick(ct, IPProto.TCP, 4, backend, 0, 8080, snat, 0, clock.now()), [...got][3]);
  assert.equal(ports.reused, 1);
  assert.equal(ct.count, 9, 'the closed entry gave way');
  insert(ct, { ...web, cport: 50100, sport: [...got][3] }, CtState.TcpSynSent, clock.now());
  assert.equal(ports.pick(ct, IPProto.TCP, 4, backend, 0, 8080, snat, 0, clock.now()), -1);
  // Once the flows expire their ports come back.
  clock.advance(120_000);
  assert.ok(ports.pick(ct, IPProto.TCP, 4, backend, 0, 8080, snat, 0, clock.now()) >= 40000);
  assert.equal(ports.exhausted, 2);
  // A large range with a few ports taken: the random choice spreads over it.
  const wide = new SnatPorts(32768, 60999, new SeededRandom(10));
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) seen.add(wide.pick(ct, IPProto.TCP, 4, backend, 0, 9, snat, 0, clock.now()));
  assert.ok(seen.size > 950, `distinct ports in 1000 picks: ${seen.size}`);
});

test('the TCP flag sets a flow may carry are the kernel\'s; odd ones are refused', () => {
  for (const f of [SYN, SYN | ACK, RST, RST | ACK, FIN | ACK, ACK, ACK | TCPFlag.PSH, SYN | TCPFlag.ECE | TCPFlag.CWR, ACK | TCPFlag.URG]) assert.ok(tcpFlagsValid(f), `0x${f.toString(16)}`);
  for (const f of [0, SYN | FIN, SYN | RST, FIN, FIN | TCPFlag.PSH | TCPFlag.URG, SYN | FIN | RST | ACK, RST | FIN, TCPFlag.PSH]) assert.ok(!tcpFlagsValid(f), `0x${f.toString(16)}`);
});
