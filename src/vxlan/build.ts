/**
 * From checked settings to a running VTEP: an L3 plane with its peers (their subnets
 * claimed in the route table) or an L2 plane with its FDB, and the underlay socket bound
 * to Local:Port. Used by the
 * daemon and by the interop test runner, so both build the same thing.
 */
import type { BufferPool } from '../buffer/pool.js';
import type { Datapath } from '../datapath/datapath.js';
import type { UdpPort } from '../io/ports.js';
import { ErrorCode, FerryError, isSystemError } from '../errors.js';
import { type UdpOpenOptions, UdpSocket } from '../io/udp.js';
import { formatPrefix, type IpPrefix } from '../table/prefix-trie.js';
import { VxlanL2Plane } from './l2-plane.js';
import { VxlanPlane } from './l3-plane.js';
import type { VxlanSettings } from './settings.js';

/** Underlay socket buffers, as ferryd's WireGuard port has them. */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Mounts an L3 VTEP on the datapath with its port and adds the settings' peers (their
 * subnets routed to it). Checked first, since a datapath cannot unmount a plane: a subnet
 * another plane routes is a RouteConflict, thrown before anything is mounted (the caller
 * closes the port). The settings were checked by vxlanSettings (no MAC or subnet twice).
 */
export function mountL3Plane(datapath: Datapath, port: UdpPort, settings: VxlanSettings, localAddresses: readonly IpPrefix[], name = 'vxlan'): VxlanPlane {
  if (settings.mode !== 'l3') throw new FerryError(ErrorCode.InvalidArgument, 'an L3 VTEP needs Mode = l3');
  for (const peer of settings.peers) {
    for (const p of peer.subnets) {
      const owner = datapath.routes.conflict(p, name);
      if (owner !== null) throw new FerryError(ErrorCode.RouteConflict, `peer ${peer.remote}: subnet ${formatPrefix(p)} is already routed to ${owner}`);
    }
  }
  const plane = new VxlanPlane({ mac: settings.vtepMac, vni: settings.vni, port: settings.port, localAddresses, name });
  datapath.addPlane(plane, port);
  for (const p of settings.peers) plane.addPeer({ remote: p.remote, mac: p.vtepMac as Uint8Array, subnets: p.subnets });
  return plane;
}

/**
 * Binds Local:Port; without Local, dual-stack [::]:Port (IPv4 peers then work too), or
 * 0.0.0.0:Port on a host without IPv6.
 */
export function openVxlanUnderlay(pool: BufferPool, settings: VxlanSettings, open: (o: UdpOpenOptions) => UdpPort = (o) => UdpSocket.open(o)): UdpPort {
  // recvTos: the outer ECN field, for RFC 6040 decapsulation. dontFragment: outer packets
  // carry DF and are never fragmented (the inner MTU leaves room for the headers).
  const common = { pool, port: settings.port, rcvbuf: SOCKET_BUFFER_BYTES, sndbuf: SOCKET_BUFFER_BYTES, recvTos: true, dontFragment: true };
  // zeroChecksum6: IPv6 peers configured with udp6zerocsumtx send zero UDP checksums.
  if (settings.local !== null) {
    const v6 = settings.local.includes(':');
    // freebind: Local may be an address that comes up after the daemon (the interface's own, over WireGuard).
    return open({ ...common, family: v6 ? 6 : 4, address: settings.local, freebind: true, ...(v6 ? { zeroChecksum6: true } : {}) });
  }
  try {
    return open({ ...common, family: 6, address: '::', v6only: false, zeroChecksum6: true });
  } catch (err) {
    if (isSystemError(err) && (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL')) return open({ ...common, family: 4, address: '0.0.0.0' });
    throw err;
  }
}

/**
 * Mounts an L2 VTEP on a datapath whose device is a TAP, with its port, as the plane every
 * frame goes to; each configured peer becomes a flood entry (and a static entry for its
 * MAC when given), as `bridge fdb append 00:00:00:00:00:00 … dst REMOTE` makes them.
 */
export function mountL2Plane(datapath: Datapath, port: UdpPort, settings: VxlanSettings, name = 'vxlan'): VxlanL2Plane {
  if (settings.mode !== 'l2') throw new FerryError(ErrorCode.InvalidArgument, 'an L2 VTEP needs Mode = l2');
  if (datapath.l2 === null) throw new FerryError(ErrorCode.InvalidArgument, 'an L2 VTEP needs the interface to be a TAP');
  const plane = new VxlanL2Plane({ mac: settings.vtepMac, vni: settings.vni, port: settings.port, learning: settings.learning, name });
  for (const p of settings.peers) plane.addPeer({ remote: p.remote, mac: p.vtepMac });
  datapath.addPlane(plane, port);
  datapath.setL2Plane(plane);
  return plane;
}
