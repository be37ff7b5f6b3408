/**
 * The codecs run per packet and must allocate nothing. Timing or heap measurements
 * are flaky (and V8 may optimise an allocation away in one build and not another),
 * so this test reads the source instead: inside every function of the hot-path files,
 * no construct that creates an object: `new`, array or object literals, destructuring,
 * closures, template strings, spreads, or allocating methods (subarray, slice, map...).
 * Views are classes whose fields are created once, by the caller.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** Control-path helpers (text forms of addresses) are allowed to allocate. */
const CONTROL_PATH = new Set(['format.ts']);

const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bnew\s+[A-Za-z_$]/, 'new'],
  [/=>/, 'closure'],
  [/`/, 'template string'],
  [/(=|\(|,|\breturn|\?|:)\s*\[/, 'array literal'],
  [/(=|\(|,|\breturn|\?|:)\s*\{/, 'object literal'],
  [/\b(const|let|var)\s*[[{]/, 'destructuring'],
  [/\.\.\./, 'spread'],
  [/\.(subarray|slice|map|filter|reduce|concat|split|join|toString|padStart|from|of|bind)\(/, 'allocating method'],
  [/\b(Buffer|String|Array|Object|JSON|DataView)\b/, 'allocating global'],
  [/\barguments\b/, 'arguments object'],
];

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

/** Bodies of top-level `function` declarations (exported or not), by brace matching. */
function functionBodies(src: string): Array<{ name: string; body: string }> {
  const out: Array<{ name: string; body: string }> = [];
  const re = /^(?:export\s+)?function\s+([A-Za-z0-9_$]+)/gm;
  for (let m = re.exec(src); m !== null; m = re.exec(src)) {
    // The body starts at the first '{' after the parameter list closes.
    let i = src.indexOf('(', m.index);
    let depth = 0;
    for (; i < src.length; i++) {
      if (src[i] === '(') depth++;
      else if (src[i] === ')' && --depth === 0) break;
    }
    const open = src.indexOf('{', i);
    depth = 0;
    let j = open;
    for (; j < src.length; j++) {
      if (src[j] === '{') depth++;
      else if (src[j] === '}' && --depth === 0) break;
    }
    out.push({ name: m[1], body: src.slice(open + 1, j) });
  }
  return out;
}

function violations(src: string): string[] {
  const found: string[] = [];
  for (const { name, body } of functionBodies(stripComments(src))) {
    for (const line of body.split('\n')) {
      for (const [re, what] of FORBIDDEN) if (re.test(line)) found.push(`${name}: ${what}: ${line.trim()}`);
    }
  }
  return found;
}

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
    functions += functionBodies(stripComments(src)).length;
    for (const v of violations(src)) found.push(`${f}: ${v}`);
  }
  assert.ok(functions >= 40, `scanned ${functions} functions`);
  assert.deepEqual(found, []);
});
