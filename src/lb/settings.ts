/**
 * The load balancer's settings as typed values: what [FerryLb] and [FerryService]
 * sections become once checked (src/config/lb-sections.ts), and what the control socket
 * builds for `ferry service add`. Addresses are bytes (16, IPv4 in the first 4).
 */
import type { IpPrefix } from '../table/prefix-trie.js';
import type { HealthCheckSpec } from './service.js';

export const DEFAULT_SNAT_PORTS: readonly [number, number] = [32768, 60999];
export const DEFAULT_CONNTRACK_MAX = 262144;
export const CONNTRACK_MAX_LIMIT = 1 << 24;
/** Kubernetes' default ClientIP affinity timeout (3 hours). */
export const DEFAULT_AFFINITY_S = 10800;
const DEFAULT_HEALTH_INTERVAL_S = 2;
const DEFAULT_THRESHOLD = 2;
export const MAX_WEIGHT = 1000;
export const MAX_BACKENDS_PER_SERVICE = 4096;
export const MAX_SERVICES = 65536;
/** Maglev slots of all services together (2 bytes each: 32 MiB). */
export const MAX_TOTAL_TABLE_SLOTS = 16 * 1024 * 1024;

export interface BackendSettings {
  family: 4 | 6;
  address: Uint8Array;
  port: number;
  weight: number;
  drain: boolean;
  /** The address as text ("10.0.1.2", "fd00::2"). */
  host: string;
  /** "10.0.1.2:8080" / "[fd00::2]:8080" (endpointName). */
  name: string;
  /** Config line, for messages (0: not from a file). */
  line: number;
}

export interface ServiceSettings {
  name: string;
  family: 4 | 6;
  vip: Uint8Array;
  port: number;
  /** IPProto.TCP or IPProto.UDP. */
  proto: number;
  /** Scheduler.* */
  scheduler: number;
  /** 0: no affinity. */
  affinityMs: number;
  snatAlways: boolean;
  health: HealthCheckSpec;
  backends: BackendSettings[];
  line: number;
}

export interface LbSettings {
  /** Prefixes holding the VIPs (and the SNAT addresses); routed into the TUN. */
  serviceRanges: IpPrefix[];
  /** At most one per family. */
  snatV4: Uint8Array | null;
  snatV6: Uint8Array | null;
  snatPorts: [number, number];
  conntrackMax: number;
  services: ServiceSettings[];
}

export function defaultHealth(): HealthCheckSpec {
  return {
    kind: 'none',
    port: 0,
    path: '/',
    status: 200,
    intervalMs: DEFAULT_HEALTH_INTERVAL_S * 1000,
    unhealthyThreshold: DEFAULT_THRESHOLD,
    healthyThreshold: DEFAULT_THRESHOLD,
  };
}

/** "10.0.1.2:8080" or "[fd00::2]:8080". */
export function endpointName(family: 4 | 6, text: string, port: number): string {
  return family === 4 ? `${text}:${port}` : `[${text}]:${port}`;
}
