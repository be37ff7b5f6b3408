/**
 * The receive side's per-peer bookkeeping runs once per run of packets under one keypair
 * (receive.ts); these check it ends where per-packet bookkeeping would: byte counter,
 * keepalive timers, the endpoint of the run's last packet.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initCrypto } from './crypto.js';
import { MessageType } from './constants.js';
import type { Datagram } from '../../test/fakes/fake-udp.js';
import { closeAndCheck, handshake, ipv4Packet, makePair, settle, type Pair } from '../../test/support/wg-device-harness.js';

before(async () => {
  await initCrypto();
});

/** B's next `count` transport datagrams to A, held back from the network so they can arrive in one batch. */
async function heldFromB(p: Pair, count: number): Promise<Datagram[]> {
  const held: Datagram[] = [];
  p.net.filter = (d) => {
    if (d.from.port !== p.b.udp.local.port || d.data[0] !== MessageType.Transport) return true;
    held.push({ ...d, data: d.data.slice() });
    return false;
  };
  for (let i = 0; i < count; i++) p.b.tun.inject(ipv4Packet(p.b.v4, p.a.v4, `data ${i} ${'x'.repeat(i * 40)}`));
  await settle(p);
  p.net.filter = undefined;
  assert.equal(held.length, count);
  return held;
}

test('a batch of data packets from one peer: rxBytes counts every datagram, keepalive timers as after per-packet calls', async () => {
  const p = makePair();
  const { a } = p;
  await handshake(p);
  const held = await heldFromB(p, 3);
  const rx0 = a.peer.rxBytes;
  assert.equal(a.peer.timers.sendKeepaliveAt, Infinity);
  const received0 = a.udp.received;
  for (const d of held) p.net.send(d); // all queued before A reads: one receive batch
  await settle(p);
  assert.equal(a.udp.received - received0, 3);
  assert.equal(a.peer.rxBytes - rx0, held.reduce((n, d) => n + d.data.length, 0));
  // The first data packet arms the keepalive, the second (and any after) asks for another.
  assert.ok(Number.isFinite(a.peer.timers.sendKeepaliveAt));
  assert.equal(a.peer.timers.needAnotherKeepalive, true);
  assert.equal(a.tun.written.length, 3);
  closeAndCheck(p);
});

test('a single data packet arms the keepalive without asking for another', async () => {
  const p = makePair();
  await handshake(p);
  const [d] = await heldFromB(p, 1);
  p.net.send(d);
  await settle(p);
  assert.ok(Number.isFinite(p.a.peer.timers.sendKeepaliveAt));
  assert.equal(p.a.peer.timers.needAnotherKeepalive, false);
  closeAndCheck(p);
});

test('a peer roaming within one batch: the endpoint is the run\'s last packet\'s', async () => {
  const p = makePair();
  const { a } = p;
  await handshake(p);
  const held = await heldFromB(p, 3);
  const first = { family: 4 as const, address: '198.51.100.7', port: 50000 };
  const last = { family: 4 as const, address: '198.51.100.8', port: 50001 };
  let roamed = 0;
  a.dev.on('endpoint', () => roamed++);
  p.net.send({ ...held[0], from: first });
  p.net.send({ ...held[1], from: first });
  p.net.send({ ...held[2], from: last });
  await settle(p);
  assert.equal(a.tun.written.length, 3);
  assert.deepEqual(a.peer.getEndpoint(), last);
  assert.equal(roamed, 1, 'one change per run');
  closeAndCheck(p);
});
