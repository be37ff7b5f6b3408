/**
 * An L2 VTEP (Mode = l2) in the interface daemon: the interface is a TAP, the plane gets
 * every frame, its peers are flood entries (and static entries for their MACs). A reload
 * checks everything first, then changes only what changed: peers, VNI, VtepMAC, Learning
 * in place, a new Port or Local with a new socket; a file without [FerryVxlan] takes the
 * plane off the datapath (the TAP stays, carrying nothing). Changing Mode needs a new
 * device (ferry down, ferry up).
 */
import { ConfigError } from '../config/issues.js';
import type { WgQuickConfig } from '../config/model.js';
import { vxlanSettings } from '../config/vxlan-settings.js';
import { macToString } from '../packet/format.js';
import { mountL2Plane, openVxlanUnderlay } from '../vxlan/build.js';
import type { L2Peer } from '../vxlan/l2-peers.js';
import type { VxlanPeerSettings, VxlanSettings } from '../vxlan/settings.js';
import type { HostedPlane, PlaneHost } from './plane-module.js';
import { registerNoVxlanOps, registerVxlanL2Ops } from './vxlan-l2-ops.js';
import { writeVxlanMetrics } from './vxlan-metrics.js';
import { vtepDrops } from './vxlan-ops.js';

function refuse(config: WgQuickConfig, line: number, message: string): never {
  throw new ConfigError([{ file: config.source.file, line, message }]);
}

/** An L2 interface cannot run WireGuard: it carries frames, WireGuard IP packets. */
function refuseL2WithWireGuard(config: WgQuickConfig, settings: VxlanSettings): void {
  if (config.interface.privateKey !== null) {
    refuse(config, settings.line, 'Mode = l2 makes the interface a TAP (Ethernet frames) and WireGuard (PrivateKey) carries IP packets: expected no PrivateKey, or WireGuard on an interface of its own');
  }
}

const peerKey = (remote: string, mac: Uint8Array | null) => `${remote}|${mac === null ? '' : macToString(mac, 0)}`;

export function hostL2Plane(config: WgQuickConfig, first: VxlanSettings, host: PlaneHost, name: string): HostedPlane {
  refuseL2WithWireGuard(config, first);
  if (host.datapath.l2 === null) refuse(config, first.line, 'Mode = l2 needs the interface to be a TAP, and it was made a TUN: that needs a restart (ferry down, ferry up)');
  let settings = first;
  const log = host.logger.child({ ifname: host.ifname, plane: name });
  const open = (s: VxlanSettings) => openVxlanUnderlay(host.pool, s, (o) => host.openUdp(o));
  const port = open(settings);
  let vtep;
  try {
    vtep = mountL2Plane(host.datapath, port, settings, name);
  } catch (err) {
    port.close();
    throw err;
  }
  const plane = vtep;
  registerVxlanL2Ops(host.control, {
    plane,
    datapath: host.datapath,
    settings: () => settings,
    changed: (what, peer) => log.info({ remote: peer.remote, vtepMac: peer.macText }, `control: ${what}`),
  });
  log.info({ mode: 'l2', vni: plane.vni, port: settings.port, local: settings.local, vtepMac: macToString(plane.mac, 0), learning: plane.learning, peers: plane.peers.size }, 'VXLAN VTEP up');

  return {
    name,
    status: () => ({ mode: 'l2', vni: plane.vni, port: plane.port, vtepMac: macToString(plane.mac, 0), peers: plane.peers.size, fdbEntries: plane.fdb.size, rxPackets: plane.stats.rxPackets, txPackets: plane.stats.txPackets }),
    drops: () => vtepDrops(plane.vteps),
    metrics: (m, labels) => writeVxlanMetrics(m, labels, plane),
    ready: () => (host.datapath.portOf(plane) === null ? { ready: false, reason: 'no VXLAN underlay socket' } : { ready: true }),
    reload(next: WgQuickConfig): void | 'removed' {
      const want = vxlanSettings(next, { ifname: host.ifname });
      if (want === null) {
        host.datapath.removePlane(plane);
        registerNoVxlanOps(host.control, host.ifname);
        log.info('reload: [FerryVxlan] removed, the VTEP is off the datapath');
        return 'removed';
      }
      if (want.mode !== 'l2') refuse(next, want.line, `Mode changed from l2 to ${want.mode}: that needs a new device (ferry down, ferry up)`);
      refuseL2WithWireGuard(next, want);
      // Check everything first: the peers that stay, go and come…
      const current = new Map(plane.peers.list().map((p) => [peerKey(p.remote, p.mac), p] as const));
      const wanted = new Map(want.peers.map((p) => [peerKey(p.remote, p.vtepMac), p] as const));
      const remove: L2Peer[] = [...current].filter(([k]) => !wanted.has(k)).map(([, p]) => p);
      const add: VxlanPeerSettings[] = [...wanted].filter(([k]) => !current.has(k)).map(([, p]) => p);
      // …and the new socket, when Port or Local changed (opening it may fail: nothing changed yet).
      const newPort = want.port !== settings.port || want.local !== settings.local ? open(want) : null;
      for (const p of remove) plane.removePeer(p);
      // Static entries come before learned ones: make room by forgetting what was learned.
      const statics = add.filter((p) => p.vtepMac !== null).length;
      if (plane.fdb.size + statics > plane.fdb.maxEntries) plane.fdb.flushLearned();
      if (newPort !== null) {
        host.datapath.setPort(plane, newPort);
        plane.setOverlayPort(want.port);
      }
      plane.setIdentity(want.vni, want.vtepMac);
      plane.setLearning(want.learning);
      for (const p of add) plane.addPeer({ remote: p.remote, mac: p.vtepMac });
      settings = want;
      log.info({ added: add.length, removed: remove.length, unchanged: current.size - remove.length, port: newPort !== null ? want.port : undefined }, 'reload: VXLAN applied');
    },
    close: () => {},
  };
}
