import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ferrydCommand } from './ferryd-command.js';

test('FERRYD overrides the daemon command (words split at spaces)', () => {
  assert.deepEqual(ferrydCommand('wg0', { FERRYD: 'node --import tsx /src/cli/ferryd.ts' }), {
    argv: ['node', '--import', 'tsx', '/src/cli/ferryd.ts', 'wg0'],
    display: 'node --import tsx /src/cli/ferryd.ts wg0',
  });
  assert.deepEqual(ferrydCommand('wg0', { FERRYD: '/usr/local/bin/ferryd' }).argv, ['/usr/local/bin/ferryd', 'wg0']);
});

test('default: ferryd.js next to the CLI, else ferryd.ts through tsx', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ferryd.ts'), '');
  const ts = ferrydCommand('wg0', {}, dir);
  assert.equal(ts.display, 'ferryd wg0');
  assert.deepEqual([ts.argv[0], ts.argv[1], ts.argv.at(-2), ts.argv.at(-1)], [process.execPath, '--import', join(dir, 'ferryd.ts'), 'wg0']);
  writeFileSync(join(dir, 'ferryd.js'), '');
  assert.deepEqual(ferrydCommand('wg0', {}, dir).argv, [process.execPath, join(dir, 'ferryd.js'), 'wg0']);
});
