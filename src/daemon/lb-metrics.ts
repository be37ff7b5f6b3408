/**
 * The load balancer's /metrics families: services and backends with their counters and
 * health, and the connection table. Read at scrape time from the same views `ferry
 * service show` prints. A family's samples stay together, as the text format requires.
 */
import type { Labels, MetricsText } from '../control/prometheus-text.js';
import type { LoadBalancer } from '../lb/load-balancer.js';
import { type BackendView, serviceView, type ServiceView } from '../lb/service-view.js';

const STATES = ['up', 'down', 'draining'] as const;
const DIRECTIONS = [
  ['to_backend', 'packetsIn', 'bytesIn'],
  ['to_client', 'packetsOut', 'bytesOut'],
] as const;

export function writeLbMetrics(m: MetricsText, labels: Labels, lb: LoadBalancer): void {
  const services: ServiceView[] = lb.balancer.list().map((s) => serviceView(s, lb.health));
  const backends: { s: ServiceView; b: BackendView }[] = services.flatMap((s) => s.backends.map((b) => ({ s, b })));
  const svc = (s: ServiceView) => ({ ...labels, service: s.name });
  const be = (s: ServiceView, b: BackendView) => ({ ...labels, service: s.name, backend: b.name });

  m.family('ferry_lb_services', 'gauge', 'Services configured.').sample('ferry_lb_services', labels, services.length);
  m.family('ferry_lb_conntrack_entries', 'gauge', 'Flows in the connection table.').sample('ferry_lb_conntrack_entries', labels, lb.conntrack.count);
  m.family('ferry_lb_conntrack_max', 'gauge', 'Size of the connection table (ConntrackMax).').sample('ferry_lb_conntrack_max', labels, lb.conntrack.capacity);
  m.family('ferry_lb_new_flows_total', 'counter', 'Flows that got a backend.').sample('ferry_lb_new_flows_total', labels, lb.stage.stats.newFlows);

  m.family('ferry_lb_service_connections_total', 'counter', 'Connections (flows) a service balanced.');
  for (const s of services) m.sample('ferry_lb_service_connections_total', svc(s), s.connections);
  m.family('ferry_lb_service_packets_total', 'counter', "Packets of a service's flows, by direction.");
  for (const s of services) for (const [d, p] of DIRECTIONS) m.sample('ferry_lb_service_packets_total', { ...svc(s), direction: d }, s[p]);
  m.family('ferry_lb_service_bytes_total', 'counter', "Bytes of a service's flows, by direction.");
  for (const s of services) for (const [d, , b] of DIRECTIONS) m.sample('ferry_lb_service_bytes_total', { ...svc(s), direction: d }, s[b]);
  m.family('ferry_lb_service_drops_total', 'counter', "Drops of a service's packets, by reason (reasons that occurred).");
  for (const s of services) for (const [reason, n] of Object.entries(s.drops)) m.sample('ferry_lb_service_drops_total', { ...svc(s), reason }, n);

  m.family('ferry_lb_backend_state', 'gauge', "1 for the backend's state: up, down (failed its health checks) or draining.");
  for (const { s, b } of backends) for (const st of STATES) m.sample('ferry_lb_backend_state', { ...be(s, b), state: st }, b.state === st ? 1 : 0);
  m.family('ferry_lb_backend_flows', 'gauge', 'Flows of the connection table pointing at the backend.');
  for (const { s, b } of backends) m.sample('ferry_lb_backend_flows', be(s, b), b.flows);
  m.family('ferry_lb_backend_connections_total', 'counter', 'Connections the backend got.');
  for (const { s, b } of backends) m.sample('ferry_lb_backend_connections_total', be(s, b), b.connections);
  m.family('ferry_lb_backend_health_failures_total', 'counter', 'Failed health checks of the backend.');
  for (const { s, b } of backends) m.sample('ferry_lb_backend_health_failures_total', be(s, b), b.health?.failures ?? 0);
}
