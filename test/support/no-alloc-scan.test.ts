/** The hot-path scanner finds what it must and nothing else (it guards every no-alloc test). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bodies, bodyViolations, reachable, scanFolder, stripErrorPaths } from './no-alloc-scan.js';

const SAMPLE = `
interface Port {
  recv(batch: Batch): number;
}

function helper(x: number): number {
  return x + 1;
}

function notCalled(): number[] {
  return [1];
}

export class Reader {
  recv(batch: Batch): number {
    if (batch.count < 0) throw new Error(\`bad count \${batch.count}\`);
    try {
      this.read(batch);
    } catch (err) {
      this.log(\`read failed: \${String(err)}\`);
    }
    return helper(this.size);
  }

  get size(): number {
    return this.other.length;
  }

  private read(batch: Batch): void {
    for (const b of [batch]) b.count = 0;
  }

  close(): void {
    const all = [...this.items.values()];
  }
}
`;

test('methods are found with their bodies; declarations without one are not', () => {
  assert.deepEqual(
    bodies(SAMPLE).map((b) => b.name),
    ['helper', 'notCalled', 'recv', 'size', 'read', 'close'],
  );
});

test('entry points reach what they call in the file, and nothing else', () => {
  assert.deepEqual([...reachable(SAMPLE, ['recv'])].sort(), ['helper', 'read', 'recv', 'size']);
});

test('throw statements and catch blocks are error paths, the rest is scanned', () => {
  const recv = bodies(SAMPLE).find((b) => b.name === 'recv')!.body;
  assert.doesNotMatch(stripErrorPaths(recv), /throw|failed/);
  assert.match(stripErrorPaths(recv), /return helper/);
  assert.deepEqual(bodyViolations(recv), []);
  assert.deepEqual(bodyViolations('for (const b of [x, y]) f(b);').map((v) => v.split(':')[0]), ['array literal']);
  assert.deepEqual(bodyViolations('for (const p of this.peers.values()) f(p);').map((v) => v.split(':')[0]), ['allocating method']);
});

test('scanFolder reports allocations, stale names and unclassified files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-scan-'));
  try {
    writeFileSync(join(dir, 'reader.ts'), SAMPLE);
    writeFileSync(join(dir, 'other.ts'), 'export function f(): void {\n  g();\n}\n');
    writeFileSync(join(dir, 'reader.test.ts'), 'export function t(): number[] {\n  return [];\n}\n');
    const hot = scanFolder({ folder: dir, files: [{ file: 'reader.ts', hot: ['recv'] }] });
    assert.deepEqual(hot.problems, ['reader.ts read: array literal: for (const b of [batch]) b.count = 0;']);
    assert.deepEqual(hot.scanned.sort(), ['other.ts f', 'reader.ts helper', 'reader.ts read', 'reader.ts recv', 'reader.ts size']);
    const exempted = scanFolder({ folder: dir, files: [{ file: 'reader.ts', hot: ['recv'], exempt: { read: 'test' } }] });
    assert.deepEqual(exempted.problems, []);
    const whole = scanFolder({ folder: dir, files: [{ file: 'reader.ts' }], notHot: { 'other.ts': 'test' } });
    assert.deepEqual(whole.problems.map((p) => p.split(':').slice(0, 2).join(':')), ['reader.ts notCalled: array literal', 'reader.ts read: array literal', 'reader.ts close: array literal', 'reader.ts close: spread', 'reader.ts close: allocating method']);
    const stale = scanFolder({ folder: dir, files: [{ file: 'reader.ts', hot: ['gone'] }, { file: 'missing.ts' }], classifyAll: true });
    assert.equal(stale.stale.length, 3, stale.stale.join('; '));
    assert.match(stale.stale.join('\n'), /reader\.ts: no function or method named gone/);
    assert.match(stale.stale.join('\n'), /missing\.ts does not exist/);
    assert.match(stale.stale.join('\n'), /other\.ts is neither hot nor named as not hot/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
