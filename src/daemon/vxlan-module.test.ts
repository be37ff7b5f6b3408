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
import { type HostedPlane, planeModules } from './plane-module.js';
import './modules.js';

const PEER_B = '[FerryVxlanPeer]\nRemote = 192.0.2.2\nVtepMAC = 02:00:00:00:00:02\nSubnets = 10.244.2.0/24\n';
const PEER_C = '[FerryVxlanPeer]\nRemote = 192.0.2.3\nVtepMAC = 02:00:00:00:00:03\nSubnets = 10.244.3.0/24\n';

function file(head: string, ...peers: string[]): ReturnType<typeof parseConfig> {
  const mac = head.includes('VtepMAC') ? '' : 'VtepMAC = 02:00:00:00:00:01\n';
  return parseConfig(`[Interface]\nAddress = 10.244.1.0/32\n\n[FerryVxlan]\nLocal = 192.0.2.1\n${mac}${head}\n${peers.join('\n')}`, { file: 'flannel1.conf' });
}

function setup(): { dp: Datapath; hosted: HostedPlane; plane: () => VxlanPlane; opened: Endpoint[]; pool: BufferPool } {
  const pool = new BufferPool({ slotCount: 256 });
  const net = new FakeNetwork();
  const dp = new Datapath({ pool, tun: new FakeTun('flannel1', pool, 8), tickIntervalMs: 0 });
  const opened: Endpoint[] = [];
  const module = planeModules().find((m) => m.name === 'vxlan')!;
  const hosted = module.mount(file(''), {
    ifname: 'flannel1',
    pool,
    datapath: dp,
    control: new ControlServer('/nonexistent/ferry-test.sock'),
    logger: createLogger('test', 'silent'),
    openUdp: (o) => {
      const local: Endpoint = { family: o.family, address: o.address ?? '0.0.0.0', port: o.port ?? 0 };
      opened.push(local);
      return new FakeUdp(net, local, pool, 4);
    },
  })!;
  return { dp, hosted, plane: () => dp.plane('vxlan') as VxlanPlane, opened, pool };
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
  assert.throws(() => hosted.reload(parseConfig('[Interface]\nAddress = 10.244.1.0/32\n', { file: 'flannel1.conf' })), (e: unknown) => isConfigError(e) && /removing \[FerryVxlan\].*needs a restart/.test((e as Error).message));
  assert.throws(() => hosted.reload(file('Mode = l2', PEER_B.replace(/Subnets.*\n/, ''))), /Mode changed from l3 to l2/);
  dp.routes.claim(parsePrefix('10.244.3.0/24'), { name: 'wireguard' } as VxlanPlane, 'a peer');
  assert.throws(() => hosted.reload(file('VNI = 9', PEER_C)), (e: Error & { code?: string }) => e.code === ErrorCode.RouteConflict);
  assert.deepEqual(plane().peers.list(), before, 'B is still there, C not added');
  assert.equal(plane().vni, 1, 'the VNI did not change either');
  dp.close();
});
