/**
 * The port gate (gate.ts) on a real UDP fd: readable and writable interest on one poller,
 * pause/starve, and what it does with poll errors. libuv reports POLLERR as a negative
 * status; the status is fed to the gate's poll callback directly here (a real POLLERR on
 * an unconnected socket needs IP_RECVERR, which ferry does not set).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../buffer/pool.js';
import type { SystemError } from '../errors.js';
import { ReadGate } from './gate.js';
import { loadNative } from './native.js';

const n = loadNative();
const UV_EBADF = -9;
const turn = () => new Promise<void>((r) => setImmediate(r));

function fixture(t: import('node:test').TestContext, rearmOnError: boolean) {
  const fd = n.udpOpen(4, '127.0.0.1', 0);
  const pool = new BufferPool({ slotCount: 4 });
  const gate = new ReadGate(fd, pool, { rearmOnError });
  t.after(() => {
    gate.stop();
    n.closeFd(fd);
  });
  const poll = (status: number, events: number) => (gate as unknown as { onPoll(s: number, e: number): void }).onPoll(status, events);
  return { fd, pool, gate, poll };
}

test('UDP gate: a poll error is read (the port counts it) and watched again; one that keeps coming backs off and reaches onError', async (t) => {
  const { gate, poll } = fixture(t, true);
  let reads = 0;
  const errors: SystemError[] = [];
  gate.start(
    () => reads++,
    (e) => errors.push(e),
  );
  poll(UV_EBADF, 0);
  assert.deepEqual([reads, errors.length, gate.pollErrors], [1, 0, 1], 'read to consume the queued error; no alarm');
  poll(0, 1);
  assert.equal(reads, 2, 'a good event resets the streak');
  poll(UV_EBADF, 0);
  poll(UV_EBADF, 0);
  assert.equal(errors.length, 0);
  poll(UV_EBADF, 0);
  assert.equal(errors.length, 1, 'the third error in a row was not cleared by reading: onError hears of it');
  assert.equal(errors[0].syscall, 'uv_poll');
  assert.equal(errors[0].errno, UV_EBADF);
  assert.equal(reads, 5, 'each error was still read');
});

test('TUN gate: a poll error goes to onError (the device is gone), without reading or watching again', (t) => {
  const { gate, poll } = fixture(t, false);
  let reads = 0;
  const errors: SystemError[] = [];
  gate.start(
    () => reads++,
    (e) => errors.push(e),
  );
  poll(UV_EBADF, 0);
  assert.deepEqual([reads, errors.length], [0, 1]);
});

test('whenWritable shares the poller with reading, fires once per registration, and survives pause and starvation', async (t) => {
  const { gate, pool } = fixture(t, true);
  let reads = 0;
  gate.start(() => reads++);
  let w = 0;
  const fn = () => w++;
  gate.pause();
  gate.whenWritable(fn);
  assert.equal(gate.writableWaiters, 1);
  for (let i = 0; i < 20 && w === 0; i++) await turn();
  assert.equal(w, 1, 'writable while reading is paused');
  assert.equal(gate.writableWaiters, 0);
  // Starved: waiting for the pool, still writable.
  gate.resume();
  const held = new Int32Array(4);
  pool.acquireInto(held, 4);
  gate.starve(1);
  assert.equal(pool.waiting, 1);
  gate.whenWritable(fn);
  for (let i = 0; i < 20 && w === 1; i++) await turn();
  assert.equal(w, 2);
  // A function registering itself again from its callback waits for the next event.
  let again = 0;
  const self = () => {
    if (++again < 3) gate.whenWritable(self);
  };
  gate.whenWritable(self);
  for (let i = 0; i < 50 && again < 3; i++) await turn();
  assert.equal(again, 3);
  gate.stop();
  assert.equal(pool.waiting, 0, 'stop() cancelled the pool waiter');
  pool.releaseMany(held, 4);
  assert.equal(reads, 0, 'nothing to read all along');
});
