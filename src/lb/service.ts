/**
 * A service (VIP:port/protocol) and its backends as the datapath sees them: addresses as
 * bytes, states as plain fields, counters as typed arrays. Ids index the balancer's
 * arrays and are what connection-table entries hold; an id is reused only once no entry
 * refers to it (flows counts them), so a stale entry never reaches another service.
 */
import { DROP_REASON_COUNT } from '../stats/drop-reasons.js';
import type { MaglevTable } from './maglev.js';

export const Scheduler = {
  Maglev: 0,
  Random: 1,
  RoundRobin: 2,
} as const;

export const SCHEDULER_NAMES = ['maglev', 'random', 'round-robin'];

/** What an active health check does (HealthCheck = …). */
export interface HealthCheckSpec {
  kind: 'none' | 'tcp' | 'http' | 'icmp';
  /** Port to check (tcp, http); 0: the backend's own port. */
  port: number;
  /** http: the path requested and the status expected. */
  path: string;
  status: number;
  intervalMs: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
}

/** Per-service and per-backend counters (indices into `counters`). */
export const Counter = {
  /** New flows (connections) given to it. */
  Connections: 0,
  /** Client → backend direction. */
  PacketsIn: 1,
  BytesIn: 2,
  /** Backend → client direction. */
  PacketsOut: 3,
  BytesOut: 4,
  /** TCP connections refused by the backend (RST to a SYN). */
  Refused: 5,
} as const;
const COUNTER_COUNT = 6;

export class Backend {
  /** Index in the balancer's backend array. */
  id = -1;
  readonly family: 4 | 6;
  /** 16 bytes; IPv4 in the first 4. */
  readonly address = new Uint8Array(16);
  /** "10.0.1.2:8080" or "[fd00::2]:8080": identity within its service, and the Maglev name. */
  readonly name: string;
  /** The address as text ("10.0.1.2", "fd00::2"), for probes and messages. */
  readonly host: string;
  weight: number;
  /** Drained: keeps its flows, gets no new ones. */
  drain = false;
  /** In its service's configuration (false: removed, kept while flows refer to it). */
  configured = true;
  /** Passed its health checks (or has none). A backend that is not is "failed". */
  healthy = true;
  /** Connection-table entries pointing here. */
  flows = 0;
  readonly counters = new Float64Array(COUNTER_COUNT);
  readonly drops = new Float64Array(DROP_REASON_COUNT);

  constructor(
    readonly service: Service,
    family: 4 | 6,
    address: Uint8Array,
    readonly port: number,
    weight: number,
    host: string,
  ) {
    this.family = family;
    this.address.set(address.subarray(0, family === 4 ? 4 : 16));
    this.weight = weight;
    this.host = host;
    this.name = family === 4 ? `${host}:${port}` : `[${host}]:${port}`;
  }

  /** May get new flows. */
  get eligible(): boolean {
    return this.configured && this.healthy && !this.drain;
  }
}

export class Service {
  /** Index in the balancer's service array. */
  id = -1;
  readonly family: 4 | 6;
  readonly vip = new Uint8Array(16);
  /** Configured backends, in config order. */
  backends: Backend[] = [];
  /** Backends that may get new flows, and the structures that pick among them. */
  eligible: Backend[] = [];
  table: MaglevTable | null = null;
  /** Cumulative weights of `eligible` (random scheduler). */
  cumulative = new Float64Array(0);
  /** Smooth weighted round-robin state, per eligible backend. */
  rrCurrent = new Float64Array(0);
  totalWeight = 0;
  /** Deleted from the configuration: its flows are answered as if it never existed. */
  deleted = false;
  flows = 0;
  readonly counters = new Float64Array(COUNTER_COUNT);
  readonly drops = new Float64Array(DROP_REASON_COUNT);

  constructor(
    readonly name: string,
    family: 4 | 6,
    vip: Uint8Array,
    readonly port: number,
    /** IPProto.TCP or IPProto.UDP. */
    readonly proto: number,
    public scheduler: number,
    /** ClientIP affinity timeout, ms; 0: none. */
    public affinityMs: number,
    /** Snat = always: translate the source for peers' backends too. */
    public snatAlways: boolean,
    public health: HealthCheckSpec,
  ) {
    this.family = family;
    this.vip.set(vip.subarray(0, family === 4 ? 4 : 16));
  }
}
