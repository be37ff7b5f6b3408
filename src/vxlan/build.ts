/**
 * From checked settings to a running L3 VTEP: the plane with its peers (their subnets
 * claimed in the route table) and the underlay socket bound to Local:Port. Used by the
 * daemon and by the interop test runner, so both build the same thing.
 */
import type { BufferPool } from '../buffer/pool.js';
import type { RouteTable } from '../datapath/route-table.js';
import { ErrorCode, FerryError, isSystemError } from '../errors.js';
import { UdpSocket } from '../io/udp.js';
import type { IpPrefix } from '../table/prefix-trie.js';
import { VxlanPlane } from './l3-plane.js';
import type { VxlanSettings } from './settings.js';

/** Underlay socket buffers, as ferryd's WireGuard port has them. */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export function createL3Plane(settings: VxlanSettings, routes: RouteTable, localAddresses: readonly IpPrefix[]): VxlanPlane {
  if (settings.mode !== 'l3') throw new FerryError(ErrorCode.InvalidArgument, 'createL3Plane needs Mode = l3');
  const plane = new VxlanPlane({ routes, mac: settings.vtepMac, vni: settings.vni, port: settings.port, localAddresses });
  try {
    for (const p of settings.peers) plane.addPeer({ remote: p.remote, mac: p.vtepMac as Uint8Array, subnets: p.subnets });
  } catch (err) {
    plane.peers.clear();
    throw err;
  }
  return plane;
}

/**
 * Binds Local:Port; without Local, dual-stack [::]:Port (IPv4 peers then work too), or
 * 0.0.0.0:Port on a host without IPv6.
 */
export function openVxlanUnderlay(pool: BufferPool, settings: VxlanSettings): UdpSocket {
  // recvTos: the outer ECN field, for RFC 6040 decapsulation. dontFragment: outer packets
  // carry DF and are never fragmented (the inner MTU leaves room for the headers).
  const common = { pool, port: settings.port, rcvbuf: SOCKET_BUFFER_BYTES, sndbuf: SOCKET_BUFFER_BYTES, recvTos: true, dontFragment: true };
  // zeroChecksum6: IPv6 peers configured with udp6zerocsumtx send zero UDP checksums.
  if (settings.local !== null) {
    const v6 = settings.local.includes(':');
    return UdpSocket.open({ ...common, family: v6 ? 6 : 4, address: settings.local, ...(v6 ? { zeroChecksum6: true } : {}) });
  }
  try {
    return UdpSocket.open({ ...common, family: 6, address: '::', v6only: false, zeroChecksum6: true });
  } catch (err) {
    if (isSystemError(err) && (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL')) return UdpSocket.open({ ...common, family: 4, address: '0.0.0.0' });
    throw err;
  }
}
