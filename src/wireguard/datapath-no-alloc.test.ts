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
import { bodies, FORBIDDEN, stripComments } from '../../test/support/no-alloc-scan.js';

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
