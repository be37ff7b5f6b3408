/**
 * The VXLAN plane module on fakes: mounted from a parsed config file, then reloaded. What
 * did not change stays (the same peer objects, their counters), what changed is applied,
 * and a file the module refuses leaves everything as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../buffer/pool.js';
import { isConfigError } from '../config/issues.js';
import { parseConfig } from '../config/parse.js';
import { ControlServer } from '../control/control-server.js';
import { Datapath } from '../datapath/datapath.js';
import { ErrorCode } from '../errors.js';
import type { Endpoint } from '../io/endpoint.js';
import { macToString } from '../packet/format.js';
import { parsePrefix } from '../table/prefix-trie.js';
import type { VxlanPlane } from '../vxlan/l3-plane.js';
import { FakeTun } from '../../test/fakes/fake-tun.js';
import { FakeNetwork, FakeUdp } from '../../test/fakes/fake-udp.js';
import { createLogger } from './logger.js';
import { type HostedPlane, type PlaneHost, type PlaneModule, planeModules } from './plane-module.js';
import type { VxlanL2Plane } from '../vxlan/l2-plane.js';
import './modules.js';
import { PRIV } from '../../test/support/test-keys.js';

const PEER_B = '[FerryVxlanPeer]\nRemote = 192.0.2.2\nVtepMAC = 02:00:00:00:00:02\nSubnets = 10.244.2.0/24\n';
const PEER_C = '[FerryVxlanPeer]\nRemote = 192.0.2.3\nVtepMAC = 02:00:00:00:00:03\nSubnets = 10.244.3.0/24\n';

function file(head: string, ...peers: string[]): ReturnType<typeof parseConfig> {
  const mac = head.includes('VtepMAC') ? '' : 'VtepMAC = 02:00:00:00:00:01\n';
  return parseConfig(`[Interface]\nAddress = 10.244.1.0/32\n\n[FerryVxlan]\nLocal = 192.0.2.1\n${mac}${head}\n${peers.join('\n')}`, { file: 'flannel1.conf' });
}

function hostOn(dp: Datapath, pool: BufferPool, opened: Endpoint[], control = new ControlServer('/nonexistent/ferry-test.sock')): PlaneHost {
  const net = new FakeNetwork();
  return {
    ifname: 'flannel1',
    pool,
    datapath: dp,
    control,
    logger: createLogger('test', 'silent'),
    openUdp: (o) => {
      const local: Endpoint = { family: o.family, address: o.address ?? '0.0.0.0', port: o.port ?? 0 };
      opened.push(local);
      return new FakeUdp(net, local, pool, 4);
    },
  };
}

function setup(): { dp: Datapath; hosted: HostedPlane; plane: () => VxlanPlane; opened: Endpoint[]; pool: BufferPool; host: PlaneHost } {
  const pool = new BufferPool({ slotCount: 256 });
  const dp = new Datapath({ pool, tun: new FakeTun('flannel1', pool, 8), tickIntervalMs: 0 });
  const opened: Endpoint[] = [];
  const host = hostOn(dp, pool, opened);
  const hosted = vxlanModule().mount(file(''), host)!;
  return { dp, hosted, plane: () => dp.plane('vxlan') as VxlanPlane, opened, pool, host };
}

function vxlanModule(): PlaneModule {
  return planeModules().find((m) => m.name === 'vxlan')!;
}

test('no [FerryVxlan], no plane; with it, a VTEP on Local:Port with the file\'s peers routed', () => {
  const none = planeModules().find((m) => m.name === 'vxlan')!.mount(parseConfig('[Interface]\nAddress = 10.0.0.1/24\n'), {} as never);
  assert.equal(none, null);
  const { dp, hosted, opened, plane } = setup();
  assert.deepEqual(opened, [{ family: 4, address: '192.0.2.1', port: 8472 }]);
  assert.equal(plane().peers.size, 0);
  hosted.reload(file('', PEER_B));
  assert.equal(plane().peers.size, 1);
  assert.equal(dp.routes.lookupV4(Uint8Array.of(10, 244, 2, 9), 0)?.ref, plane().peers.list()[0]);
  assert.deepEqual(hosted.status(), { vni: 1, port: 8472, vtepMac: '02:00:00:00:00:01', peers: 1, rxPackets: 0, txPackets: 0 });
  dp.close();
});

test('a reload keeps unchanged peers, swaps changed ones, and applies Port, VNI and VtepMAC', () => {
  const { dp, hosted, opened, plane } = setup();
  hosted.reload(file('', PEER_B, PEER_C));
  const [b, c] = plane().peers.list();
  b.txPackets = 7;
  // B unchanged, C's subnet changes, D is new; the port moves to 4789, VNI and MAC change.
  const d = '[FerryVxlanPeer]\nRemote = 192.0.2.4\nVtepMAC = 02:00:00:00:00:04\nSubnets = 10.244.4.0/24\n';
  hosted.reload(file('Port = 4789\nVNI = 42\nVtepMAC = 02:00:00:00:00:0a', PEER_B, PEER_C.replace('10.244.3.0/24', '10.244.30.0/24'), d));
  const after = plane().peers.list();
  assert.equal(after.length, 3);
  assert.ok(after.includes(b) && b.txPackets === 7, 'B is the same peer, counters kept');
  assert.ok(!after.includes(c), 'C was replaced');
  assert.equal(dp.routes.lookupV4(Uint8Array.of(10, 244, 3, 1), 0), undefined, 'C\'s old subnet is gone');
  assert.ok(dp.routes.lookupV4(Uint8Array.of(10, 244, 30, 1), 0) !== undefined);
  assert.deepEqual(opened.at(-1), { family: 4, address: '192.0.2.1', port: 4789 });
  assert.equal(dp.portOf(plane())?.localPort, 4789);
  assert.deepEqual([plane().vni, plane().port, macToString(plane().mac, 0)], [42, 4789, '02:00:00:00:00:0a']);
  assert.deepEqual([...b.endpoint.subarray(2, 4)], [4789 >> 8, 4789 & 0xff], 'peers are addressed at the new port');
  dp.close();
});

test('a reload the module refuses changes nothing', () => {
  const { dp, hosted, plane } = setup();
  hosted.reload(file('', PEER_B));
  const before = plane().peers.list();
  assert.throws(() => hosted.reload(file('Mode = l2', PEER_B.replace(/Subnets.*\n/, ''))), (e: unknown) => isConfigError(e) && /Mode changed from l3 to l2: that needs a new device/.test((e as Error).message));
  dp.routes.claim(parsePrefix('10.244.3.0/24'), { name: 'wireguard' } as VxlanPlane, 'a peer');
  assert.throws(() => hosted.reload(file('VNI = 9', PEER_C)), (e: Error & { code?: string }) => e.code === ErrorCode.RouteConflict);
  assert.deepEqual(plane().peers.list(), before, 'B is still there, C not added');
  assert.equal(plane().vni, 1, 'the VNI did not change either');
  dp.close();
});

test('removing [FerryVxlan] takes the plane off the datapath (routes, port); the module mounts again later', () => {
  const { dp, hosted, host, pool } = setup();
  hosted.reload(file('', PEER_B));
  assert.ok(dp.routes.size > 0);
  assert.equal(hosted.reload(parseConfig('[Interface]\nAddress = 10.244.1.0/32\n', { file: 'flannel1.conf' })), 'removed');
  assert.equal(dp.plane('vxlan'), undefined);
  assert.equal(dp.routes.size, 0, 'its peers\' routes went with it');
  const again = vxlanModule().mount(file('', PEER_B), host)!;
  assert.equal((dp.plane('vxlan') as VxlanPlane).peers.size, 1, 'the same Local:Port binds again: the old socket was closed');
  assert.ok(again !== null);
  dp.close();
  pool.assertNoLeaks();
});

test('Mode = l2: needs a TAP (device() says so), mounts an L2 VTEP with flood and static entries, reloads peers, Learning and Port', () => {
  const l2File = (head: string, ...peers: string[]) => parseConfig(`[FerryVxlan]\nMode = l2\nLocal = 192.0.2.1\nVtepMAC = 02:00:00:00:00:01\n${head}\n${peers.join('\n')}`, { file: 'l2.conf' });
  const peerB = '[FerryVxlanPeer]\nRemote = 192.0.2.2\n';
  const peerC = '[FerryVxlanPeer]\nRemote = 192.0.2.3\nVtepMAC = 0a:00:00:00:00:03\n';
  assert.equal(vxlanModule().device?.(l2File('')), 'tap');
  assert.equal(vxlanModule().device?.(file('')), null);
  const pool = new BufferPool({ slotCount: 256 });
  const opened: Endpoint[] = [];
  const tun = new Datapath({ pool, tun: new FakeTun('flannel1', pool, 8), tickIntervalMs: 0 });
  assert.throws(() => vxlanModule().mount(l2File(''), hostOn(tun, pool, opened)), /needs the interface to be a TAP/);
  tun.close();
  const dp = new Datapath({ pool, tun: new FakeTun('l2', pool, 8), tickIntervalMs: 0, device: 'tap' });
  assert.throws(() => vxlanModule().mount(file(''), hostOn(dp, pool, opened)), /Mode = l3 needs the interface to be a TUN/);
  assert.throws(() => vxlanModule().mount(parseConfig(`[Interface]\nPrivateKey = ${PRIV}\n[FerryVxlan]\nMode = l2\n`, { file: 'l2.conf' }), hostOn(dp, pool, opened)), /l2.conf:3: Mode = l2 makes the interface a TAP/);
  const hosted = vxlanModule().mount(l2File('Learning = true', peerB, peerC), hostOn(dp, pool, opened))!;
  const plane = dp.plane('vxlan') as VxlanL2Plane;
  assert.equal(dp.l2?.plane, plane);
  assert.deepEqual(plane.fdb.list(0).map((e) => [e.mac, e.address, e.static]), [['0a:00:00:00:00:03', '192.0.2.3', true], ['00:00:00:00:00:00', '192.0.2.2', true], ['00:00:00:00:00:00', '192.0.2.3', true]]);
  assert.equal(plane.learning, true);
  const b = plane.peers.list()[0];
  hosted.reload(l2File('Port = 4789', peerB));
  assert.deepEqual(plane.peers.list(), [b], 'B stays, C went');
  assert.equal(plane.learning, false);
  assert.deepEqual(plane.fdb.list(0).map((e) => [e.mac, e.address, e.port]), [['00:00:00:00:00:00', '192.0.2.2', 4789]]);
  assert.deepEqual(opened.at(-1), { family: 4, address: '192.0.2.1', port: 4789 });
  assert.throws(() => hosted.reload(file('', PEER_B)), /Mode changed from l2 to l3/);
  assert.equal(hosted.reload(parseConfig('[Interface]\n', { file: 'l2.conf' })), 'removed');
  assert.equal(dp.l2?.plane, null);
  dp.close();
  pool.assertNoLeaks();
});
