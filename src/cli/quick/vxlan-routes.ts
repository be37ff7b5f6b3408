/**
 * VXLAN carried by the interface itself (a private key and [FerryVxlan], the VXLAN peers
 * reached through WireGuard): a packet for a VXLAN subnet leaves the interface again as a
 * VXLAN datagram 50 (or 70) bytes larger, so at the interface's MTU it could not go out
 * (DF) and nobody would tell its sender. `ferry up` gives those subnets' routes the MTU
 * that fits (interface MTU minus the overhead), so the host's path MTU logic and TCP's
 * MSS see the real limit. Peers reached any other way need nothing here: the interface
 * MTU already leaves them room (mtu.ts).
 */
import { vxlanSettings } from '../../config/vxlan-settings.js';
import { VXLAN_OVERHEAD_IPV4, VXLAN_OVERHEAD_IPV6 } from '../../vxlan/constants.js';
import { usesMainTable } from './routes.js';
import type { Session } from './session.js';
import { formatPrefix } from '../../text/prefix.js';

export async function setVxlanRouteMtus(s: Session): Promise<void> {
  if (!usesMainTable(s.config.interface.table)) return;
  const settings = vxlanSettings(s.config, { ifname: s.ifname, hostId: 'unused: the MAC plays no part here' });
  if (settings === null) return;
  const link = /mtu ([0-9]+)/.exec((await s.query(['ip', 'link', 'show', 'dev', s.ifname])).stdout);
  if (link === null) return;
  for (const peer of settings.peers) {
    const via = (await s.query(['ip', 'route', 'get', peer.remote])).stdout;
    if (!new RegExp(`dev ${s.ifname.replace(/[.+]/g, '\\$&')}( |$)`, 'm').test(via)) continue;
    const mtu = Number(link[1]) - (peer.family === 6 ? VXLAN_OVERHEAD_IPV6 : VXLAN_OVERHEAD_IPV4);
    for (const subnet of peer.subnets) {
      const prefix = formatPrefix(subnet);
      await s.cmd(['ip', `-${subnet.family}`, 'route', 'replace', prefix, 'dev', s.ifname, 'mtu', String(mtu)]);
    }
  }
}
