/**
 * pollWait (native/src/poll.c): a bounded blocking wait for one fd's readiness, for a
 * datapath that stays in its callback while traffic keeps coming.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketBatch } from '../buffer/batch.js';
import { BufferPool } from '../buffer/pool.js';
import { encodeEndpoint, ENDPOINT_STRIDE } from './endpoint.js';
import { loadNative, type NativeIo } from './native.js';
import { UdpSocket } from './udp.js';

const native = loadNative() as NativeIo & { pollWait(fd: number, events: number, timeoutMs: number): number };

test('pollWait reports readable once a datagram waits, writable at once, and times out otherwise', (t) => {
  const pool = new BufferPool({ slotCount: 8 });
  const rx = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 2 });
  const tx = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 1 });
  t.after(() => {
    rx.close();
    tx.close();
  });
  const started = performance.now();
  assert.equal(native.pollWait(rx.fd, 1, 30), 0, 'nothing to read');
  const waited = performance.now() - started;
  assert.ok(waited >= 25 && waited < 1000, `waited ${waited.toFixed(1)} ms for a 30 ms timeout`);
  assert.equal(native.pollWait(rx.fd, 2, 0), 2, 'a UDP socket is writable');
  const one = new PacketBatch(1);
  const slot = pool.acquire();
  encodeEndpoint({ family: 4, address: '127.0.0.1', port: rx.localPort }, one.endpoints, one.push(slot, pool.dataOffset(slot), 3) * ENDPOINT_STRIDE);
  assert.equal(tx.sendBatch(one), 1); // synchronous: the datagram is queued at rx now
  pool.release(slot);
  assert.equal(native.pollWait(rx.fd, 1, 1000), 1, 'readable once the datagram is queued');
  assert.equal(native.pollWait(rx.fd, 3, 0), 3, 'readable and writable');
});

test('pollWait checks its arguments and reports a closed fd', () => {
  assert.throws(() => native.pollWait(-1, 1, 0), { name: 'RangeError' });
  assert.throws(() => native.pollWait(0, 0, 0), { name: 'RangeError', message: /events/ });
  assert.throws(() => native.pollWait(0, 1, 60001), { name: 'RangeError', message: /timeoutMs/ });
  const pool = new BufferPool({ slotCount: 2 });
  const s = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', reserve: 1 });
  const fd = s.fd;
  s.close();
  assert.throws(() => native.pollWait(fd, 1, 0), { code: 'EBADF' });
});
