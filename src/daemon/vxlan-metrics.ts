/** The VXLAN plane's /metrics families: the VTEP's traffic and each peer's (VTEP). */
import type { Labels, MetricsText } from '../control/prometheus-text.js';
import type { VxlanPlane } from '../vxlan/l3-plane.js';

export function writeVxlanMetrics(m: MetricsText, labels: Labels, vtep: VxlanPlane): void {
  const vni = { ...labels, vni: vtep.vni };
  const peers = vtep.peers.list();
  m.family('ferry_vxlan_peers', 'gauge', 'Remote VTEPs configured.').sample('ferry_vxlan_peers', vni, peers.length);
  m.family('ferry_vxlan_packets_total', 'counter', 'Frames through the VTEP, by direction.');
  m.sample('ferry_vxlan_packets_total', { ...vni, direction: 'rx' }, vtep.stats.rxPackets);
  m.sample('ferry_vxlan_packets_total', { ...vni, direction: 'tx' }, vtep.stats.txPackets);
  m.family('ferry_vxlan_bytes_total', 'counter', 'Bytes of inner frames through the VTEP, by direction.');
  m.sample('ferry_vxlan_bytes_total', { ...vni, direction: 'rx' }, vtep.stats.rxBytes);
  m.sample('ferry_vxlan_bytes_total', { ...vni, direction: 'tx' }, vtep.stats.txBytes);
  m.family('ferry_vxlan_peer_packets_total', 'counter', 'Frames exchanged with each remote VTEP, by direction.');
  for (const p of peers) {
    m.sample('ferry_vxlan_peer_packets_total', { ...vni, remote: p.remote, direction: 'rx' }, p.rxPackets);
    m.sample('ferry_vxlan_peer_packets_total', { ...vni, remote: p.remote, direction: 'tx' }, p.txPackets);
  }
  m.family('ferry_vxlan_peer_bytes_total', 'counter', 'Bytes of inner frames exchanged with each remote VTEP, by direction.');
  for (const p of peers) {
    m.sample('ferry_vxlan_peer_bytes_total', { ...vni, remote: p.remote, direction: 'rx' }, p.rxBytes);
    m.sample('ferry_vxlan_peer_bytes_total', { ...vni, remote: p.remote, direction: 'tx' }, p.txBytes);
  }
  m.family('ferry_vxlan_neighbor_replies_total', 'counter', 'ARP and neighbour-discovery requests the VTEP answered.');
  m.sample('ferry_vxlan_neighbor_replies_total', { ...vni, protocol: 'arp' }, vtep.neighbors.arpReplies);
  m.sample('ferry_vxlan_neighbor_replies_total', { ...vni, protocol: 'nd' }, vtep.neighbors.ndReplies);
}
