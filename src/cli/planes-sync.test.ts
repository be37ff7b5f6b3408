import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlServer } from '../control/control-server.js';
import { MemoryIo } from './wg/cli-io.js';
import type { ConfigReader } from './wg/conf.js';
import { newDevice } from '../uapi/model.js';
import { withFerrySections, withoutFerrySections } from './planes-sync.js';

const FILE = '[Interface]\nListenPort = 51820\n\n# the overlay\n[FerryVxlan]\nVNI = 1 # flannel\'s\n[ FerryVxlanPeer ]\nRemote = 192.0.2.2\n[Peer]\nPublicKey = x\n';

test('the wg part of a file: [Ferry…] sections blanked, line numbers kept; null without any', () => {
  assert.equal(withoutFerrySections(FILE), '[Interface]\nListenPort = 51820\n\n# the overlay\n\n\n\n\n[Peer]\nPublicKey = x\n');
  assert.equal(withoutFerrySections('[Interface]\nListenPort = 1\n[Peer]\n'), null);
});

test('syncconf\'s reader: wg\'s reader gets the wg part, the daemon the whole text; its refusal stops syncconf before UAPI', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-planes-sync-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = new ControlServer(join(dir, 'fy0.sock'));
  const requests: Array<Record<string, unknown>> = [];
  let answer = { ok: true, planes: ['vxlan'], errors: [] as string[] };
  server.handle('planes-sync', (r) => {
    requests.push(r);
    return answer;
  });
  await server.listen();
  t.after(() => server.close());
  const seen: string[] = [];
  const inner: ConfigReader = async (_io, text) => {
    seen.push(text);
    return text.includes('bad') ? null : newDevice();
  };
  const reader = withFerrySections(inner, 'fy0', (name) => join(dir, `${name}.sock`));
  const io = new MemoryIo();
  assert.ok((await reader(io, FILE, '/dev/fd/63', false)) !== null);
  assert.deepEqual(seen, [withoutFerrySections(FILE)]);
  assert.equal(requests.length, 1);
  assert.deepEqual([requests[0].text, requests[0].file], [FILE, '/dev/fd/63']);

  // wg's reader refuses the rest: the daemon is not asked.
  assert.equal(await reader(io, `${FILE}bad\n`, 'f', false), null);
  assert.equal(requests.length, 1);

  answer = { ok: false, planes: ['vxlan'], errors: ['f:6: VNI "x" is invalid'] };
  assert.equal(await reader(io, FILE, 'f', false), null);
  assert.match(io.stderr, /^f:6: VNI "x" is invalid\nUnable to sync the \[Ferry…\] sections of fy0: nothing was changed\n$/);

  // No ferry daemon for the interface: the whole file goes to wg's reader (which says "Line unrecognized").
  const other = withFerrySections(inner, 'wg9', (name) => join(dir, `${name}.sock`));
  seen.length = 0;
  await other(io, FILE, 'f', false);
  assert.deepEqual(seen, [FILE]);
});
