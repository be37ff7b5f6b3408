/**
 * The load balancer on a real Datapath over a FakeTun: new flows are DNATed and SNATed
 * and leave by the TUN toward backends behind the host, replies come back translated,
 * every checksum verifies, and what cannot be served is answered at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TCPFlag } from '../packet/constants.js';
import { DropReason } from '../stats/drop-reasons.js';
import { CtState } from './conntrack-states.js';
import { Counter } from './service.js';
import { LbHarness } from '../../test/support/lb-harness.js';
import { packet, type Parsed } from '../../test/support/lb-packets.js';
import { CONFIG } from '../../test/support/lb-config.js';

const { SYN, ACK, RST, PSH } = TCPFlag;


const client = '10.200.0.2';

function one(out: Parsed[]): Parsed {
  assert.equal(out.length, 1, `expected one packet, got ${out.length}`);
  return out[0];
}

test('a SYN to the VIP leaves DNATed and SNATed; the SYN/ACK comes back as from the VIP; the flow walks to ESTABLISHED', async () => {
  const h = LbHarness.fromConfig(CONFIG);
  try {
    const syn = one(await h.send(packet({ src: client, sport: 51000, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: SYN, seq: 7000 })));
    assert.equal(syn.src, '10.96.255.254');
    assert.ok(syn.sport >= 40000 && syn.sport <= 40999, `SNAT port ${syn.sport}`);
    assert.match(syn.dst, /^10\.0\.[123]\.2$/);
    assert.equal(syn.dport, 8080);
    assert.equal(syn.flags, SYN);
    assert.equal(syn.seq, 7000);
    assert.ok(syn.checksumsValid, 'IPv4 header and TCP checksums still verify');

    const synack = one(await h.send(packet({ src: syn.dst, sport: 8080, dst: syn.src, dport: syn.sport, proto: 'tcp', flags: SYN | ACK, seq: 9000, ack: 7001 })));
    assert.deepEqual([synack.src, synack.sport, synack.dst, synack.dport, synack.flags, synack.seq, synack.ack], ['10.96.0.10', 80, client, 51000, SYN | ACK, 9000, 7001]);
    assert.ok(synack.checksumsValid);

    const data = one(await h.send(packet({ src: client, sport: 51000, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: ACK | PSH, seq: 7001, ack: 9001, payload: 'GET / HTTP/1.0\r\n\r\n' })));
    assert.deepEqual([data.src, data.sport, data.dst, data.dport], [syn.src, syn.sport, syn.dst, 8080], 'later packets keep the same translation');
    assert.equal(new TextDecoder().decode(data.payload), 'GET / HTTP/1.0\r\n\r\n');
    assert.ok(data.checksumsValid);

    const ct = h.lb.conntrack;
    assert.equal(ct.count, 1);
    assert.equal(ct.state[0], CtState.TcpEstablished);
    const web = h.lb.balancer.get('web')!;
    assert.deepEqual([web.counters[Counter.Connections], web.counters[Counter.PacketsIn], web.counters[Counter.PacketsOut]], [1, 2, 1]);
    const b = web.backends.find((x) => x.host === syn.dst)!;
    assert.equal(b.counters[Counter.Connections], 1);
    assert.equal(b.flows, 1);
    assert.deepEqual(h.drops(), {});
  } finally {
    h.close();
  }
});

test('UDP over IPv4 (with and without a checksum) and TCP over IPv6 are translated both ways', async () => {
  const h = LbHarness.fromConfig(CONFIG);
  try {
    const q = one(await h.send(packet({ src: client, sport: 33333, dst: '10.96.0.53', dport: 53, proto: 'udp', payload: 'query' })));
    assert.equal(q.src, '10.96.255.254');
    assert.match(q.dst, /^10\.0\.[12]\.2$/);
    assert.equal(q.dport, 5353);
    assert.ok(q.checksumsValid && q.udpChecksum !== 0);
    const a = one(await h.send(packet({ src: q.dst, sport: 5353, dst: q.src, dport: q.sport, proto: 'udp', payload: 'answer' })));
    assert.deepEqual([a.src, a.sport, a.dst, a.dport, a.checksumsValid], ['10.96.0.53', 53, client, 33333, true]);

    const z = one(await h.send(packet({ src: client, sport: 33334, dst: '10.96.0.53', dport: 53, proto: 'udp', payload: 'q2', zeroChecksum: true })));
    assert.equal(z.udpChecksum, 0, 'a zero UDP checksum over IPv4 stays zero');
    assert.ok(z.checksumsValid);

    const c6 = 'fd00:200::2';
    const s6 = one(await h.send(packet({ src: c6, sport: 52000, dst: 'fd00:96::10', dport: 80, proto: 'tcp', flags: SYN, seq: 1 })));
    assert.deepEqual([s6.family, s6.src, s6.dst, s6.dport, s6.checksumsValid], [6, 'fd00:96::fffe', 'fd00:1::2', 8080, true]);
    const r6 = one(await h.send(packet({ src: 'fd00:1::2', sport: 8080, dst: 'fd00:96::fffe', dport: s6.sport, proto: 'tcp', flags: SYN | ACK, seq: 5, ack: 2 })));
    assert.deepEqual([r6.src, r6.sport, r6.dst, r6.dport, r6.checksumsValid], ['fd00:96::10', 80, c6, 52000, true]);
  } finally {
    h.close();
  }
});

test('nobody to serve: RST or port unreachable at once, never silence; each counted', async () => {
  const h = LbHarness.fromConfig(CONFIG);
  try {
    // A service without backends.
    const rst = one(await h.send(packet({ src: client, sport: 51001, dst: '10.96.0.99', dport: 80, proto: 'tcp', flags: SYN, seq: 100 })));
    assert.deepEqual([rst.src, rst.sport, rst.dst, rst.dport, rst.flags, rst.seq, rst.ack, rst.checksumsValid], ['10.96.0.99', 80, client, 51001, RST | ACK, 0, 101, true]);
    // A VIP address with a service, but not on this port.
    const rst2 = one(await h.send(packet({ src: client, sport: 51002, dst: '10.96.0.10', dport: 81, proto: 'tcp', flags: SYN, seq: 5 })));
    assert.equal(rst2.flags, RST | ACK);
    // A segment of a connection ferry does not know: RST with the segment's ACK as sequence.
    const rst3 = one(await h.send(packet({ src: client, sport: 51003, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: ACK, seq: 5, ack: 424242 })));
    assert.deepEqual([rst3.flags, rst3.seq], [RST, 424242]);
    // A RST is never answered.
    assert.deepEqual(await h.send(packet({ src: client, sport: 51004, dst: '10.96.0.99', dport: 80, proto: 'tcp', flags: RST, seq: 5 })), []);
    // UDP: port unreachable quoting the datagram, from the VIP.
    const icmp = one(await h.send(packet({ src: client, sport: 33000, dst: '10.96.0.53', dport: 54, proto: 'udp', payload: 'x' })));
    assert.deepEqual([icmp.src, icmp.dst, icmp.icmpType, icmp.icmpCode, icmp.checksumsValid], ['10.96.0.53', client, 3, 3, true]);
    assert.deepEqual([icmp.quote?.src, icmp.quote?.dst, icmp.quote?.sport, icmp.quote?.dport], [client, '10.96.0.53', 33000, 54]);
    const icmp6 = one(await h.send(packet({ src: 'fd00:200::2', sport: 33000, dst: 'fd00:96::77', dport: 53, proto: 'udp', payload: 'x' })));
    assert.deepEqual([icmp6.family, icmp6.src, icmp6.icmpType, icmp6.icmpCode, icmp6.checksumsValid], [6, 'fd00:96::77', 1, 4, true]);
    assert.deepEqual(h.drops(), { lb_no_backend: 1, lb_no_service: 3, lb_no_connection: 2 });
    const empty = h.lb.balancer.get('empty')!;
    assert.deepEqual([empty.drops[DropReason.LbNoBackend], empty.drops[DropReason.LbNoConnection]], [1, 1], 'the service counts its own drops');
    assert.equal(h.lb.conntrack.count, 0);
  } finally {
    h.close();
  }
});
