/**
 * The device's per-packet code must allocate nothing. As in src/packet/no-alloc.test.ts,
 * this reads the source rather than measuring the heap (which V8 makes flaky): every
 * top-level function and class method of the hot-path files, constructors and the named
 * control-path methods aside, must be free of constructs that create objects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** File -> methods that run on the control path only (allowed to allocate). */
const HOT_FILES: Record<string, string[]> = {
  'send.ts': [],
  'receive.ts': [],
  'staged-queue.ts': [],
  'handshake-queue.ts': [],
  'timers.ts': [],
  'keypair.ts': ['install', 'clear'],
  'key-table.ts': ['alloc', 'set', 'free', 'check', 'grow'],
};

const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bnew\s+[A-Za-z_$]/, 'new'],
  [/=>/, 'closure'],
  [/`/, 'template string'],
  [/(=|\(|,|\breturn|\?|:)\s*\[/, 'array literal'],
  [/(=|\(|,|\breturn|\?|:)\s*\{/, 'object literal'],
  [/\b(const|let|var)\s*[[{]/, 'destructuring'],
  [/\.\.\./, 'spread'],
  [/\.(subarray|slice|map|filter|reduce|concat|split|join|toString|padStart|from|of|bind|emit)\(/, 'allocating method'],
  [/\b(Buffer|String|Array|Object|JSON|DataView|Promise|setImmediate|setTimeout)\b/, 'allocating global'],
  [/\barguments\b/, 'arguments object'],
];

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

function bodyFrom(src: string, start: number): string {
  let i = src.indexOf('(', start);
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
  return src.slice(open + 1, j);
}

/** Top-level functions and (two-space indented) class methods with their bodies. */
function bodies(src: string): Array<{ name: string; body: string }> {
  const out: Array<{ name: string; body: string }> = [];
  const fn = /^(?:export\s+)?function\s+([A-Za-z0-9_$]+)/gm;
  for (let m = fn.exec(src); m !== null; m = fn.exec(src)) out.push({ name: m[1], body: bodyFrom(src, m.index) });
  const method = /^ {2}(?:(?:private|public|static|readonly)\s+)*(?:get\s+|set\s+)?([A-Za-z0-9_$]+)\s*\(/gm;
  for (let m = method.exec(src); m !== null; m = method.exec(src)) {
    if (m[1] === 'constructor') continue;
    out.push({ name: m[1], body: bodyFrom(src, m.index) });
  }
  return out;
}

test('hot-path functions and methods allocate nothing', () => {
  const problems: string[] = [];
  let checked = 0;
  for (const [file, control] of Object.entries(HOT_FILES)) {
    const src = stripComments(readFileSync(join(here, file), 'utf8'));
    for (const { name, body } of bodies(src)) {
      if (control.includes(name)) continue;
      checked++;
      for (const [re, what] of FORBIDDEN) if (re.test(body)) problems.push(`${file} ${name}: ${what}`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked >= 35, `scanned ${checked} functions`);
});

test('the scanner finds what it is meant to find', () => {
  const sample = stripComments(`
export function bad(a: number): number {
  const x = [a];
  return x.length;
}
class C {
  ok(a: number): number {
    return a + 1;
  }
  private worse(): void {
    queueMicrotask(() => undefined);
  }
}`);
  const found = bodies(sample).map(({ name, body }) => [name, FORBIDDEN.filter(([re]) => re.test(body)).map(([, w]) => w)]);
  assert.deepEqual(found, [
    ['bad', ['array literal']],
    ['ok', []],
    ['worse', ['closure']],
  ]);
});
