/**
 * The datapath tells its ports what they must read whole, so they pick the slot class:
 * the TUN the interface MTU, each plane's port the MTU plus that plane's overhead; at
 * construction, on every MTU change and for a port given later.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { initCrypto } from '../wireguard/crypto.js';
import { FakeUdp } from '../../test/fakes/fake-udp.js';
import { closeAndCheck, makePair } from '../../test/support/wg-device-harness.js';
import { TestPlane } from '../../test/support/test-plane.js';
import { DEFAULT_PLANE_OVERHEAD } from './plane.js';

await initCrypto();

/** Makes a fake port record what fitReads is told. */
function recording<T extends object>(port: T): { port: T; told: number[] } {
  const told: number[] = [];
  Object.assign(port, { fitReads: (n: number) => told.push(n) });
  return { port, told };
}

test('MTU changes reach the TUN as the MTU and each plane port as MTU plus the plane overhead', (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  const { a, net } = p;
  const tun = recording(a.tun);
  const wg = recording(a.udp);
  const plane = new TestPlane('test', { family: 4, address: '192.0.2.77', port: 7777 });
  const first = recording(new FakeUdp(net, { family: 4, address: '192.0.2.1', port: 6601 }, a.pool, 8));
  a.dp.addPlane(plane, first.port);
  assert.deepEqual(first.told, [1420 + DEFAULT_PLANE_OVERHEAD], 'a port learns the current MTU when it is given');

  a.dp.mtu = 34736;
  assert.deepEqual(tun.told, [34736]);
  assert.deepEqual(wg.told, [34736 + 32], 'WireGuard adds a transport header and a tag');
  assert.equal(a.dev.overhead, 32);
  assert.deepEqual(first.told, [1420 + DEFAULT_PLANE_OVERHEAD, 34736 + DEFAULT_PLANE_OVERHEAD]);

  const second = recording(new FakeUdp(net, { family: 4, address: '192.0.2.1', port: 6602 }, a.pool, 8));
  a.dp.setPort(plane, second.port);
  assert.deepEqual(second.told, [34736 + DEFAULT_PLANE_OVERHEAD]);
  a.dp.mtu = 1420;
  assert.deepEqual(tun.told, [34736, 1420]);
  assert.deepEqual(wg.told, [34736 + 32, 1420 + 32]);
});
