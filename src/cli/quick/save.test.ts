import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { briefAddresses, writeFileAtomic } from './save.js';
import { formatPrefix } from '../../text/prefix.js';

test('briefAddresses reads `ip -all -brief address show dev IF` as wg-quick does, host part kept', () => {
  const out = 'wg0              UNKNOWN        10.0.0.1/24 fd00::1/64 fe80::c5d9:eb75:5484:56d2/64 \n';
  assert.deepEqual(briefAddresses('wg0', out).map(formatPrefix), ['10.0.0.1/24', 'fd00::1/64', 'fe80::c5d9:eb75:5484:56d2/64']);
  assert.deepEqual(briefAddresses('wg0', 'wg0              DOWN           \n'), []);
  assert.deepEqual(briefAddresses('wg1', out), [], 'another interface');
  assert.deepEqual(briefAddresses('a.b', 'axb              UNKNOWN        10.0.0.1/24\n'), [], 'the name is matched literally');
});

test('writeFileAtomic: replaces the file through path.tmp, mode 0600, nothing left behind', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-save-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'wg0.conf');
  writeFileSync(path, 'old\n', { mode: 0o644 });
  writeFileSync(`${path}.tmp`, 'stale', { mode: 0o666 });
  writeFileAtomic(path, 'new\n');
  assert.equal(readFileSync(path, 'utf8'), 'new\n');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(existsSync(`${path}.tmp`), false);
});

test('writeFileAtomic: a failure leaves the old file and no temporary file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-save-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.throws(() => writeFileAtomic(join(dir, 'missing-dir', 'wg0.conf'), 'x'));
  assert.equal(existsSync(join(dir, 'missing-dir')), false);
});
