import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { ConnectionLimit } from './connection-limit.js';

class FakeSocket extends EventEmitter {
  destroyed = false;
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

const sock = () => new FakeSocket() as unknown as Socket & FakeSocket;

test('at the bound, the quietest idle connection makes room; busy ones are never closed', () => {
  let now = 0;
  const limit = new ConnectionLimit(3, () => now);
  const [a, b, c, d, e] = [sock(), sock(), sock(), sock(), sock()];
  limit.admit(a);
  now = 1;
  limit.admit(b);
  now = 2;
  limit.admit(c);
  now = 3;
  limit.active(a); // a spoke last: b is now the quietest
  now = 3.5;
  limit.admit(d);
  assert.deepEqual([a.destroyed, b.destroyed, c.destroyed], [false, true, false]);
  assert.equal(limit.size, 3);
  limit.busy(c, true); // c answers a request, though it has been quiet longest: a goes
  now = 4;
  limit.admit(e);
  assert.deepEqual([a.destroyed, c.destroyed, d.destroyed], [true, false, false]);
  assert.equal(limit.evicted, 2);
  assert.equal(limit.size, 3);
  d.destroy(); // a connection that closes by itself leaves room
  assert.equal(limit.size, 2);
});

test('when every connection is busy, a new one is still taken in (the bound is for idle ones)', () => {
  const limit = new ConnectionLimit(1, () => 0);
  const a = sock();
  limit.admit(a);
  limit.busy(a, true);
  const b = sock();
  limit.admit(b);
  assert.equal(a.destroyed, false);
  assert.equal(limit.size, 2);
});
