import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CookieReplyLimiter } from './cookie-reply-limiter.js';

/** A remote endpoint record (family, port, address) for 10.0.x.y. */
function v4(x: number, y: number): Uint8Array {
  const r = new Uint8Array(24);
  r[0] = 4;
  r.set([10, 0, x, y], 4);
  return r;
}

test('the total bucket: a tenth of a second of burst, refilled with time, at least one reply', () => {
  const l = new CookieReplyLimiter({ perSecond: 100 });
  let ok = 0;
  for (let i = 0; i < 50; i++) if (l.allow(v4(1, i), 0, 1000)) ok++;
  assert.equal(ok, 10);
  assert.equal(l.allow(v4(2, 0), 0, 1005), false, 'half a token');
  assert.equal(l.allow(v4(2, 1), 0, 1010), true, 'one token after 10 ms');
  const slow = new CookieReplyLimiter({ perSecond: 1 });
  assert.equal(slow.allow(v4(1, 1), 0, 0), true);
  assert.equal(slow.allow(v4(1, 2), 0, 999), false);
  assert.equal(slow.allow(v4(1, 3), 0, 1000), true);
});

test('a source over its own rate does not drain the total', () => {
  const l = new CookieReplyLimiter({ perSecond: 10 });
  let ok = 0;
  for (let i = 0; i < 100; i++) if (l.allow(v4(9, 9), 0, 0)) ok++;
  assert.equal(ok, 1, 'the total allows one (a tenth of 10/s)');
  const m = new CookieReplyLimiter({ perSecond: 1000 });
  ok = 0;
  for (let i = 0; i < 100; i++) if (m.allow(v4(9, 9), 0, 0)) ok++;
  assert.equal(ok, 5, 'one source: its burst of 5');
  assert.equal(m.allow(v4(9, 10), 0, 0), true, 'another source still gets its reply');
});

test('bad options are refused; idle sources are forgotten by gc', () => {
  assert.throws(() => new CookieReplyLimiter({ perSecond: 0 }), /positive integer/);
  assert.throws(() => new CookieReplyLimiter({ perSecond: 1.5 }), /positive integer/);
  const l = new CookieReplyLimiter({ capacity: 2 });
  assert.equal(l.allow(v4(1, 1), 0, 0), true);
  assert.equal(l.allow(v4(1, 2), 0, 0), true);
  assert.equal(l.allow(v4(1, 3), 0, 0), false, 'table full: a new source is refused');
  l.gc(2000);
  assert.equal(l.allow(v4(1, 3), 0, 2000), true);
});
