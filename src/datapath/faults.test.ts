/**
 * The datapath under I/O faults, on the in-memory ports: a receive error, a full socket
 * buffer in the middle of a batch, a datagram refused in the middle of a batch. Nothing
 * crashes, nothing is lost or counted twice, counters stay right per peer, reading resumes.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { DropReason } from '../stats/drop-reasons.js';
import { initCrypto } from '../wireguard/crypto.js';
import { MessageType } from '../wireguard/constants.js';
import { assertDelivered, closeAndCheck, handshake, ipv4Packet, makePair, sentBy, settle } from '../../test/support/wg-device-harness.js';

await initCrypto();

const ENOBUFS = 105;
const EAGAIN = 11;
const EPERM = 1;

function burst(p: ReturnType<typeof makePair>, n: number, tag: string): Uint8Array[] {
  const packets: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const pk = ipv4Packet(p.a.v4, p.b.v4, `${tag} ${i}`);
    packets.push(pk);
    p.a.tun.inject(pk);
  }
  return packets;
}

function transportBytes(p: ReturnType<typeof makePair>): number {
  return sentBy(p, p.a, MessageType.Transport).reduce((sum, d) => sum + d.data.length, 0);
}

test('ENOBUFS on receive is counted and survived; reading goes on', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  const first = await handshake(p);
  p.b.udp.injectRecvError(ENOBUFS);
  const more = burst(p, 5, 'after the error');
  await settle(p);
  assertDelivered(p.b, [first, ...more]);
  assert.equal(p.b.udp.recvErrors, 1);
  assert.equal(p.b.udp.lastRecvError, -ENOBUFS);
});

test('EAGAIN in the middle of a batch: the rest waits, sealed, and goes out once writable, exactly once', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  const first = await handshake(p);
  const txBefore = p.a.peer.txBytes;
  p.a.udp.failNextSends(4, EAGAIN);
  const packets = burst(p, 12, 'burst');
  await settle(p);
  assertDelivered(p.b, [first, ...packets], 'all delivered, in order, once');
  assert.ok(p.a.dp.stats.sendBlocks >= 1, 'the block was counted');
  assert.equal(p.a.udp.sendBlocked, 8, 'entries 4..11 met EAGAIN');
  assert.equal(p.a.dp.drops.total() + p.a.dev.drops.total(), 0, 'nothing dropped');
  // Transfer counters: every datagram counted once, when it really left.
  assert.equal(p.a.peer.txBytes - txBefore, transportBytes(p) - sentBy(p, p.a, MessageType.Transport)[0].data.length);
  assert.equal(p.b.peer.rxBytes, sentBy(p, p.a).reduce((sum, d) => sum + d.data.length, 0), 'B received each datagram once');
});

test('while the socket stays full the TUN is not read (backpressure), then everything flows', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  const first = await handshake(p);
  p.a.udp.blockWrites();
  const packets = burst(p, 3, 'blocked');
  await settle(p);
  assertDelivered(p.b, [first], 'nothing passes while blocked');
  const waiting = burst(p, 4, 'queued in the TUN');
  await settle(p);
  assert.equal(p.a.tun.pending, 4, 'the TUN is not read while the socket is full');
  p.a.udp.unblockWrites();
  await settle(p);
  assertDelivered(p.b, [first, ...packets, ...waiting]);
  assert.equal(p.a.tun.pending, 0);
});

test('a datagram refused mid-batch is counted once, and the peer is credited only what left', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  const first = await handshake(p);
  const txBefore = p.a.peer.txBytes;
  p.a.udp.failNextSends(2, EPERM, 1);
  const packets = burst(p, 6, 'one refused');
  await settle(p);
  assertDelivered(p.b, [first, ...packets.filter((_, i) => i !== 2)]);
  assert.equal(p.a.dev.drops.get(DropReason.UdpSendFailed), 1);
  const sent = sentBy(p, p.a, MessageType.Transport).slice(1).reduce((sum, d) => sum + d.data.length, 0);
  assert.equal(p.a.peer.txBytes - txBefore, sent, 'the refused datagram is not in the transfer counter');
});
