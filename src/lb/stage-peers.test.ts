/**
 * Backends behind a peer (a plane's route), a full connection table, exhausted SNAT
 * ports, and 10,000 services.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TCPFlag } from '../packet/constants.js';
import { parsePrefix } from '../table/prefix-trie.js';
import { LbHarness, PeerPlane } from '../../test/support/lb-harness.js';
import { CONFIG } from '../../test/support/lb-config.js';
import { packet, parse, type Parsed } from '../../test/support/lb-packets.js';

const { SYN, ACK, RST } = TCPFlag;
const client = '10.200.0.2';

function one(out: Parsed[]): Parsed {
  assert.equal(out.length, 1, `expected one packet, got ${out.length}`);
  return out[0];
}

const PEERED = `${CONFIG}[FerryService]
Name = remote
Address = 10.96.0.20:80
Backend = 10.50.1.2:80
[FerryService]
Name = remote-snat
Address = 10.96.0.21:80
Backend = 10.50.1.3:80
Snat = always
`;

test("a peer's backend is reached by routing after DNAT, without SNAT unless Snat = always; its replies come back through the stage", async () => {
  const peer = new PeerPlane();
  const h = LbHarness.fromConfig(PEERED, { peer });
  h.dp.routes.claim(parsePrefix('10.50.0.0/16'), peer, 'peer-a');
  try {
    assert.deepEqual(await h.send(packet({ src: client, sport: 51000, dst: '10.96.0.20', dport: 80, proto: 'tcp', flags: SYN, seq: 1 })), [], 'not out the TUN');
    assert.equal(peer.got.length, 1);
    const fwd = parse(peer.got[0]);
    assert.deepEqual([fwd.src, fwd.sport, fwd.dst, fwd.dport, fwd.checksumsValid], [client, 51000, '10.50.1.2', 80, true], 'DNAT only: the peer routes replies back through ferry');
    assert.equal(h.lb.stage.unsnatedFlows, 1);
    // The reply arrives from the peer (decrypted) and goes to the host through the TUN.
    peer.deliver(packet({ src: '10.50.1.2', sport: 80, dst: client, dport: 51000, proto: 'tcp', flags: SYN | ACK, seq: 9, ack: 2 }));
    const back = one(h.written().map((w) => parse(w)));
    assert.deepEqual([back.src, back.sport, back.dst, back.dport, back.checksumsValid], ['10.96.0.20', 80, client, 51000, true]);
    // Snat = always.
    await h.send(packet({ src: client, sport: 51001, dst: '10.96.0.21', dport: 80, proto: 'tcp', flags: SYN }));
    const s = parse(peer.got[1]);
    assert.deepEqual([s.src, s.dst], ['10.96.255.254', '10.50.1.3']);
    // A host backend's flow from a client behind the peer: the answer to it goes back to the peer.
    peer.deliver(packet({ src: '10.50.9.9', sport: 52000, dst: '10.96.0.10', dport: 81, proto: 'tcp', flags: SYN, seq: 4 }));
    // Outside a wake, packets routed to a plane wait for the next wake or tick (PlaneIo.flush sends only out batches and the TUN).
    h.tick();
    const rst = parse(peer.got[2]);
    assert.deepEqual([rst.src, rst.dst, rst.flags, rst.ack], ['10.96.0.10', '10.50.9.9', RST | ACK, 5]);
    h.tick(120_000);
    assert.equal(h.lb.stage.unsnatedFlows, 0, 'expired flows leave the count');
  } finally {
    h.close();
  }
});

test('a full table evicts half-open flows first; when all are established a new flow is refused with a RST and counted', async () => {
  const h = LbHarness.fromConfig(CONFIG.replace('ConntrackMax = 1024', 'ConntrackMax = 16'));
  try {
    const open = async (sport: number) => {
      const syn = one(await h.send(packet({ src: client, sport, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: SYN, seq: 1 })));
      one(await h.send(packet({ src: syn.dst, sport: 8080, dst: syn.src, dport: syn.sport, proto: 'tcp', flags: SYN | ACK, seq: 5, ack: 2 })));
      one(await h.send(packet({ src: client, sport, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: ACK, seq: 2, ack: 6 })));
    };
    for (let i = 0; i < 12; i++) await open(53000 + i);
    for (let i = 0; i < 10; i++) one(await h.send(packet({ src: client, sport: 54000 + i, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: SYN })));
    assert.equal(h.lb.conntrack.count, 16);
    assert.equal(h.lb.conntrack.stats.evicted, 6);
    for (let i = 12; i < 16; i++) await open(53000 + i);
    assert.equal(h.lb.conntrack.stats.evicted, 10);
    const rst = one(await h.send(packet({ src: client, sport: 55000, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: SYN, seq: 41 })));
    assert.deepEqual([rst.src, rst.flags, rst.ack], ['10.96.0.10', RST | ACK, 42]);
    assert.equal(h.drops().lb_conntrack_full, 1);
    assert.equal(h.lb.conntrack.stats.full, 1);
  } finally {
    h.close();
  }
});

test('exhausted SNAT ports: the new flow gets a RST at once and the drop is counted', async () => {
  const h = LbHarness.fromConfig(CONFIG.replace('SnatPorts = 40000-40999', 'SnatPorts = 40000-40003').replace('Backend = 10.0.2.2:8080\nBackend = 10.0.3.2:8080\n', ''));
  try {
    for (let i = 0; i < 4; i++) one(await h.send(packet({ src: client, sport: 56000 + i, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: SYN })));
    const rst = one(await h.send(packet({ src: client, sport: 56100, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: SYN, seq: 1 })));
    assert.equal(rst.flags, RST | ACK);
    assert.deepEqual(h.drops(), { lb_snat_ports_exhausted: 1 });
    assert.equal(h.lb.stage.snatPorts.exhausted, 1);
    const ports = h.tun.written.slice(0, 4).map((w) => parse(w).sport).sort();
    assert.deepEqual(ports, [40000, 40001, 40002, 40003]);
  } finally {
    h.close();
  }
});

test('10,000 services: every VIP finds its own service, the last one as the first', async () => {
  let text = '[FerryLb]\nServiceRange = 10.96.0.0/16\nSnatAddress = 10.96.255.254\n';
  for (let i = 0; i < 10_000; i++) {
    text += `[FerryService]\nName = s${i}\nAddress = 10.96.${i >> 8}.${i & 255}:80\nBackend = 10.${1 + (i % 200)}.${i >> 8}.${i & 255}:8080\n`;
  }
  const h = LbHarness.fromConfig(text);
  try {
    assert.equal(h.lb.balancer.list().length, 10_000);
    for (const i of [0, 1, 4999, 9998, 9999]) {
      const out = one(await h.send(packet({ src: client, sport: 57000 + i, dst: `10.96.${i >> 8}.${i & 255}`, dport: 80, proto: 'tcp', flags: SYN })));
      assert.equal(out.dst, `10.${1 + (i % 200)}.${i >> 8}.${i & 255}`);
      const reply = one(await h.send(packet({ src: out.dst, sport: 8080, dst: out.src, dport: out.sport, proto: 'tcp', flags: SYN | ACK })));
      assert.equal(reply.src, `10.96.${i >> 8}.${i & 255}`);
    }
  } finally {
    h.close();
  }
});
