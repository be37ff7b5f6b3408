/**
 * The load balancer's per-packet code allocates nothing: test/support/no-alloc-scan.ts
 * reads every function and method of the hot-path files. Control-path methods (config
 * changes, listings, construction) are named here and may allocate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bodies, violations } from '../../test/support/no-alloc-scan.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Hot-path files, and the control-path functions in them. */
const FILES: Record<string, string[]> = {
  'stage.ts': [],
  'stage-icmp.ts': [],
  'conntrack.ts': [],
  'conntrack-states.ts': [],
  'state-lists.ts': [],
  'tcp-closing.ts': [],
  'nat.ts': [],
  'answers.ts': [],
  'answer-plane.ts': [],
  'hash.ts': [],
  'snat-ports.ts': [],
  'service-index.ts': ['rebuild'],
  'affinity.ts': ['forget'],
  'ranges.ts': [],
  'random.ts': [],
  // Control path but lookup(); 'if' and 'for' are statements of maglevTableSize the scanner takes for methods.
  'maglev.ts': ['maglevTableSize', 'build', 'counts', 'if', 'for'],
  'balancer.ts': ['list', 'get', 'add', 'update', 'remove', 'setBackends', 'setDrain', 'setHealthy', 'rebuild', 'retire', 'freeBackend', 'maybeFreeService', 'sameAddress', 'batch', 'reindex', 'addressKey'],
};

test('hot-path load-balancer code allocates nothing per packet', () => {
  const found: string[] = [];
  let functions = 0;
  for (const [file, allowed] of Object.entries(FILES)) {
    const src = readFileSync(join(here, file), 'utf8');
    functions += bodies(src).length;
    for (const v of violations(src, allowed)) found.push(`${file}: ${v}`);
  }
  assert.ok(functions >= 80, `scanned ${functions} functions`);
  assert.deepEqual(found, []);
});
