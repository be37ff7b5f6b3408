/**
 * Services and backends as the control socket shows them (`ferry service list|show`):
 * settings, state, and the counters the stage keeps for each (connections, packets and
 * bytes each way, connects refused by the backend, drops by reason). Control path.
 */
import { dropReasonName } from '../stats/drop-reasons.js';
import { addressText, endpointText } from './address-text.js';
import type { HealthMonitor } from './health.js';
import { IPProto } from '../packet/constants.js';
import { type Backend, Counter, SCHEDULER_NAMES, type Service } from './service.js';

export interface CounterView {
  connections: number;
  /** Client → backend. */
  packetsIn: number;
  bytesIn: number;
  /** Backend → client. */
  packetsOut: number;
  bytesOut: number;
  /** TCP connects the backend refused (a RST to the SYN). */
  refused: number;
  /** Entries of the connection table pointing here now. */
  flows: number;
  /** Drops by reason (only reasons that occurred). */
  drops: Record<string, number>;
}

export interface BackendView extends CounterView {
  name: string;
  address: string;
  port: number;
  weight: number;
  /** up, down (failed its health checks: out of the table) or draining (keeps its flows, gets no new ones). */
  state: 'up' | 'down' | 'draining';
  health: { probes: number; failures: number; lastError: string } | null;
}

export interface ServiceView extends CounterView {
  name: string;
  address: string;
  protocol: 'tcp' | 'udp';
  scheduler: string;
  /** ClientIP affinity timeout in seconds; 0: none. */
  affinitySeconds: number;
  healthCheck: string;
  backends: BackendView[];
}

function counters(c: Float64Array, drops: Float64Array, flows: number): CounterView {
  const d: Record<string, number> = {};
  for (let i = 1; i < drops.length; i++) if (drops[i] !== 0) d[dropReasonName(i)] = drops[i];
  return {
    connections: c[Counter.Connections],
    packetsIn: c[Counter.PacketsIn],
    bytesIn: c[Counter.BytesIn],
    packetsOut: c[Counter.PacketsOut],
    bytesOut: c[Counter.BytesOut],
    refused: c[Counter.Refused],
    flows,
    drops: d,
  };
}

function backendState(b: Backend): BackendView['state'] {
  return !b.healthy ? 'down' : b.drain ? 'draining' : 'up';
}

function backendView(b: Backend, health: HealthMonitor | null): BackendView {
  const h = health?.status(b) ?? null;
  return {
    name: b.name,
    address: addressText(b.family, b.address),
    port: b.port,
    weight: b.weight,
    state: backendState(b),
    health: h === null ? null : { probes: h.probes, failures: h.failures, lastError: h.lastError },
    ...counters(b.counters, b.drops, b.flows),
  };
}

/** "tcp every 2 s", "http 8081 /healthz 200 every 0.5 s", "none". */
function healthCheckText(s: Service): string {
  const h = s.health;
  if (h.kind === 'none') return 'none';
  const port = h.port !== 0 ? ` ${h.port}` : '';
  const what = h.kind === 'http' ? `http${port} ${h.path} ${h.status}` : h.kind === 'tcp' ? `tcp${port}` : 'icmp';
  return `${what} every ${h.intervalMs / 1000} s, down after ${h.unhealthyThreshold}, up after ${h.healthyThreshold}`;
}

export function serviceView(s: Service, health: HealthMonitor | null): ServiceView {
  return {
    name: s.name,
    address: endpointText(s.family, s.vip, s.port),
    protocol: s.proto === IPProto.UDP ? 'udp' : 'tcp',
    scheduler: SCHEDULER_NAMES[s.scheduler],
    affinitySeconds: s.affinityMs / 1000,
    healthCheck: healthCheckText(s),
    ...counters(s.counters, s.drops, s.flows),
    backends: s.backends.map((b) => backendView(b, health)),
  };
}
