import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { allowedIpsOf, newDevice, newPeer, type Device } from '../../uapi/model.js';
import { routeOrder, usesMainTable } from './routes.js';
import { requireTools } from '../../../test/support/netns.js';
import { parsePrefix } from '../../text/prefix.js';

function state(...peers: string[][]): Device {
  return { ...newDevice(), peers: peers.map((ips, i) => ({ ...newPeer(new Uint8Array(32).fill(i + 1)), allowedIps: allowedIpsOf(ips.map(parsePrefix)) })) };
}

const ALL = ['10.0.0.0/8', '0.0.0.0/0', '10.1.0.0/16', '::/0', 'fd00::/64', '10.2.0.0/16', '192.168.1.7/32', 'fd00::7/128', '2001:db8::/32'];

test('routeOrder: longest prefix first, ties in reverse byte order, as `sort -nr -k 2 -t /`', () => {
  const got = routeOrder(state(ALL.slice(0, 4), ALL.slice(4)));
  assert.deepEqual(got, ['fd00::7/128', 'fd00::/64', '2001:db8::/32', '192.168.1.7/32', '10.2.0.0/16', '10.1.0.0/16', '10.0.0.0/8', '::/0', '0.0.0.0/0']);
});

test('routeOrder agrees with sort(1) itself', (t) => {
  if (!requireTools(t, ['sort'])) return;
  const sorted = execFileSync('sort', ['-nr', '-k', '2', '-t', '/'], { input: `${ALL.join('\n')}\n`, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  assert.deepEqual(routeOrder(state(ALL)), sorted.trim().split('\n'));
});

test('usesMainTable: unset or auto', () => {
  assert.equal(usesMainTable(null), true);
  assert.equal(usesMainTable('auto'), true);
  assert.equal(usesMainTable('off'), false);
  assert.equal(usesMainTable('1234'), false);
  assert.equal(usesMainTable('vpn'), false);
});
