/**
 * VXLAN in the interface daemon: when the config file has [FerryVxlan], mount an L3 VTEP
 * on the datapath with its own underlay socket (Local:Port), route the peers' subnets to
 * it, and answer `ferry vxlan …` on the control socket; with Mode = l2 the interface is a
 * TAP and an L2 VTEP takes every frame (vxlan-l2-hosted.ts). A reload (SIGHUP, syncconf)
 * checks the whole file first, then changes only what changed: unchanged peers keep their
 * routes and counters, a new Port or Local gets a new socket, a new VNI or VtepMAC is
 * applied in place, a file without [FerryVxlan] takes the plane off the datapath
 * (Datapath.removePlane). Changing Mode needs another device (TUN or TAP): refused.
 */
import { ConfigError } from '../config/issues.js';
import type { WgQuickConfig } from '../config/model.js';
import { vxlanSettings } from '../config/vxlan-settings.js';
import { ErrorCode, FerryError } from '../errors.js';
import { formatPrefix } from '../table/prefix-trie.js';
import { macToString } from '../packet/format.js';
import { mountL3Plane, openVxlanUnderlay } from '../vxlan/build.js';
import { peerChanges } from '../vxlan/peer-diff.js';
import type { VxlanSettings } from '../vxlan/settings.js';
import { type HostedPlane, type PlaneHost, registerPlaneModule } from './plane-module.js';
import { registerVxlanOps, vtepDrops } from './vxlan-ops.js';
import { hostL2Plane } from './vxlan-l2-hosted.js';
import { registerNoVxlanOps } from './vxlan-l2-ops.js';
import { writeVxlanMetrics } from './vxlan-metrics.js';

const NAME = 'vxlan';

function refuse(config: WgQuickConfig, line: number, message: string): never {
  throw new ConfigError([{ file: config.source.file, line, message }]);
}

function mount(config: WgQuickConfig, host: PlaneHost): HostedPlane | null {
  let settings = vxlanSettings(config, { ifname: host.ifname });
  if (settings === null) return null;
  if (settings.mode === 'l2') return hostL2Plane(config, settings, host, NAME);
  if (host.datapath.l2 !== null) refuse(config, settings.line, 'Mode = l3 needs the interface to be a TUN, and it was made a TAP: that needs a restart (ferry down, ferry up)');
  const log = host.logger.child({ ifname: host.ifname, plane: NAME });
  const open = (s: VxlanSettings) => openVxlanUnderlay(host.pool, s, (o) => host.openUdp(o));
  const port = open(settings);
  let plane;
  try {
    plane = mountL3Plane(host.datapath, port, settings, config.interface.addresses, NAME);
  } catch (err) {
    port.close();
    throw err;
  }
  const vtep = plane;
  registerVxlanOps(host.control, {
    plane: vtep,
    datapath: host.datapath,
    settings: () => settings as VxlanSettings,
    changed: (what, peer) => log.info({ remote: peer.remote, vtepMac: peer.macText, subnets: peer.subnets.map(formatPrefix) }, `control: ${what}`),
  });
  log.info({ vni: vtep.vni, port: settings.port, local: settings.local, vtepMac: macToString(vtep.mac, 0), peers: vtep.peers.size }, 'VXLAN VTEP up');

  return {
    name: NAME,
    status: () => ({ vni: vtep.vni, port: vtep.port, vtepMac: macToString(vtep.mac, 0), peers: vtep.peers.size, rxPackets: vtep.stats.rxPackets, txPackets: vtep.stats.txPackets }),
    ready: () => (host.datapath.portOf(vtep) === null ? { ready: false, reason: 'no VXLAN underlay socket' } : { ready: true }),
    reload(next: WgQuickConfig): void | 'removed' {
      const now = settings as VxlanSettings;
      const want = vxlanSettings(next, { ifname: host.ifname });
      if (want === null) {
        // The peers' routes go with the plane; the host's routes into the interface stay (ferry down removes them).
        host.datapath.removePlane(vtep);
        registerNoVxlanOps(host.control, host.ifname);
        log.info('reload: [FerryVxlan] removed, the VTEP is off the datapath');
        return 'removed';
      }
      if (want.mode !== now.mode) refuse(next, want.line, `Mode changed from ${now.mode} to ${want.mode}: that needs a new device, a TAP instead of a TUN (ferry down, ferry up)`);
      const changes = peerChanges(vtep.peers.list(), want.peers);
      // Check everything before changing anything: the routes the new peers need…
      const leaving = new Set(changes.remove);
      for (const p of changes.add) {
        for (const prefix of p.subnets) {
          const owner = host.datapath.routes.conflict(prefix, NAME);
          if (owner !== null) throw new FerryError(ErrorCode.RouteConflict, `peer ${p.remote}: subnet ${formatPrefix(prefix)} is already routed to ${owner}`);
        }
      }
      const identityChanged = want.vni !== vtep.vni || macToString(want.vtepMac, 0) !== macToString(vtep.mac, 0);
      if (identityChanged && vtep.peers.list().some((p) => !leaving.has(p) && macToString(p.mac, 0) === macToString(want.vtepMac, 0))) {
        refuse(next, want.line, 'VtepMAC is a peer\'s');
      }
      // …and the new socket, when Port or Local changed (opening it may fail: nothing changed yet).
      const newPort = want.port !== now.port || want.local !== now.local ? open(want) : null;
      for (const p of changes.remove) vtep.removePeer(p);
      if (identityChanged) vtep.setIdentity(want.vni, want.vtepMac);
      if (newPort !== null) {
        host.datapath.setPort(vtep, newPort);
        vtep.setOverlayPort(want.port);
      }
      vtep.locals.set(next.interface.addresses);
      for (const p of changes.add) vtep.addPeer({ remote: p.remote, mac: p.vtepMac as Uint8Array, subnets: p.subnets });
      settings = want;
      log.info({ added: changes.add.length, removed: changes.remove.length, unchanged: changes.unchanged, port: newPort !== null ? want.port : undefined, identityChanged }, 'reload: VXLAN applied');
    },
    drops: () => vtepDrops(vtep.vteps),
    metrics: (m, labels) => writeVxlanMetrics(m, labels, vtep),
    close: () => {},
  };
}

/** Mode = l2 needs a TAP. Checked by the parser already; a file with errors leaves it to mount() to report them. */
function device(config: WgQuickConfig): 'tap' | null {
  try {
    return vxlanSettings(config, { ifname: 'unused', hostId: 'unused: the MAC plays no part here' })?.mode === 'l2' ? 'tap' : null;
  } catch {
    return null;
  }
}

registerPlaneModule({ name: NAME, mount, device });
