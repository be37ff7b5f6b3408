import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectionsDuring } from './gc-count.js';

test('collectionsDuring sees a loop that allocates (so a zero from it means something)', async () => {
  const n = await collectionsDuring(() => {
    let keep: unknown[] = [];
    for (let i = 0; i < 2_000_000; i++) {
      keep.push({ i });
      if (keep.length > 1000) keep = [];
    }
  });
  assert.ok(n > 0, `scavenges counted: ${n}`);
});
