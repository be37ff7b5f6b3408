/** The VXLAN plane's /metrics families: the VTEP's traffic and each peer's (VTEP). */
import type { Labels, MetricsText } from '../control/prometheus-text.js';
import type { VxlanStats } from '../vxlan/l3-plane.js';
import type { VtepDrops } from '../vxlan/vtep-addresses.js';
import { dropSamples } from './metrics.js';

/** What both VTEPs (L3 on a TUN, L2 on a TAP) show; per-peer counters and neighbours are L3's. */
interface VtepMetricsSource {
  readonly vni: number;
  readonly stats: VxlanStats;
  readonly peers: { readonly size: number; list(): readonly { remote: string; rxPackets?: number; txPackets?: number; rxBytes?: number; txBytes?: number }[] };
  readonly neighbors?: { readonly arpReplies: number; readonly ndReplies: number };
  readonly fdb?: { readonly size: number };
  /** Remote VTEPs (configured, or in L2 learned) by address, with their drops. */
  readonly vteps: { withDrops(): VtepDrops[] };
}

export function writeVxlanMetrics(m: MetricsText, labels: Labels, vtep: VtepMetricsSource): void {
  const vni = { ...labels, vni: vtep.vni };
  const peers = vtep.peers.list();
  m.family('ferry_vxlan_peers', 'gauge', 'Remote VTEPs configured.').sample('ferry_vxlan_peers', vni, peers.length);
  m.family('ferry_vxlan_packets_total', 'counter', 'Frames through the VTEP, by direction.');
  m.sample('ferry_vxlan_packets_total', { ...vni, direction: 'rx' }, vtep.stats.rxPackets);
  m.sample('ferry_vxlan_packets_total', { ...vni, direction: 'tx' }, vtep.stats.txPackets);
  m.family('ferry_vxlan_bytes_total', 'counter', 'Bytes of inner frames through the VTEP, by direction.');
  m.sample('ferry_vxlan_bytes_total', { ...vni, direction: 'rx' }, vtep.stats.rxBytes);
  m.sample('ferry_vxlan_bytes_total', { ...vni, direction: 'tx' }, vtep.stats.txBytes);
  m.family('ferry_vxlan_peer_drops_total', 'counter', 'Drops concerning a remote VTEP (received from its address, or sent toward it), by reason.');
  for (const v of vtep.vteps.withDrops()) dropSamples(m, 'ferry_vxlan_peer_drops_total', { ...vni, remote: v.remote }, v.drops);
  if (vtep.fdb !== undefined) m.family('ferry_vxlan_fdb_entries', 'gauge', 'Forwarding entries of the L2 VTEP (static, flood and learned).').sample('ferry_vxlan_fdb_entries', vni, vtep.fdb.size);
  if (peers.every((p) => p.rxPackets === undefined)) return;
  m.family('ferry_vxlan_peer_packets_total', 'counter', 'Frames exchanged with each remote VTEP, by direction.');
  for (const p of peers) {
    m.sample('ferry_vxlan_peer_packets_total', { ...vni, remote: p.remote, direction: 'rx' }, p.rxPackets ?? 0);
    m.sample('ferry_vxlan_peer_packets_total', { ...vni, remote: p.remote, direction: 'tx' }, p.txPackets ?? 0);
  }
  m.family('ferry_vxlan_peer_bytes_total', 'counter', 'Bytes of inner frames exchanged with each remote VTEP, by direction.');
  for (const p of peers) {
    m.sample('ferry_vxlan_peer_bytes_total', { ...vni, remote: p.remote, direction: 'rx' }, p.rxBytes ?? 0);
    m.sample('ferry_vxlan_peer_bytes_total', { ...vni, remote: p.remote, direction: 'tx' }, p.txBytes ?? 0);
  }
  if (vtep.neighbors === undefined) return;
  m.family('ferry_vxlan_neighbor_replies_total', 'counter', 'ARP and neighbour-discovery requests the VTEP answered.');
  m.sample('ferry_vxlan_neighbor_replies_total', { ...vni, protocol: 'arp' }, vtep.neighbors.arpReplies);
  m.sample('ferry_vxlan_neighbor_replies_total', { ...vni, protocol: 'nd' }, vtep.neighbors.ndReplies);
}
