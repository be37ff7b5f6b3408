/**
 * The sticky source on loopback: received records carry the local address (and ifindex)
 * each datagram arrived on; a reply sent with that record leaves from it; a source the
 * kernel refuses is cleared in the batch and the datagram retried once without it; GSO
 * groups only identical records. And whenWritable on the socket's own poller.
 * (test/netns/udp-sticky.test.ts does the same with two addresses on a veth.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { PacketBatch } from '../buffer/batch.js';
import { BufferPool } from '../buffer/pool.js';
import {
  ENDPOINT_STRIDE as S,
  decodeEndpoint,
  decodeEndpointLocal,
  encodeEndpoint,
  encodeEndpointLocal,
  hasEndpointLocal,
  type Endpoint,
  type EndpointLocal,
} from './endpoint.js';
import { ifNameToIndex } from './ifindex.js';
import { UdpSocket } from './udp.js';

const lo = ifNameToIndex('lo');

function push(pool: BufferPool, batch: PacketBatch, byte: number, size: number, to: Endpoint, from: EndpointLocal | null): void {
  const slot = pool.acquire();
  const off = pool.dataOffset(slot);
  pool.slab.fill(byte, off, off + size);
  const k = batch.push(slot, off, size);
  encodeEndpoint(to, batch.endpoints, k * S);
  encodeEndpointLocal(from, batch.endpoints, k * S);
}

function release(pool: BufferPool, batch: PacketBatch): void {
  pool.releaseMany(batch.slots, batch.count);
  batch.clear();
}

async function drain(sock: UdpSocket, batch: PacketBatch, want: number): Promise<void> {
  const until = Date.now() + 3000;
  while (batch.count < want) {
    if (sock.recvBatch(batch) === 0) {
      if (Date.now() > until) assert.fail(`received ${batch.count} of ${want}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

const v4 = (address: string, port: number): Endpoint => ({ family: 4, address, port });

test('received records carry the local address and interface; a reply with the record leaves from that address', async (t) => {
  const pool = new BufferPool({ slotCount: 256 });
  const server = UdpSocket.open({ pool, family: 4 }); // wildcard: 127.0.0.1 and 127.0.0.2 both reach it
  const client = UdpSocket.open({ pool, family: 4, address: '127.0.0.1' });
  t.after(() => [server, client].forEach((s) => s.close()));
  const out = new PacketBatch(8);
  push(pool, out, 1, 10, v4('127.0.0.1', server.localPort), null);
  push(pool, out, 2, 10, v4('127.0.0.2', server.localPort), null);
  assert.equal(client.sendBatch(out), 2);
  release(pool, out);
  const inb = new PacketBatch(8);
  await drain(server, inb, 2);
  assert.deepEqual(decodeEndpointLocal(inb.endpoints, 0), { family: 4, address: '127.0.0.1', ifindex: lo });
  assert.deepEqual(decodeEndpointLocal(inb.endpoints, S), { family: 4, address: '127.0.0.2', ifindex: lo });
  // Echo both with the records as received: each reply comes from the address it was sent to.
  assert.equal(server.sendBatch(inb), 2);
  assert.equal(server.sourceResets, 0);
  release(pool, inb);
  await drain(client, inb, 2);
  assert.deepEqual(decodeEndpoint(inb.endpoints, 0), v4('127.0.0.1', server.localPort));
  assert.deepEqual(decodeEndpoint(inb.endpoints, S), v4('127.0.0.2', server.localPort), 'the reply left from the second address');
  release(pool, inb);
  [server, client].forEach((s) => s.close());
  pool.assertNoLeaks();
});

test('IPv6 and dual-stack: the local part is ::1, or 127.0.0.1 (family 4) for an IPv4 datagram on a dual-stack socket', async (t) => {
  const pool = new BufferPool({ slotCount: 256 });
  const dual = UdpSocket.open({ pool, family: 6 });
  const c4 = UdpSocket.open({ pool, family: 4, address: '127.0.0.1' });
  const c6 = UdpSocket.open({ pool, family: 6, address: '::1' });
  t.after(() => [dual, c4, c6].forEach((s) => s.close()));
  const out = new PacketBatch(4);
  push(pool, out, 4, 4, v4('127.0.0.1', dual.localPort), null);
  assert.equal(c4.sendBatch(out), 1);
  release(pool, out);
  push(pool, out, 6, 6, { family: 6, address: '::1', port: dual.localPort }, null);
  assert.equal(c6.sendBatch(out), 1);
  release(pool, out);
  const inb = new PacketBatch(4);
  await drain(dual, inb, 2);
  const locals = [0, 1].map((k) => decodeEndpointLocal(inb.endpoints, k * S)).sort((a, b) => a!.family - b!.family);
  assert.deepEqual(locals, [
    { family: 4, address: '127.0.0.1', ifindex: lo },
    { family: 6, address: '::1', ifindex: lo },
  ]);
  assert.equal(dual.sendBatch(inb), 2, 'replies with v4 and v6 sources from one dual-stack socket');
  assert.equal(dual.sourceResets, 0);
  release(pool, inb);
  await drain(c4, inb, 1);
  await drain(c6, inb, 2);
  release(pool, inb);
  [dual, c4, c6].forEach((s) => s.close());
  pool.assertNoLeaks();
});

for (const gso of [false, true]) {
  test(`a source the host does not have is refused, cleared in the batch and the datagram sent without it (gso ${gso})`, async (t) => {
    const pool = new BufferPool({ slotCount: 256 });
    const tx = UdpSocket.open({ pool, family: 4, gso });
    const rx = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', gro: false, reserve: 64 });
    t.after(() => [tx, rx].forEach((s) => s.close()));
    const to = v4('127.0.0.1', rx.localPort);
    const gone: EndpointLocal = { family: 4, address: '192.0.2.77', ifindex: 0 }; // TEST-NET-1: not on this host
    const out = new PacketBatch(16);
    push(pool, out, 0, 100, to, { family: 4, address: '127.0.0.2', ifindex: 0 });
    for (let i = 1; i <= 10; i++) push(pool, out, i, 100, to, gone);
    push(pool, out, 11, 100, to, null);
    assert.equal(tx.sendBatch(out), 12);
    assert.deepEqual([...tx.sendResults.subarray(0, 12)], new Array(12).fill(0));
    assert.equal(tx.sourceResets, 10, 'each record with the refused source was cleared');
    assert.equal(tx.sendErrors, 0);
    assert.ok(hasEndpointLocal(out.endpoints, 0), 'a good source stays');
    for (let i = 1; i <= 10; i++) assert.equal(hasEndpointLocal(out.endpoints, i * S), false, `entry ${i} cleared`);
    if (gso) assert.deepEqual([tx.gsoMessages, tx.gsoDatagrams], [1, 10], 'the ten went as one GSO message, retried once without the source');
    release(pool, out);
    const inb = new PacketBatch(16);
    await drain(rx, inb, 12);
    for (let k = 0; k < 12; k++) {
      assert.equal(pool.slab[inb.offsets[k]], k, `datagram ${k} in order`);
      assert.equal(decodeEndpoint(inb.endpoints, k * S)!.address, k === 0 ? '127.0.0.2' : '127.0.0.1');
    }
    release(pool, inb);
    // IPv6: a source not on the host is refused the same way.
    const tx6 = UdpSocket.open({ pool, family: 6, address: '::1', gso });
    t.after(() => tx6.close());
    push(pool, out, 1, 20, v4('127.0.0.1', rx.localPort), null);
    encodeEndpoint({ family: 6, address: '::1', port: rx.localPort }, out.endpoints, 0);
    encodeEndpointLocal({ family: 6, address: '2001:db8::77', ifindex: 0 }, out.endpoints, 0);
    const rx6 = UdpSocket.open({ pool, family: 6, address: '::1', port: rx.localPort, gro: false, reserve: 4 });
    t.after(() => rx6.close());
    assert.equal(tx6.sendBatch(out), 1);
    assert.equal(tx6.sourceResets, 1);
    release(pool, out);
    await drain(rx6, inb, 1);
    assert.equal(decodeEndpoint(inb.endpoints, 0)!.address, '::1');
    release(pool, inb);
    [tx, rx, tx6, rx6].forEach((s) => s.close());
    pool.assertNoLeaks();
  });
}

test('GSO groups only identical records: the same peer from two local addresses makes two messages', async (t) => {
  const pool = new BufferPool({ slotCount: 256 });
  const tx = UdpSocket.open({ pool, family: 4 });
  const rx = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 64 });
  t.after(() => [tx, rx].forEach((s) => s.close()));
  const to = v4('127.0.0.1', rx.localPort);
  const out = new PacketBatch(16);
  for (let i = 0; i < 8; i++) push(pool, out, i, 300, to, { family: 4, address: i < 4 ? '127.0.0.3' : '127.0.0.4', ifindex: lo! });
  assert.equal(tx.sendBatch(out), 8);
  assert.deepEqual([tx.gsoMessages, tx.gsoDatagrams], [2, 8]);
  release(pool, out);
  const inb = new PacketBatch(16);
  await drain(rx, inb, 8);
  for (let k = 0; k < 8; k++) assert.equal(decodeEndpoint(inb.endpoints, k * S)!.address, k < 4 ? '127.0.0.3' : '127.0.0.4');
  release(pool, inb);
  [tx, rx].forEach((s) => s.close());
  pool.assertNoLeaks();
});

test('whenWritable calls back once, on a later turn, through the socket poller; cancel and close forget it', async (t) => {
  const pool = new BufferPool({ slotCount: 16 });
  const sock = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 4 });
  t.after(() => sock.close());
  let reads = 0;
  sock.start(() => reads++);
  let calls = 0;
  const fn = () => calls++;
  sock.whenWritable(fn);
  sock.whenWritable(fn);
  assert.equal(calls, 0, 'not synchronously');
  for (let i = 0; i < 20 && calls === 0; i++) await new Promise((r) => setImmediate(r));
  assert.equal(calls, 1, 'an idle socket is writable');
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.equal(calls, 1, 'once: writable interest was dropped');
  const never = () => assert.fail('cancelled or closed');
  sock.whenWritable(never);
  assert.equal(sock.cancelWhenWritable(never), true);
  sock.whenWritable(never);
  sock.close();
  sock.whenWritable(never);
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.equal(reads, 0);
  pool.assertNoLeaks();
});

test('a closed socket leaves no pool waiter behind', async (t) => {
  const pool = new BufferPool({ slotCount: 4 });
  const sock = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 4 });
  const tx = createSocket('udp4');
  t.after(() => {
    sock.close();
    tx.close();
  });
  const held = new PacketBatch(8);
  sock.start(() => sock.recvBatch(held));
  // Six datagrams, four slots: the socket reads four, then starves and waits for the pool.
  for (let i = 0; i < 6; i++) tx.send(Buffer.from([i]), sock.localPort, '127.0.0.1');
  for (let i = 0; i < 200 && pool.waiting === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(held.count, 4);
  assert.equal(pool.waiting, 1, 'the starved socket waits for slots');
  sock.close();
  assert.equal(pool.waiting, 0, 'close() cancelled its waiter');
  release(pool, held);
  pool.assertNoLeaks();
});
