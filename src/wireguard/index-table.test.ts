import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_INDEX_CAPACITY, IndexTable } from './index-table.js';
import { FerryError } from '../errors.js';

interface Entry {
  peer: string;
  kind: 'handshake' | 'keypair';
}

/** A random source that replays a fixed list of values, then repeats its last one. */
function scripted(values: number[]): (out: Uint32Array) => void {
  let i = 0;
  return (out) => {
    for (let j = 0; j < out.length; j++) out[j] = values[Math.min(i++, values.length - 1)];
  };
}

test('100k inserts: unique, never 0, all found again, uint32 on the way out', () => {
  const t = new IndexTable<number>();
  assert.equal(t.capacity, DEFAULT_INDEX_CAPACITY);
  const seen = new Set<number>();
  for (let i = 0; i < 100_000; i++) {
    const index = t.insert(i);
    assert.ok(Number.isInteger(index) && index > 0 && index <= 0xffffffff, `index ${index} is a non-zero uint32`);
    assert.ok(!seen.has(index), `index ${index} handed out twice`);
    seen.add(index);
  }
  assert.equal(t.size, 100_000);
  let i = 0;
  for (const index of seen) {
    assert.equal(t.lookup(index), i, 'found by uint32');
    assert.equal(t.lookup(index | 0), i, 'found by int32 (the same 32 bits)');
    i++;
  }
  // Random indices are spread over the whole range, high bit included.
  assert.ok([...seen].some((x) => x >= 2 ** 31));
});

test('collisions and 0 are skipped; a broken random source fails loudly', () => {
  const t = new IndexTable<string>({ randomFill: scripted([0, 7, 7, 0, 0xffffffff, 0x80000000, 7, 9]) });
  assert.equal(t.insert('a'), 7, '0 skipped');
  assert.equal(t.insert('b'), 0xffffffff, 'duplicate 7 and 0 skipped');
  assert.equal(t.insert('c'), 0x80000000);
  assert.equal(t.insert('d'), 9, 'duplicate 7 skipped');
  assert.equal(t.lookup(0xffffffff), 'b');
  assert.equal(t.lookup(-1), 'b', 'int32 view of the same index');
  assert.equal(t.lookup(0x80000000), 'c');
  assert.equal(t.lookup(0), undefined);
  // The source now repeats 9 forever: insert cannot find a free index.
  assert.throws(() => t.insert('e'), FerryError);
  assert.equal(t.size, 4);
});

test('bounded: insert returns 0 when full, and works again after a removal', () => {
  let next = 1;
  const t = new IndexTable<string>({
    capacity: 3,
    randomFill: (out) => {
      for (let i = 0; i < out.length; i++) out[i] = next++;
    },
  });
  const a = t.insert('a');
  const b = t.insert('b');
  const c = t.insert('c');
  assert.deepEqual([a, b, c].every((x) => x !== 0), true);
  assert.equal(t.insert('d'), 0, 'full');
  assert.equal(t.size, 3);
  assert.equal(t.remove(b), true);
  const d = t.insert('d');
  assert.notEqual(d, 0);
  assert.equal(t.lookup(d), 'd');
  assert.equal(t.lookup(b), undefined);
});

test('replace keeps the index (handshake -> keypair); guarded replace and remove', () => {
  const t = new IndexTable<Entry>();
  const hs: Entry = { peer: 'p', kind: 'handshake' };
  const kp: Entry = { peer: 'p', kind: 'keypair' };
  const other: Entry = { peer: 'q', kind: 'handshake' };
  const index = t.insert(hs);
  assert.equal(t.replace(index, kp, other), false, 'guard: current entry is not `other`');
  assert.equal(t.lookup(index), hs);
  assert.equal(t.replace(index, kp, hs), true);
  assert.equal(t.lookup(index), kp);
  assert.equal(t.replace(index ^ 1, kp), false, 'unknown index is not created by replace');
  assert.equal(t.lookup(index ^ 1), undefined);
  assert.equal(t.remove(index, hs), false, 'a stale owner cannot free it');
  assert.equal(t.lookup(index), kp);
  assert.equal(t.remove(index, kp), true);
  assert.equal(t.remove(index), false, 'already gone');
  assert.equal(t.size, 0);
});

test('clear, and bad capacities', () => {
  const t = new IndexTable<number>({ capacity: 10 });
  for (let i = 0; i < 10; i++) t.insert(i);
  t.clear();
  assert.equal(t.size, 0);
  assert.notEqual(t.insert(1), 0);
  for (const capacity of [0, -1, 1.5, 2 ** 31 + 1, Number.NaN]) {
    assert.throws(() => new IndexTable({ capacity }), FerryError, `capacity ${capacity}`);
  }
});
