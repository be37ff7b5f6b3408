/**
 * Longest-prefix lookups allocate nothing (test/support/no-alloc-scan.ts reads the source;
 * bench/datapath.ts runs both the route table's and the allowed IPs' lookups per packet
 * under a GC count). Inserting and removing prefixes is configuration, not per packet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanFolder } from '../../test/support/no-alloc-scan.js';

test('prefix lookups allocate nothing', () => {
  const r = scanFolder({
    folder: 'src/table',
    files: [{ file: 'prefix-trie.ts', hot: ['lookupV4', 'lookupV4At', 'lookupV6'] }],
    notHot: { 'family-trie.ts': 'configuration: placing, finding and pruning prefixes (the lookups are in prefix-trie.ts)' },
    classifyAll: true,
  });
  assert.deepEqual(r.stale, []);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.scanned.sort(), ['prefix-trie.ts lookupV4', 'prefix-trie.ts lookupV4At', 'prefix-trie.ts lookupV6']);
});
