/**
 * A VTEP MAC that stays the same across restarts without being configured: a hash of the
 * host's identity, the interface name and the VNI, made a locally administered unicast
 * address. Peers (flannel's kernel nodes) pin our MAC in static neighbour and FDB
 * entries, so it must not change when ferry restarts, as a random one would.
 */
import { createHash } from 'node:crypto';

export function deriveVtepMac(hostId: string, ifname: string, vni: number): Uint8Array {
  const digest = createHash('sha256').update(`ferry-vxlan-vtep\0${hostId}\0${ifname}\0${vni}`).digest();
  const mac = Uint8Array.from(digest.subarray(0, 6));
  // Unicast (group bit clear), locally administered (bit 1 set).
  mac[0] = (mac[0] & 0xfc) | 0x02;
  return mac;
}
