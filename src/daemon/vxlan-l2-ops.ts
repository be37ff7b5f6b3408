/**
 * The VXLAN operations of the control socket for an L2 VTEP (`ferry vxlan …` on a TAP):
 * show the VTEP and its peers, list the FDB as `bridge fdb show` lists a kernel VTEP's
 * (learned entries with their age, static ones, the all-zero flood entries), add and
 * remove a peer (a flood entry, and a static entry for its MAC when given).
 */
import type { ControlServer } from '../control/control-server.js';
import type { Datapath } from '../datapath/datapath.js';
import { BadValue } from '../config/values.js';
import { parseUnderlayAddress, parseVtepMac } from '../config/vxlan-values.js';
import { ErrorCode, FerryError } from '../errors.js';
import type { L2Peer } from '../vxlan/l2-peers.js';
import type { VxlanL2Plane } from '../vxlan/l2-plane.js';
import type { VxlanSettings } from '../vxlan/settings.js';
import { peerDrops, vtepView } from './vxlan-ops.js';

interface VxlanL2OpsSource {
  plane: VxlanL2Plane;
  datapath: Datapath;
  settings(): VxlanSettings;
  changed(what: string, peer: L2Peer): void;
}

function l2PeerView(p: L2Peer, plane: VxlanL2Plane): Record<string, unknown> {
  return { remote: p.remote, vtepMac: p.macText, subnets: [], ...peerDrops(plane.vteps, p.remote) };
}

export function registerVxlanL2Ops(control: ControlServer, src: VxlanL2OpsSource): void {
  const { plane, datapath } = src;
  control.handle('vxlan-show', () => {
    return {
      ...vtepView(plane, src.settings(), datapath),
      learning: plane.learning,
      addresses: [],
      fdb: { entries: plane.fdb.size, max: plane.fdb.maxEntries, flood: plane.fdb.floodCount },
      stats: { ...plane.stats, flooded: plane.flooded },
      drops: plane.drops.snapshot(),
      peers: plane.peers.list().map((p) => l2PeerView(p, plane)),
    };
  });
  control.handle('vxlan-fdb', () =>
    plane.fdb.list(datapath.now).map((e) => ({ mac: e.mac, dst: e.address, port: e.port, vni: plane.vni, state: e.static ? 'permanent' : 'learned', ageMs: Math.round(e.ageMs) })),
  );
  control.handle('vxlan-add-peer', (request) => {
    const text = request.remote;
    if (typeof text !== 'string' || text === '') throw new BadValue('remote is missing: expected a string');
    const remote = parseUnderlayAddress('Remote', text);
    const local = src.settings().local;
    if (local !== null && !local.includes(':') !== (remote.family === 4)) throw new BadValue(`Remote ${remote.address} is IPv${remote.family} but Local ${local} is not: expected one underlay family`);
    if (typeof request.subnets === 'string' && request.subnets !== '') throw new BadValue('subnets apply to Mode = l3 only: an L2 VTEP carries frames, not routes');
    const mac = typeof request.vtepMac === 'string' && request.vtepMac !== '' ? parseVtepMac(request.vtepMac) : null;
    const peer = plane.addPeer({ remote: remote.address, mac });
    src.changed('peer added', peer);
    return l2PeerView(peer, plane);
  });
  control.handle('vxlan-del-peer', (request) => {
    const which = typeof request.peer === 'string' ? request.peer : '';
    const peer = plane.peers.list().find((p) => p.macText === which.toLowerCase() || p.remote === which);
    if (peer === undefined) throw new BadValue(`no peer has VTEP MAC or remote ${which}`);
    plane.removePeer(peer);
    src.changed('peer removed', peer);
    return l2PeerView(peer, plane);
  });
}

/** After [FerryVxlan] went away at a reload: every VXLAN operation says so. */
export function registerNoVxlanOps(control: ControlServer, ifname: string): void {
  const none = () => {
    throw new FerryError(ErrorCode.InvalidArgument, `${ifname} has no VXLAN VTEP (no [FerryVxlan] in its config)`);
  };
  for (const op of ['vxlan-show', 'vxlan-fdb', 'vxlan-add-peer', 'vxlan-del-peer']) control.handle(op, none);
}
