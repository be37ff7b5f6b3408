import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from './ferryd-args.js';

test('ferryd arguments: the wireguard-go form, --up, --sidecar and FERRY_SIDECAR', () => {
  assert.deepEqual(parseArgs(['wg0']), { mode: 'interface', foreground: false, ifname: 'wg0' });
  assert.deepEqual(parseArgs(['-f', 'wg0']), { mode: 'interface', foreground: true, ifname: 'wg0' });
  assert.deepEqual(parseArgs(['--up', 'wg0']), { mode: 'up', config: 'wg0' });
  assert.deepEqual(parseArgs(['--up=/etc/ferry/wg0.conf']), { mode: 'up', config: '/etc/ferry/wg0.conf' });
  assert.deepEqual(parseArgs(['--sidecar']), { mode: 'sidecar' });
  assert.deepEqual(parseArgs([], { FERRY_SIDECAR: '1' }), { mode: 'sidecar' });
  assert.deepEqual(parseArgs(['wg0'], { FERRY_SIDECAR: '1' }), { mode: 'interface', foreground: false, ifname: 'wg0' }, 'arguments win over the environment');
  assert.deepEqual(parseArgs(['--version']), { version: true });
  assert.deepEqual(parseArgs(['-h']), { help: true });
  assert.match((parseArgs(['--up']) as { error: string }).error, /--up needs/);
  assert.match((parseArgs(['--sidecar', 'wg0']) as { error: string }).error, /--sidecar takes no other arguments/);
  assert.match((parseArgs(['--up', 'a', 'b']) as { error: string }).error, /--up takes one/);
  assert.match((parseArgs([]) as { error: string }).error, /missing INTERFACE-NAME/);
  assert.match((parseArgs(['a/b']) as { error: string }).error, /invalid interface name/);
  assert.match((parseArgs(['--bogus', 'wg0']) as { error: string }).error, /unknown option --bogus/);
});
