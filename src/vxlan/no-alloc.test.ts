/**
 * The VTEP's per-packet code allocates nothing (the same source scan as the codecs' and
 * WireGuard's): every function and method of the hot-path files, the named control-path
 * methods aside, is free of constructs that create objects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bodies, violations } from '../../test/support/no-alloc-scan.js';

const here = dirname(fileURLToPath(import.meta.url));

/** File -> methods that run on the control path only. */
const HOT_FILES: Record<string, string[]> = {
  'l3-plane.ts': ['addPeer', 'removePeer', 'attach', 'close', 'setIdentity', 'setOverlayPort'],
  'l2-plane.ts': ['addPeer', 'removePeer', 'attach', 'close', 'setIdentity', 'setOverlayPort', 'setLearning', 'checkIdentity', 'checkPort'],
  'neighbor-responder.ts': [],
  'local-addresses.ts': ['set', 'prefixes'],
  'mac-table.ts': ['clear', 'heldValues'],
  'vtep-peers.ts': ['list', 'add', 'remove', 'clear', 'subnetKey'],
  'fdb.ts': ['addStatic', 'remove', 'appendFlood', 'removeFlood', 'list', 'setPort', 'flushLearned'],
  // countersOf makes a VTEP row's counters once, on the row's first drop ever (bounded by the table).
  'vtep-addresses.ts': ['countersOf', 'remoteOf', 'dropsOf', 'withDrops'],
  'received-drop.ts': [],
};

test('hot-path functions and methods of the VTEP allocate nothing', () => {
  const found: string[] = [];
  let scanned = 0;
  for (const [file, control] of Object.entries(HOT_FILES)) {
    scanned += bodies(readFileSync(join(here, file), 'utf8')).filter((b) => !control.includes(b.name)).length;
    for (const v of violations(readFileSync(join(here, file), 'utf8'), control)) found.push(`${file}: ${v}`);
  }
  assert.deepEqual(found, []);
  assert.ok(scanned >= 20, `scanned ${scanned} functions`);
});
