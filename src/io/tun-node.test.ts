import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../../test/support/netns.js';
import { ensureTunNode, TUN_MAJOR, TUN_MINOR } from './tun-node.js';

test('ensureTunNode makes the 10:200 character device (and its directory) when missing, keeps one that exists', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-tun-node-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  if (!isRoot()) {
    // Without CAP_MKNOD the kernel refuses, and the error says so.
    assert.throws(() => ensureTunNode(join(dir, 'net/tun')), { code: 'EPERM', syscall: 'mknod' });
    return;
  }
  const path = join(dir, 'net/tun');
  const saved = process.umask(0o077);
  try {
    assert.equal(ensureTunNode(path), 'created');
  } finally {
    process.umask(saved);
  }
  const s = statSync(path);
  assert.ok(s.isCharacterDevice());
  assert.equal(s.rdev, (TUN_MAJOR << 8) | TUN_MINOR, 'makedev(10, 200)');
  assert.equal(s.mode & 0o7777, 0o666, 'the mode is set whatever the umask');
  assert.equal(ensureTunNode(path), 'present');
  writeFileSync(join(dir, 'file'), '');
  assert.throws(() => ensureTunNode(join(dir, 'file')), /exists but is not a character device/);
});
