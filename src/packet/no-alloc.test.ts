/**
 * The codecs run per packet and must allocate nothing: test/support/no-alloc-scan.ts
 * reads every function and method of the hot-path files for constructs that create
 * objects. Views are classes whose fields are created once, by the caller.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bodies, violations } from '../../test/support/no-alloc-scan.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Control-path helpers (text forms of addresses) are allowed to allocate. */
const CONTROL_PATH = new Set(['format.ts']);
/**
 * Functions that allocate once, not per packet: checksum.ts's wordsOf makes a 32-bit view
 * of a backing store the first time it sees it and keeps it (offload-no-alloc.test.ts and
 * the datapath benchmark count collections at run time).
 */
const ONCE_PER_BUFFER = ['wordsOf'];

test('the scanner catches allocations (self-check)', () => {
  const bad = [
    'export function a(b: Uint8Array): number[] {\n  return [b[0], b[1]];\n}',
    'function b(x: Uint8Array) {\n  const v = x.subarray(1);\n  return v;\n}',
    'export function c(h: H): R {\n  return { a: h.a };\n}',
    'export function d(h: H): void {\n  const { a } = h;\n}',
    'export function e(): void {\n  const v = new DataView(buf);\n}',
    'export function f(): void {\n  list.forEach((x) => x);\n}',
  ];
  for (const src of bad) assert.equal(violations(src).length > 0, true, src);
  assert.deepEqual(violations('export function ok(b: Uint8Array, off: number): number {\n  if (b[off] === 1) {\n    return (b[off] << 8) | b[off + 1];\n  }\n  return 0;\n}'), []);
});

test('hot-path packet codecs allocate nothing inside their functions', () => {
  const files = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !CONTROL_PATH.has(f));
  assert.ok(files.length >= 10, `found ${files.join(', ')}`);
  let functions = 0;
  const found: string[] = [];
  for (const f of files) {
    const src = readFileSync(join(here, f), 'utf8');
    functions += bodies(src).length;
    for (const v of violations(src, ONCE_PER_BUFFER)) found.push(`${f}: ${v}`);
  }
  assert.ok(functions >= 40, `scanned ${functions} functions`);
  assert.deepEqual(found, []);
});
