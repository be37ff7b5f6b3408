/**
 * What /metrics serves for one interface, in the Prometheus text format.
 *
 * The WireGuard families carry the names and labels of the common WireGuard exporter
 * (`interface`, `public_key`, `allowed_ips`), so existing dashboards work unchanged; the
 * byte counters are what `wg show transfer` prints. Everything of ferry's own is a
 * `ferry_*` family: the pool, the datapath's batches, drops by plane and reason, and what
 * each hosted plane adds (VXLAN peers and forwarding entries, load-balancer services).
 */
import type { Labels, MetricsText } from '../control/prometheus-text.js';
import { DROP_REASON_COUNT, type DropCounters, dropReasonName } from '../stats/drop-reasons.js';
import { formatPrefix } from '../table/prefix-trie.js';
import { formatKeyBase64 } from '../wireguard/keys.js';
import type { WgDaemon } from './wg-daemon.js';

/** The part of a WgDaemon read here. */
type MetricsSource = Pick<WgDaemon, 'ifname' | 'device' | 'pool' | 'tun' | 'datapath' | 'hosted'>;

interface UdpCounters {
  received?: number;
  sent?: number;
  sendErrors?: number;
  recvErrors?: number;
}

/** One sample per reason with a non-zero count, plus `labels`. */
export function dropSamples(m: MetricsText, name: string, labels: Labels, drops: DropCounters): void {
  for (let r = 1; r < DROP_REASON_COUNT; r++) {
    const n = drops.get(r);
    if (n > 0) m.sample(name, { ...labels, reason: dropReasonName(r) }, n);
  }
}

export function writeInterfaceMetrics(m: MetricsText, src: MetricsSource, total: DropCounters): void {
  const { device, pool, tun, datapath } = src;
  const iface = { interface: src.ifname };

  m.family('ferry_pool_slots', 'gauge', 'Small slots of the packet buffer pool.').sample('ferry_pool_slots', iface, pool.slotCount);
  m.family('ferry_pool_slot_bytes', 'gauge', 'Bytes per small pool slot.').sample('ferry_pool_slot_bytes', iface, pool.slotSize);
  m.family('ferry_pool_in_use', 'gauge', 'Pool slots (both classes) holding a packet now.').sample('ferry_pool_in_use', iface, pool.inUse);
  m.family('ferry_pool_exhausted_total', 'counter', 'Times a small slot was wanted and none was free (backpressure).').sample('ferry_pool_exhausted_total', iface, pool.exhausted);
  m.family('ferry_pool_large_slots', 'gauge', 'Large slots of the pool (jumbo MTUs).').sample('ferry_pool_large_slots', iface, pool.largeSlotCount);
  m.family('ferry_pool_large_slot_bytes', 'gauge', 'Bytes per large pool slot.').sample('ferry_pool_large_slot_bytes', iface, pool.largeSlotSize);
  m.family('ferry_pool_large_exhausted_total', 'counter', 'Times a large slot was wanted and none was free.').sample('ferry_pool_large_exhausted_total', iface, pool.largeExhausted);

  const udp = (datapath.portOf(device) ?? {}) as UdpCounters;
  m.family('ferry_packets_total', 'counter', 'Packets through the TUN and the WireGuard underlay, by port and direction.');
  m.sample('ferry_packets_total', { ...iface, port: 'tun', direction: 'rx' }, tun.readPackets);
  m.sample('ferry_packets_total', { ...iface, port: 'tun', direction: 'tx' }, tun.writtenPackets);
  m.sample('ferry_packets_total', { ...iface, port: 'udp', direction: 'rx' }, udp.received ?? 0);
  m.sample('ferry_packets_total', { ...iface, port: 'udp', direction: 'tx' }, udp.sent ?? 0);
  m.family('ferry_io_errors_total', 'counter', 'I/O errors survived, by port and operation.');
  m.sample('ferry_io_errors_total', { ...iface, port: 'tun', op: 'write' }, tun.writeErrors);
  m.sample('ferry_io_errors_total', { ...iface, port: 'udp', op: 'send' }, udp.sendErrors ?? 0);
  m.sample('ferry_io_errors_total', { ...iface, port: 'udp', op: 'receive' }, udp.recvErrors ?? 0);

  const off = tun.offloads;
  m.family('ferry_tun_offload', 'gauge', 'TUN offloads on (1) or off (0): the TUN_F_* bits the kernel accepted are in ferry stats.').sample('ferry_tun_offload', iface, off === null ? 0 : 1);
  if (off !== null) {
    const r = off.reader;
    const w = off.writer;
    m.family('ferry_tun_offload_packets_total', 'counter', 'TUN offload work by kind: super-packets read, segments made of them, groups written (one writev each), packets coalesced into super-packets, coalesced groups written again unmerged (EINVAL).');
    m.sample('ferry_tun_offload_packets_total', { ...iface, kind: 'super_read' }, r.superPackets);
    m.sample('ferry_tun_offload_packets_total', { ...iface, kind: 'segments' }, r.segments);
    m.sample('ferry_tun_offload_packets_total', { ...iface, kind: 'groups_written' }, w.groupsWritten);
    m.sample('ferry_tun_offload_packets_total', { ...iface, kind: 'coalesced' }, w.packetsCoalesced);
    m.sample('ferry_tun_offload_packets_total', { ...iface, kind: 'fallbacks' }, w.fallbacks);
  }

  const s = datapath.stats;
  m.family('ferry_datapath_packets_total', 'counter', 'Packets the datapath read from and wrote to the TUN.');
  m.sample('ferry_datapath_packets_total', { ...iface, direction: 'read' }, s.tunRead);
  m.sample('ferry_datapath_packets_total', { ...iface, direction: 'written' }, s.tunWritten);
  m.family('ferry_datapath_send_blocks_total', 'counter', 'Times a plane\'s socket was full and the datapath stopped reading the TUN until it drained.').sample('ferry_datapath_send_blocks_total', iface, s.sendBlocks);
  m.family('ferry_datapath_mtu', 'gauge', 'The inner MTU the datapath enforces.').sample('ferry_datapath_mtu', iface, datapath.mtu);

  // Every reason is listed for the interface total (a dashboard can rate() a zero); the
  // finer families list only reasons that occurred, so they stay small.
  m.family('ferry_drops_total', 'counter', 'Packets ferry did not deliver, by reason (docs/drops.md).');
  for (let r = 1; r < DROP_REASON_COUNT; r++) m.sample('ferry_drops_total', { ...iface, reason: dropReasonName(r) }, total.get(r));
  m.family('ferry_plane_drops_total', 'counter', 'Drops by the stage that decided them (datapath, or a plane) and reason.');
  dropSamples(m, 'ferry_plane_drops_total', { ...iface, plane: 'datapath' }, datapath.drops);
  for (const plane of datapath.planes) dropSamples(m, 'ferry_plane_drops_total', { ...iface, plane: plane.name }, plane.drops);

  const peers = device.getPeers().map((p) => ({
    p,
    labels: { ...iface, public_key: formatKeyBase64(p.publicKey), allowed_ips: device.allowedIpsOf(p).map(formatPrefix).join(',') },
  }));
  m.family('wireguard_peers', 'gauge', 'Configured WireGuard peers.').sample('wireguard_peers', iface, peers.length);
  m.family('wireguard_sent_bytes_total', 'counter', 'Bytes sent to the peer.');
  for (const { p, labels } of peers) m.sample('wireguard_sent_bytes_total', labels, p.txBytes);
  m.family('wireguard_received_bytes_total', 'counter', 'Bytes received from the peer.');
  for (const { p, labels } of peers) m.sample('wireguard_received_bytes_total', labels, p.rxBytes);
  m.family('wireguard_latest_handshake_seconds', 'gauge', 'UNIX time of the latest completed handshake with the peer (0: none).');
  for (const { p, labels } of peers) m.sample('wireguard_latest_handshake_seconds', labels, Math.floor(p.lastHandshakeWallMs / 1000));
  m.family('ferry_peer_drops_total', 'counter', 'Drops attributed to a WireGuard peer, by reason.');
  for (const { p } of peers) if (p.drops !== null) dropSamples(m, 'ferry_peer_drops_total', { ...iface, public_key: formatKeyBase64(p.publicKey) }, p.drops);

  for (const plane of src.hosted) plane.metrics?.(m, iface);
}
