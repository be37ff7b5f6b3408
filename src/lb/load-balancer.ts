/**
 * One interface's load balancer, assembled from LbSettings: the balancer (services,
 * backends, Maglev), the connection table, SNAT ports, health checks, the translation
 * stage and the answer plane. mount() puts it on a datapath (the stage before routing,
 * the answer plane beside the other planes); apply() takes a changed configuration
 * without touching the flows of services that did not change.
 */
import type { Datapath } from '../datapath/datapath.js';
import { AnswerPlane } from './answer-plane.js';
import { Balancer, type BackendChange } from './balancer.js';
import { Conntrack } from './conntrack.js';
import type { HealthProber } from './health-probes.js';
import { HealthMonitor } from './health.js';
import { CryptoRandom, type RandomSource } from './random.js';
import { AddressRanges } from './ranges.js';
import type { Backend } from './service.js';
import type { LbSettings, ServiceSettings } from './settings.js';
import { SnatPorts } from './snat-ports.js';
import { LbStage } from './stage.js';

interface LoadBalancerOptions {
  settings: LbSettings;
  prober: HealthProber;
  random?: RandomSource;
  /** Seed of the connection table's bucket hash (default random). */
  seed?: number;
  onHealthChange?: (b: Backend, healthy: boolean, why: string) => void;
}

/** What apply() changed, by service name. */
export interface ApplyResult {
  added: string[];
  removed: string[];
  updated: Record<string, BackendChange>;
  unchanged: string[];
}

export class LoadBalancer {
  readonly balancer: Balancer;
  readonly conntrack: Conntrack;
  readonly answers = new AnswerPlane();
  readonly health: HealthMonitor;
  readonly stage: LbStage;
  private settings: LbSettings;
  private datapath: Datapath | null = null;

  constructor(options: LoadBalancerOptions) {
    const random = options.random ?? new CryptoRandom();
    const s = options.settings;
    this.settings = s;
    this.balancer = new Balancer({ random });
    this.conntrack = new Conntrack({ capacity: s.conntrackMax, seed: options.seed });
    this.health = new HealthMonitor({ balancer: this.balancer, prober: options.prober, random, onChange: options.onHealthChange });
    this.stage = new LbStage({
      balancer: this.balancer,
      conntrack: this.conntrack,
      answers: this.answers,
      snatPorts: new SnatPorts(s.snatPorts[0], s.snatPorts[1], random),
      ranges: new AddressRanges(s.serviceRanges),
      snatV4: s.snatV4,
      snatV6: s.snatV6,
      routes: null,
      health: this.health,
    });
    this.balancer.batch(() => {
      for (const svc of s.services) this.balancer.add(svc);
    });
  }

  /** Mounts the stage and the answer plane on a datapath (once). */
  mount(datapath: Datapath): void {
    datapath.addPlane(this.answers, null);
    datapath.translate = this.stage;
    this.stage.routes = datapath.routes;
    this.datapath = datapath;
  }

  /** Takes the stage off its datapath (the answer plane stays mounted, idle). */
  unmount(): void {
    if (this.datapath !== null && this.datapath.translate === this.stage) this.datapath.translate = null;
    this.datapath = null;
  }

  get current(): LbSettings {
    return this.settings;
  }

  /**
   * Applies changed settings. Services are matched by name: one whose settings are equal
   * is not touched; one whose address changed is removed and added; otherwise it is
   * updated in place, and its unchanged backends keep their flows. ServiceRange and the
   * SNAT addresses take effect for new flows. ConntrackMax and SnatPorts need a restart
   * of the interface (the caller rejects a change of them, or recreates the LB).
   */
  apply(next: LbSettings): ApplyResult {
    return this.balancer.batch(() => this.applyServices(next));
  }

  private applyServices(next: LbSettings): ApplyResult {
    const result: ApplyResult = { added: [], removed: [], updated: {}, unchanged: [] };
    const wanted = new Map(next.services.map((s) => [s.name, s]));
    const old = new Map(this.settings.services.map((s) => [s.name, s]));
    // Every removal first (services gone, and those whose address changed), then the
    // additions: the next set is valid as a whole (names and addresses unique), so no
    // addition can clash with a service on its way out, whatever the order of the file.
    const replaced: ServiceSettings[] = [];
    for (const svc of this.balancer.list()) {
      const want = wanted.get(svc.name);
      if (want === undefined) {
        this.balancer.remove(svc.name);
        result.removed.push(svc.name);
      } else if (svc.family !== want.family || svc.port !== want.port || svc.proto !== want.proto || !sameBytes(svc.vip, want.vip)) {
        this.balancer.remove(svc.name);
        replaced.push(want);
      }
    }
    for (const want of next.services) {
      const was = old.get(want.name);
      if (this.balancer.get(want.name) === undefined) {
        this.balancer.add(want);
        if (replaced.includes(want)) result.removed.push(want.name);
        result.added.push(want.name);
      } else if (was !== undefined && sameService(was, want)) {
        result.unchanged.push(want.name);
      } else {
        result.updated[want.name] = this.balancer.update(want);
      }
    }
    this.stage.ranges = new AddressRanges(next.serviceRanges);
    this.stage.snatV4 = next.snatV4;
    this.stage.snatV6 = next.snatV6;
    this.settings = next;
    return result;
  }

  close(): void {
    this.unmount();
    this.health.close();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Equal settings, line numbers aside. */
function sameService(a: ServiceSettings, b: ServiceSettings): boolean {
  const strip = (s: ServiceSettings) =>
    JSON.stringify({ ...s, line: 0, vip: [...s.vip], backends: s.backends.map((x) => ({ ...x, line: 0, address: [...x.address] })) });
  return strip(a) === strip(b);
}
