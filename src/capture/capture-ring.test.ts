import assert from 'node:assert/strict';
import test from 'node:test';
import { CaptureRing } from './capture-ring.js';

test('the ring hands out contiguous room, wraps, and refuses when full (bytes or records)', () => {
  const r = new CaptureRing(100, 4);
  const a = r.append(40);
  const b = r.append(40);
  assert.deepEqual([r.start[a], r.start[b]], [0, 40]);
  assert.equal(r.append(30), -1, 'only 20 bytes left at the end, none at the front');
  r.shift();
  const c = r.append(30);
  assert.equal(r.start[c], 0, 'wrapped to the front');
  assert.equal(r.append(11), -1, 'the front has 10 bytes before the oldest record');
  const d = r.append(10);
  assert.equal(r.start[d], 30);
  assert.equal(r.count, 3);
  assert.equal(r.first, b);
  r.shift();
  r.shift();
  r.shift();
  assert.equal(r.count, 0);
  assert.equal(r.start[r.append(100)], 0, 'empty again: the whole budget');
  const small = new CaptureRing(1000, 2);
  small.append(1);
  small.append(1);
  assert.equal(small.append(1), -1, 'out of records');
});
