import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyTable } from './key-table.js';

const key = (b: number) => new Uint8Array(32).fill(b);

test('alloc, set, free wipes; double free throws', () => {
  const t = new KeyTable(4, 4);
  const s = t.alloc();
  assert.ok(s >= 0 && s < 4);
  t.set(s, key(7));
  assert.deepEqual(t.keys.subarray(s * 32, s * 32 + 32), key(7));
  assert.equal(t.size, 1);
  t.free(s);
  assert.deepEqual(t.keys.subarray(s * 32, s * 32 + 32), key(0), 'wiped');
  assert.throws(() => t.free(s), /not held/);
  assert.throws(() => t.set(s, key(1)), /not held/);
  assert.equal(t.size, 0);
});

test('grows by doubling, keeps keys, stops at maxSlots', () => {
  const t = new KeyTable(2, 8);
  const slots: number[] = [];
  for (let i = 0; i < 8; i++) {
    const s = t.alloc();
    assert.ok(s >= 0, `alloc ${i}`);
    t.set(s, key(i + 1));
    slots.push(s);
  }
  assert.equal(t.capacity, 8);
  assert.equal(new Set(slots).size, 8);
  assert.equal(t.alloc(), -1, 'hard maximum');
  slots.forEach((s, i) => assert.equal(t.keys[s * 32 + 31], i + 1, `key ${i} survived growth`));
  const before = t.keys;
  t.free(slots[3]);
  assert.equal(t.alloc(), slots[3], 'a freed slot is reused');
  assert.equal(t.keys, before, 'no growth needed');
});

test('bad sizes are refused', () => {
  assert.throws(() => new KeyTable(0));
  assert.throws(() => new KeyTable(8, 4));
  const t = new KeyTable(1, 1);
  assert.throws(() => t.set(t.alloc(), new Uint8Array(31)));
});
