/**
 * The services and backends of one interface, and the choice of a backend for a new
 * flow. Control-path methods (add, update, remove, drain, health) rebuild a service's
 * selection structures (its Maglev table, weights); pick() is hot-path and allocates
 * nothing. A backend that leaves its service's configuration, and a deleted service,
 * stay reachable by id until the last flow that chose them ends (flows counts them).
 */
import { ErrorCode, FerryError } from '../errors.js';
import { AffinityTable } from './affinity.js';
import { MaglevTable, maglevTableSize } from './maglev.js';
import { randomBelow, type RandomSource } from './random.js';
import { Backend, Scheduler, Service } from './service.js';
import { ServiceIndex } from './service-index.js';
import { MAX_BACKENDS_PER_SERVICE, MAX_SERVICES, MAX_TOTAL_TABLE_SLOTS, type BackendSettings, type ServiceSettings } from './settings.js';

interface BalancerOptions {
  random: RandomSource;
  /** Session affinity records (default 65536). */
  affinityCapacity?: number;
  /** Seed of the affinity table's hash. */
  seed?: number;
}

/** What a change of backends did, for logs and the control socket. */
export interface BackendChange {
  added: string[];
  removed: string[];
  updated: string[];
}

export class Balancer {
  readonly services: (Service | undefined)[] = [];
  readonly backends: (Backend | undefined)[] = [];
  readonly index = new ServiceIndex();
  readonly affinity: AffinityTable;
  /** Bumped by every change of services, backends or their settings (for caches such as the health monitor's). */
  version = 0;
  private readonly byName = new Map<string, Service>();
  /** Services by protocol/address/port (control path: clashes). */
  private readonly byAddress = new Map<string, Service>();
  private batching = 0;
  private indexStale = false;
  private readonly freeServiceIds: number[] = [];
  private readonly freeBackendIds: number[] = [];
  private readonly random: RandomSource;
  /** Maglev slots held by all services. */
  private tableSlots = 0;

  constructor(options: BalancerOptions) {
    this.random = options.random;
    this.affinity = new AffinityTable(options.affinityCapacity ?? 65536, options.seed ?? options.random.nextU32());
  }

  /** Configured services, in id order. */
  list(): Service[] {
    return this.services.filter((s): s is Service => s !== undefined && !s.deleted);
  }

  get(name: string): Service | undefined {
    return this.byName.get(name);
  }

  // ------------------------------------------------------------------ control path

  add(settings: ServiceSettings): Service {
    if (this.byName.has(settings.name)) throw new FerryError(ErrorCode.InvalidArgument, `service ${settings.name} exists already`);
    if (this.byName.size >= MAX_SERVICES) throw new FerryError(ErrorCode.InvalidArgument, `at most ${MAX_SERVICES} services`);
    const key = addressKey(settings);
    const clash = this.byAddress.get(key);
    if (clash !== undefined) throw new FerryError(ErrorCode.InvalidArgument, `service ${settings.name}: its address is service ${clash.name}'s already`);
    const s = new Service(settings.name, settings.family, settings.vip, settings.port, settings.proto, settings.scheduler, settings.affinityMs, settings.snatAlways, settings.health);
    s.id = this.freeServiceIds.pop() ?? this.services.length;
    this.services[s.id] = s;
    this.byName.set(s.name, s);
    try {
      this.setBackends(s, settings.backends);
    } catch (err) {
      this.byName.delete(s.name);
      this.services[s.id] = undefined;
      this.freeServiceIds.push(s.id);
      throw err;
    }
    this.byAddress.set(key, s);
    this.reindex();
    this.version++;
    return s;
  }

  /**
   * Runs several changes and rebuilds the service index once at the end, not after each
   * (10,000 services added one by one would rebuild it 10,000 times).
   */
  batch<T>(changes: () => T): T {
    this.batching++;
    try {
      return changes();
    } finally {
      if (--this.batching === 0 && this.indexStale) this.reindex();
    }
  }

  /**
   * Applies new settings to an existing service of the same address, keeping its flows:
   * unchanged backends keep their ids (and so their connections).
   */
  update(settings: ServiceSettings): BackendChange {
    const s = this.byName.get(settings.name);
    if (s === undefined) throw new FerryError(ErrorCode.InvalidArgument, `no service ${settings.name}`);
    if (!sameAddress(s, settings)) throw new FerryError(ErrorCode.InvalidArgument, `service ${settings.name}: a new address or protocol is a new service (remove it, then add it)`);
    s.scheduler = settings.scheduler;
    if (s.affinityMs !== settings.affinityMs) this.affinity.forget(s.id);
    s.affinityMs = settings.affinityMs;
    s.snatAlways = settings.snatAlways;
    s.health = settings.health;
    this.version++;
    return this.setBackends(s, settings.backends);
  }

  /** Deletes a service: its flows are answered as if it had never existed. */
  remove(name: string): boolean {
    const s = this.byName.get(name);
    if (s === undefined) return false;
    this.byName.delete(name);
    s.deleted = true;
    for (const b of s.backends) this.retire(b);
    s.backends = [];
    this.rebuild(s);
    this.affinity.forget(s.id);
    this.byAddress.delete(addressKey(s));
    this.reindex();
    this.maybeFreeService(s);
    this.version++;
    return true;
  }

  /** Replaces a service's backends by `list` (matched by name). */
  setBackends(s: Service, list: readonly BackendSettings[]): BackendChange {
    if (list.length > MAX_BACKENDS_PER_SERVICE) throw new FerryError(ErrorCode.InvalidArgument, `service ${s.name}: at most ${MAX_BACKENDS_PER_SERVICE} backends`);
    const names = new Set<string>();
    for (const b of list) {
      if (b.family !== s.family) throw new FerryError(ErrorCode.InvalidArgument, `service ${s.name}: backend ${b.name} is not IPv${s.family}`);
      if (names.has(b.name)) throw new FerryError(ErrorCode.InvalidArgument, `service ${s.name}: backend ${b.name} is given twice`);
      names.add(b.name);
    }
    const oldSize = s.backends.length > 0 ? maglevTableSize(s.backends.map((b) => b.weight)) : 0;
    const newSize = list.length > 0 ? maglevTableSize(list.map((b) => b.weight)) : 0;
    if (s.scheduler === Scheduler.Maglev && this.tableSlots - oldSize + newSize > MAX_TOTAL_TABLE_SLOTS) {
      throw new FerryError(ErrorCode.InvalidArgument, `service ${s.name}: Maglev tables of all services would exceed ${MAX_TOTAL_TABLE_SLOTS} slots`);
    }
    const change: BackendChange = { added: [], removed: [], updated: [] };
    const old = new Map(s.backends.map((b) => [b.name, b]));
    const next: Backend[] = [];
    for (const want of list) {
      let b = old.get(want.name);
      if (b === undefined) {
        b = new Backend(s, want.family, want.address, want.port, want.weight, want.host);
        b.id = this.freeBackendIds.pop() ?? this.backends.length;
        this.backends[b.id] = b;
        change.added.push(b.name);
      } else {
        old.delete(want.name);
        if (b.weight !== want.weight || b.drain !== want.drain) change.updated.push(b.name);
        b.weight = want.weight;
      }
      b.drain = want.drain;
      next.push(b);
    }
    for (const b of old.values()) {
      this.retire(b);
      change.removed.push(b.name);
    }
    s.backends = next;
    this.rebuild(s);
    this.version++;
    return change;
  }

  /** Drains (or undrains) one backend: its flows stay, new flows go elsewhere. */
  setDrain(s: Service, name: string, drain: boolean): boolean {
    const b = s.backends.find((x) => x.name === name);
    if (b === undefined) return false;
    if (b.drain !== drain) {
      b.drain = drain;
      this.rebuild(s);
    }
    return true;
  }

  /** A health verdict: an unhealthy backend leaves the table (its TCP flows get a RST, its UDP flows move). */
  setHealthy(b: Backend, healthy: boolean): void {
    if (b.healthy === healthy) return;
    b.healthy = healthy;
    if (b.configured) this.rebuild(b.service);
  }

  /** Builds the selection structures of a service from its eligible backends. */
  rebuild(s: Service): void {
    const oldSlots = s.table?.size ?? 0;
    s.eligible = s.backends.filter((b) => b.eligible);
    const n = s.eligible.length;
    s.table = null;
    if (n > 0 && s.scheduler === Scheduler.Maglev) {
      s.table = MaglevTable.build(s.eligible, maglevTableSize(s.backends.map((b) => b.weight)));
    }
    this.tableSlots += (s.table?.size ?? 0) - oldSlots;
    s.cumulative = new Float64Array(n);
    s.rrCurrent = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += s.eligible[i].weight;
      s.cumulative[i] = total;
    }
    s.totalWeight = total;
  }

  /** A flow that chose (s, b) ended: ids of removed backends and deleted services come free. */
  release(serviceId: number, backendId: number): void {
    const b = backendId >= 0 ? this.backends[backendId] : undefined;
    if (b !== undefined) {
      b.flows--;
      if (!b.configured && b.flows === 0) this.freeBackend(b);
    }
    const s = serviceId >= 0 ? this.services[serviceId] : undefined;
    if (s !== undefined) {
      s.flows--;
      this.maybeFreeService(s);
    }
  }

  // ------------------------------------------------------------------ hot path

  /**
   * The backend for a new flow of s from the client address at buf[off] (flowHash: the
   * flow's deterministic hash, for Maglev), or null when none is eligible.
   */
  pick(s: Service, flowHash: number, buf: Uint8Array, off: number, now: number): Backend | null {
    const n = s.eligible.length;
    if (n === 0) return null;
    if (s.affinityMs > 0) {
      const id = this.affinity.lookup(s.id, s.family, buf, off, now);
      const held = id >= 0 ? this.backends[id] : undefined;
      if (held !== undefined && held.service === s && held.eligible) {
        this.affinity.remember(s.id, s.family, buf, off, held.id, s.affinityMs, now);
        return held;
      }
    }
    let b: Backend;
    if (s.scheduler === Scheduler.Maglev && s.table !== null) b = s.eligible[s.table.lookup(flowHash)];
    else if (s.scheduler === Scheduler.RoundRobin) b = this.roundRobin(s);
    else b = this.weightedRandom(s);
    if (s.affinityMs > 0) this.affinity.remember(s.id, s.family, buf, off, b.id, s.affinityMs, now);
    return b;
  }

  /** Smooth weighted round-robin (as nginx): each turn the backend furthest behind its share goes. */
  private roundRobin(s: Service): Backend {
    const cur = s.rrCurrent;
    let best = 0;
    for (let i = 0; i < cur.length; i++) {
      cur[i] += s.eligible[i].weight;
      if (cur[i] > cur[best]) best = i;
    }
    cur[best] -= s.totalWeight;
    return s.eligible[best];
  }

  private weightedRandom(s: Service): Backend {
    const x = randomBelow(this.random, s.totalWeight);
    const c = s.cumulative;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return s.eligible[lo];
  }

  // ------------------------------------------------------------------ ids

  private reindex(): void {
    if (this.batching > 0) {
      this.indexStale = true;
      return;
    }
    this.indexStale = false;
    this.index.rebuild(this.services);
  }

  private retire(b: Backend): void {
    b.configured = false;
    if (b.flows === 0) this.freeBackend(b);
  }

  private freeBackend(b: Backend): void {
    if (this.backends[b.id] !== b) return;
    this.backends[b.id] = undefined;
    this.freeBackendIds.push(b.id);
  }

  private maybeFreeService(s: Service): void {
    if (!s.deleted || s.flows !== 0 || this.services[s.id] !== s) return;
    this.services[s.id] = undefined;
    this.freeServiceIds.push(s.id);
  }
}

function addressKey(s: { proto: number; family: number; vip: Uint8Array; port: number }): string {
  return `${s.proto}/${s.family}/${Buffer.from(s.vip.subarray(0, s.family === 4 ? 4 : 16)).toString('hex')}/${s.port}`;
}

function sameAddress(s: Service, t: ServiceSettings): boolean {
  if (s.family !== t.family || s.port !== t.port || s.proto !== t.proto) return false;
  for (let i = 0; i < (s.family === 4 ? 4 : 16); i++) if (s.vip[i] !== t.vip[i]) return false;
  return true;
}
