import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointHost, routeMtu, tunnelMtu, vxlanTunnelMtu } from './mtu.js';

test('endpointHost takes what wg-quick\'s regex takes: IPv4, bracketed IPv6; not scoped IPv6', () => {
  assert.equal(endpointHost('192.0.2.1:51820'), '192.0.2.1');
  assert.equal(endpointHost('[fd00::1]:51820'), 'fd00::1');
  assert.equal(endpointHost('[fe80::1%3]:51820'), null);
  assert.equal(endpointHost('(none)'), null);
  assert.equal(endpointHost('192.0.2.1'), null);
});

const links: Record<string, string> = {
  eth0: '2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT\n',
  wan: '3: wan: <BROADCAST,UP> mtu 1492 qdisc noqueue state UP\n',
  lo: '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\n',
};
const linkShow = async (dev: string) => links[dev] ?? '';

test('routeMtu: an mtu on the route wins, else the MTU of its dev, else nothing', async () => {
  assert.equal(await routeMtu('192.0.2.1 via 10.0.0.1 dev eth0 src 10.0.0.2 uid 0 \n    cache expires 300sec mtu 1400 \n', linkShow), 1400);
  assert.equal(await routeMtu('192.0.2.1 via 10.0.0.1 dev wan src 10.0.0.2 uid 0 \n    cache \n', linkShow), 1492);
  assert.equal(await routeMtu('local 127.0.0.1 dev lo table local src 127.0.0.1 uid 0 \n', linkShow), 65536);
  assert.equal(await routeMtu('', linkShow), null);
  assert.equal(await routeMtu('192.0.2.1 dev nosuch', linkShow), null);
});

test('tunnelMtu: smallest endpoint MTU minus 80', async () => {
  let asked = false;
  const dflt = async () => {
    asked = true;
    return 9000;
  };
  assert.equal(await tunnelMtu([1500, 1492, null], dflt), 1412);
  assert.equal(asked, false, 'the default route is consulted only without an endpoint MTU');
});

test('tunnelMtu: the default route when no endpoint gives one, else 1500 - 80 = 1420', async () => {
  assert.equal(await tunnelMtu([], async () => 9000), 8920);
  assert.equal(await tunnelMtu([null], async () => 1500), 1420);
  assert.equal(await tunnelMtu([], async () => null), 1420);
  assert.equal(await tunnelMtu([0], async () => null), 1420);
});

test('vxlanTunnelMtu: the smallest path MTU minus 50 (IPv4) or 70 (IPv6); else the default route, else 1500, minus the fallback', async () => {
  const never = async () => {
    throw new Error('the default route is not consulted when a peer gives a path');
  };
  assert.equal(await vxlanTunnelMtu([{ mtu: 1500, overhead: 50 }], 50, never), 1450);
  assert.equal(await vxlanTunnelMtu([{ mtu: 1500, overhead: 50 }, { mtu: 1500, overhead: 70 }, { mtu: null, overhead: 50 }], 50, never), 1430);
  assert.equal(await vxlanTunnelMtu([{ mtu: 9000, overhead: 50 }, { mtu: 1400, overhead: 50 }], 50, never), 1350);
  assert.equal(await vxlanTunnelMtu([], 70, async () => 9000), 8930);
  assert.equal(await vxlanTunnelMtu([{ mtu: null, overhead: 50 }], 50, async () => null), 1450);
});
