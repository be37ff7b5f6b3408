/**
 * The VXLAN operations of the ferry control socket (`ferry vxlan …`): show the VTEP and
 * its peers, add and remove a peer at run time, list the forwarding entries as `bridge fdb
 * show` prints a kernel VTEP's. Arguments are checked with the config file's own value
 * parsers, so a bad address or MAC reads the same here as in a file.
 */
import type { ControlServer } from '../control/control-server.js';
import type { Datapath } from '../datapath/datapath.js';
import type { Plane } from '../datapath/plane.js';
import { formatPrefix } from '../table/prefix-trie.js';
import { BadValue } from '../config/values.js';
import { parseSubnets, parseUnderlayAddress, parseVtepMac } from '../config/vxlan-values.js';
import { macToString } from '../packet/format.js';
import type { VxlanPlane } from '../vxlan/l3-plane.js';
import type { DropCounters } from '../stats/drop-reasons.js';
import type { VtepAddresses, VtepDrops } from '../vxlan/vtep-addresses.js';
import type { VtepPeer } from '../vxlan/vtep-peer.js';
import type { VxlanSettings } from '../vxlan/settings.js';

interface VxlanOpsSource {
  plane: VxlanPlane;
  datapath: Datapath;
  /** The settings in force (Local, mode) — replaced by reloads. */
  settings(): VxlanSettings;
  /** Logs a change made through the control socket. */
  changed(what: string, peer: VtepPeer): void;
}

function text(request: Record<string, unknown>, key: string): string {
  const v = request[key];
  if (typeof v !== 'string' || v === '') throw new BadValue(`${key} is missing: expected a string`);
  return v;
}

/** `ferry drops`' "vteps" part: every remote VTEP that dropped something, by reason. */
export function vtepDrops(vteps: { withDrops(): VtepDrops[] }): Record<string, Record<string, Record<string, number>>> {
  return { vteps: Object.fromEntries(vteps.withDrops().map((v) => [v.remote, v.drops.snapshot()])) };
}

/** A peer's drops in `ferry vxlan show`: the total, and by reason. */
export function peerDrops(vteps: { dropsOf(address: string): DropCounters | null }, remote: string): { drops: number; dropReasons: Record<string, number> } {
  const d = vteps.dropsOf(remote);
  return { drops: d === null ? 0 : d.total(), dropReasons: d === null ? {} : d.snapshot() };
}

function peerView(p: VtepPeer, vteps: VtepAddresses): Record<string, unknown> {
  return {
    remote: p.remote,
    vtepMac: p.macText,
    subnets: p.subnets.map(formatPrefix),
    rxPackets: p.rxPackets,
    rxBytes: p.rxBytes,
    txPackets: p.txPackets,
    txBytes: p.txBytes,
    txErrors: p.txErrors,
    ...peerDrops(vteps, p.remote),
  };
}

/** What `ferry vxlan show` prints of any VTEP, L3 or L2: identity, ports, MTU. */
export function vtepView(plane: Plane & { readonly vni: number; readonly port: number; readonly mac: Uint8Array }, s: VxlanSettings, datapath: Datapath): Record<string, unknown> {
  return {
    mode: s.mode,
    vni: plane.vni,
    port: plane.port,
    local: s.local,
    boundPort: datapath.portOf(plane)?.localPort ?? 0,
    vtepMac: macToString(plane.mac, 0),
    vtepMacDerived: s.vtepMacDerived,
    mtu: datapath.mtu,
  };
}

export function registerVxlanOps(control: ControlServer, src: VxlanOpsSource): void {
  const { plane, datapath } = src;
  control.handle('vxlan-show', () => {
    return {
      ...vtepView(plane, src.settings(), datapath),
      addresses: plane.locals.prefixes.map(formatPrefix),
      stats: { ...plane.stats, arpReplies: plane.neighbors.arpReplies, ndReplies: plane.neighbors.ndReplies },
      drops: plane.drops.snapshot(),
      peers: plane.peers.list().map((p) => peerView(p, plane.vteps)),
    };
  });
  control.handle('vxlan-add-peer', (request) => {
    const remote = parseUnderlayAddress('Remote', text(request, 'remote'));
    const local = src.settings().local;
    if (local !== null && !local.includes(':') !== (remote.family === 4)) throw new BadValue(`Remote ${remote.address} is IPv${remote.family} but Local ${local} is not: expected one underlay family`);
    const peer = plane.addPeer({ remote: remote.address, mac: parseVtepMac(text(request, 'vtepMac')), subnets: parseSubnets(text(request, 'subnets')) });
    src.changed('peer added', peer);
    return peerView(peer, plane.vteps);
  });
  control.handle('vxlan-del-peer', (request) => {
    const which = text(request, 'peer');
    const peer = plane.peers.list().find((p) => p.macText === which.toLowerCase() || p.remote === which);
    if (peer === undefined) throw new BadValue(`no peer has VTEP MAC or remote ${which}`);
    plane.removePeer(peer);
    src.changed('peer removed', peer);
    return peerView(peer, plane.vteps);
  });
  control.handle('vxlan-fdb', () =>
    plane.peers.list().map((p) => ({ mac: p.macText, dst: p.remote, port: plane.port, vni: plane.vni, state: 'permanent' })),
  );
}
