/**
 * ICMP through the load balancer: errors about a flow translated (outer header and the
 * quoted packet), a UDP backend's port unreachable taken as its failure, errors quoting
 * no flow dropped, echo to a VIP answered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TCPFlag } from '../packet/constants.js';
import { ipv4HeaderChecksumValid } from '../packet/ipv4.js';
import { LbHarness } from '../../test/support/lb-harness.js';
import { CONFIG } from '../../test/support/lb-config.js';
import { addrBytes, icmpError, packet, parse, quotedUdpChecksumValid, type Parsed } from '../../test/support/lb-packets.js';
import { internetChecksum } from '../packet/checksum.js';

const client = '10.200.0.2';

function one(out: Parsed[]): Parsed {
  assert.equal(out.length, 1, `expected one packet, got ${out.length}`);
  return out[0];
}

/** The last packet written, raw. */
function lastRaw(h: LbHarness): Uint8Array {
  return h.tun.written[h.tun.written.length - 1];
}

test('fragmentation needed from a backend about a TCP flow reaches the client as from the VIP, quoting what the client sent', async () => {
  const h = LbHarness.fromConfig(CONFIG);
  try {
    const sent = packet({ src: client, sport: 51000, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: TCPFlag.SYN, seq: 1 });
    one(await h.send(sent));
    const translated = h.tun.written[0];
    const t = parse(translated);
    // The backend (or a router on its path) cannot forward it: it quotes the translated packet.
    const err = icmpError(t.dst, 3, 4, translated, 1280);
    const out = one(await h.send(err));
    assert.deepEqual([out.src, out.dst, out.icmpType, out.icmpCode, out.icmpRest], ['10.96.0.10', client, 3, 4, 1280]);
    assert.ok(out.checksumsValid, 'outer IP and ICMP checksums');
    assert.deepEqual([out.quote?.src, out.quote?.sport, out.quote?.dst, out.quote?.dport], [client, 51000, '10.96.0.10', 80]);
    const raw = lastRaw(h);
    assert.ok(ipv4HeaderChecksumValid(raw, 28), 'the quoted IPv4 header checksum was adjusted');
    // The quote is now byte for byte what the client sent.
    assert.deepEqual(raw.slice(28, 28 + sent.length), sent);
    assert.equal(h.lb.stage.stats.icmpTranslated, 1);
  } finally {
    h.close();
  }
});

test('IPv6: packet too big about a flow is translated too, and the quoted UDP checksum stays right', async () => {
  const text = CONFIG.replace('[FerryService]\nName = web6', '[FerryService]\nName = dns6\nAddress = [fd00:96::53]:53\nProtocol = udp\nBackend = [fd00:1::2]:5353\n[FerryService]\nName = web6');
  const h = LbHarness.fromConfig(text);
  try {
    const sent = packet({ src: 'fd00:200::2', sport: 40000, dst: 'fd00:96::53', dport: 53, proto: 'udp', payload: 'hello' });
    const t = one(await h.send(sent));
    const err = icmpError('fd00:1::2', 2, 0, h.tun.written[0], 1400);
    const out = one(await h.send(err));
    assert.deepEqual([out.family, out.src, out.dst, out.icmpType, out.icmpRest, out.checksumsValid], [6, 'fd00:96::53', 'fd00:200::2', 2, 1400, true]);
    assert.equal(t.src, 'fd00:96::fffe');
    const quote = lastRaw(h).slice(48);
    assert.deepEqual(quote, sent);
    assert.ok(quotedUdpChecksumValid(quote));
  } finally {
    h.close();
  }
});

test("a UDP backend's port unreachable takes it out at once and its flow moves on the next datagram", async () => {
  const h = LbHarness.fromConfig(CONFIG);
  try {
    const q = one(await h.send(packet({ src: client, sport: 30000, dst: '10.96.0.53', dport: 53, proto: 'udp', payload: 'q' })));
    const dns = h.lb.balancer.get('dns')!;
    const b = dns.backends.find((x) => x.host === q.dst)!;
    assert.deepEqual(await h.send(icmpError(q.dst, 3, 3, h.tun.written[0])), [], 'consumed: the client is not told, its flow moves');
    assert.equal(b.healthy, false);
    assert.deepEqual(h.drops(), { lb_backend_failed: 1 });
    assert.equal(h.lb.stage.stats.passiveFailures, 1);
    const next = one(await h.send(packet({ src: client, sport: 30000, dst: '10.96.0.53', dport: 53, proto: 'udp', payload: 'q' })));
    assert.notEqual(next.dst, q.dst);
    // No active check: back after HealthInterval × HealthyThreshold (2 s × 2).
    h.tick(3999);
    assert.equal(b.healthy, false);
    h.tick(1);
    assert.equal(b.healthy, true);
  } finally {
    h.close();
  }
});

test('ICMP errors quoting no known flow are dropped when addressed to the LB; garbage quotes too', async () => {
  const h = LbHarness.fromConfig(CONFIG);
  try {
    const ghost = packet({ src: '10.96.255.254', sport: 40001, dst: '10.0.1.2', dport: 8080, proto: 'tcp', flags: TCPFlag.SYN });
    assert.deepEqual(await h.send(icmpError('10.0.1.2', 3, 3, ghost)), []);
    const toVip = packet({ src: '10.96.0.10', sport: 80, dst: client, dport: 1234, proto: 'tcp', flags: TCPFlag.ACK });
    assert.deepEqual(await h.send(icmpError(client, 3, 3, toVip)), [], 'to the VIP, about a flow that does not exist');
    // A quote cut below its ports, and one that is not IP at all.
    const cut = icmpError('10.0.1.2', 3, 3, ghost);
    const tooShort = fixIpv4(Uint8Array.from(cut.slice(0, 28 + 24)));
    assert.deepEqual(await h.send(tooShort), []);
    const notIp = Uint8Array.from(cut);
    notIp[28] = 0x15;
    assert.deepEqual(await h.send(fixIcmp(notIp)), []);
    const d = h.drops();
    assert.equal(d.lb_icmp_unknown_flow, 4, JSON.stringify(d));
    // The same error about a real flow, with a broken ICMP checksum: bad_checksum.
    one(await h.send(packet({ src: client, sport: 51000, dst: '10.96.0.10', dport: 80, proto: 'tcp', flags: TCPFlag.SYN })));
    const bad = icmpError(parse(h.tun.written[h.tun.written.length - 1]).dst, 3, 4, h.tun.written[h.tun.written.length - 1], 1280);
    bad[22] ^= 0xff;
    assert.deepEqual(await h.send(bad), []);
    assert.equal(h.drops().bad_checksum, 1);
  } finally {
    h.close();
  }
});

test('an echo request to a VIP is answered; to an address of the range without a service, dropped', async () => {
  const h = LbHarness.fromConfig(CONFIG);
  try {
    const echo = new Uint8Array(28 + 8);
    echo.set([0x45, 0, 0, 36, 0, 1, 0x40, 0, 64, 1, 0, 0]);
    echo.set(addrBytes(client).subarray(0, 4), 12);
    echo.set(addrBytes('10.96.0.10').subarray(0, 4), 16);
    fixIpv4(echo);
    echo.set([8, 0, 0, 0, 0x12, 0x34, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8], 20);
    fixIcmp(echo);
    const reply = one(await h.send(echo));
    assert.deepEqual([reply.src, reply.dst, reply.icmpType, reply.checksumsValid], ['10.96.0.10', client, 0, true]);
    const other = Uint8Array.from(echo);
    other[19] = 77;
    assert.deepEqual(await h.send(fixIpv4(other)), []);
    assert.deepEqual(h.drops(), { lb_no_service: 1 });
  } finally {
    h.close();
  }
});

function fixIpv4(p: Uint8Array): Uint8Array {
  p[2] = p.length >> 8;
  p[3] = p.length & 0xff;
  p[10] = 0;
  p[11] = 0;
  const c = internetChecksum(p, 0, 20);
  p[10] = c >> 8;
  p[11] = c & 0xff;
  return p;
}

function fixIcmp(p: Uint8Array): Uint8Array {
  p[22] = 0;
  p[23] = 0;
  const c = internetChecksum(p, 20, p.length - 20);
  p[22] = c >> 8;
  p[23] = c & 0xff;
  return p;
}
