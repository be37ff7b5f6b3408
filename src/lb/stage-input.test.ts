/**
 * Untrusted input at the load balancer: fragments, truncated headers, odd TCP flag sets,
 * other protocols, and random corruptions of real packets. Each is dropped with a reason
 * (or passes, when it is not the LB's), nothing throws, nothing leaks, every packet is
 * accounted for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { internetChecksum } from '../packet/checksum.js';
import { TCPFlag } from '../packet/constants.js';
import { DropReason } from '../stats/drop-reasons.js';
import { LbHarness, turns } from '../../test/support/lb-harness.js';
import { CONFIG } from '../../test/support/lb-config.js';
import { icmpError, packet, type Parsed } from '../../test/support/lb-packets.js';

const { SYN, ACK, FIN, RST, PSH, URG } = TCPFlag;
const client = '10.200.0.2';

function one(out: Parsed[]): Parsed {
  assert.equal(out.length, 1, `expected one packet, got ${out.length}`);
  return out[0];
}

function reIpv4(p: Uint8Array): Uint8Array {
  p[10] = 0;
  p[11] = 0;
  const c = internetChecksum(p, 0, 20);
  p[10] = c >> 8;
  p[11] = c & 0xff;
  return p;
}

test('fragments, truncated headers, bad lengths and other protocols to the LB are dropped with their reason', async () => {
  const h = LbHarness.fromConfig(CONFIG);
  try {
    const syn = () => packet({ src: client, sport: 50000, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: SYN });
    const frag = syn();
    frag[6] = 0x20; // MF
    const later = syn();
    later[6] = 0;
    later[7] = 8; // offset 64 bytes
    const v6frag = new Uint8Array(40 + 8 + 20);
    v6frag.set(packet({ src: 'fd00:200::2', sport: 1, dst: 'fd00:96::10', dport: 80, proto: 'tcp' }).subarray(0, 40));
    v6frag[4] = 0;
    v6frag[5] = 28;
    v6frag[6] = 44; // fragment header
    v6frag.set([6, 0, 0, 1, 0, 0, 0, 9], 40); // offset 0, M set
    const cutTcp = syn().slice(0, 30);
    cutTcp[3] = 30;
    const badUdpLength = packet({ src: client, sport: 1, dst: '10.96.0.53', dport: 53, proto: 'udp', payload: 'abc' });
    badUdpLength[25] = 200;
    const longerThanBuffer = syn();
    longerThanBuffer[2] = 0x05;
    const gre = syn();
    gre[9] = 47;
    const shortIcmp = syn().slice(0, 24);
    shortIcmp[3] = 24;
    shortIcmp[9] = 1;
    for (const p of [frag, later, v6frag, reIpv4(cutTcp), badUdpLength, reIpv4(longerThanBuffer), reIpv4(gre), reIpv4(shortIcmp)]) assert.deepEqual(await h.send(p), []);
    assert.deepEqual(h.drops(), { truncated: 2, bad_total_length: 2, fragment: 3, unsupported_protocol: 1 });
    assert.equal(h.lb.conntrack.count, 0);
  } finally {
    h.close();
  }
});

test('odd TCP flag sets are dropped unanswered, with or without a connection; traffic that is not the LB passes', async () => {
  const h = LbHarness.fromConfig(CONFIG);
  try {
    const odd = [0, SYN | FIN, SYN | RST, FIN, FIN | PSH | URG, SYN | FIN | RST | ACK | PSH | URG, RST | FIN, PSH];
    for (const flags of odd) assert.deepEqual(await h.send(packet({ src: client, sport: 50001, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags })), []);
    one(await h.send(packet({ src: client, sport: 50002, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: SYN })));
    for (const flags of odd) assert.deepEqual(await h.send(packet({ src: client, sport: 50002, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags })), []);
    assert.deepEqual(h.drops(), { lb_bad_tcp_flags: 2 * odd.length });
    assert.equal(h.lb.balancer.get('web')!.drops[DropReason.LbBadTcpFlags], odd.length, 'those of a flow count against its service');
    // Not to the LB: it passes the stage (here, with no route, the datapath drops it as no_route).
    assert.deepEqual(await h.send(packet({ src: client, sport: 1, dst: '192.0.2.1', dport: 80, proto: 'tcp', flags: SYN | FIN })), []);
    assert.equal(h.drops().no_route, 1);
    assert.equal(h.drops().lb_bad_tcp_flags, 2 * odd.length);
  } finally {
    h.close();
  }
});

test('random corruptions of real packets never throw, never leak, and every packet is written or counted', async () => {
  const h = LbHarness.fromConfig(CONFIG);
  let injected = 0;
  try {
    // Real flows first, so corrupted replies and ICMP errors can hit entries.
    const syn = one(await h.send(packet({ src: client, sport: 50100, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: SYN })));
    const q = one(await h.send(packet({ src: client, sport: 50101, dst: '10.96.0.53', dport: 53, proto: 'udp', payload: 'q' })));
    injected = 2;
    const seeds = [
      packet({ src: client, sport: 50100, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: ACK, payload: 'data' }),
      packet({ src: syn.dst, sport: 8080, dst: syn.src, dport: syn.sport, proto: 'tcp', flags: SYN | ACK }),
      packet({ src: q.dst, sport: 5353, dst: q.src, dport: q.sport, proto: 'udp', payload: 'a' }),
      packet({ src: 'fd00:200::2', sport: 7, dst: 'fd00:96::10', dport: 80, proto: 'tcp', flags: SYN }),
      icmpError(syn.dst, 3, 4, h.tun.written[0], 1280),
      icmpError(q.dst, 3, 3, h.tun.written[1]),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        async (seed, flips, cut) => {
          const p = Uint8Array.from(seed);
          for (const [at, v] of flips) p[at % p.length] = v;
          const len = cut % 3 === 0 ? Math.max(1, cut % p.length) : p.length;
          h.tun.inject(p.slice(0, len));
          injected++;
          await turns(2);
        },
      ),
      { numRuns: 400, seed: 20261210 },
    );
    await turns();
    const answers = h.lb.answers.stats.resets + h.lb.answers.stats.unreachables;
    assert.equal(h.tun.written.length - answers + h.dp.drops.total(), injected, JSON.stringify({ written: h.tun.written.length, answers, drops: h.drops() }));
    assert.ok(h.lb.conntrack.count <= h.lb.conntrack.capacity);
  } finally {
    h.close(); // asserts no pool slot leaked
  }
});
