/**
 * Active health checks per backend, driven by the datapath's tick (no timers of its
 * own): each backend of a service with HealthCheck ≠ none is probed every
 * HealthInterval, ± 10% jitter so checks of many backends do not fall together; a probe
 * still running when the next is due delays it. UnhealthyThreshold failures in a row
 * take a backend out of its service's table (Balancer.setHealthy), HealthyThreshold
 * successes in a row bring it back. A backend starts healthy, so a service works from
 * its first packet.
 *
 * Passive failure: a UDP backend's port unreachable takes it out at once. It comes back
 * through its active checks, or, without any, after HealthInterval × HealthyThreshold.
 *
 * The probes themselves are behind HealthProber (health-probes.ts): unit tests use fakes.
 */
import type { Balancer } from './balancer.js';
import type { HealthProber } from './health-probes.js';
import { randomBelow, type RandomSource } from './random.js';
import type { Backend, Service } from './service.js';
import type { HealthHooks } from './stage.js';

/** ± this fraction of the interval. */
const HEALTH_JITTER = 0.1;
/** A probe gets at most this long (and at most 90% of the interval). */
const MAX_PROBE_TIMEOUT_MS = 5000;

interface HealthMonitorOptions {
  balancer: Balancer;
  prober: HealthProber;
  random: RandomSource;
  /** Told of every change of a backend's health (logs). */
  onChange?: (b: Backend, healthy: boolean, why: string) => void;
}

class BackendHealth {
  due = 0;
  running = false;
  okStreak = 0;
  failStreak = 0;
  /** After a passive failure without active checks: back at this time. */
  holdUntil = Infinity;
  probes = 0;
  failures = 0;
  lastError = '';
}

export class HealthMonitor implements HealthHooks {
  private readonly balancer: Balancer;
  private readonly prober: HealthProber;
  private readonly random: RandomSource;
  private readonly onChange: ((b: Backend, healthy: boolean, why: string) => void) | undefined;
  private readonly states = new Map<Backend, BackendHealth>();
  /** Services with active checks, as of balancer version seenVersion. */
  private checked: Service[] = [];
  private seenVersion = -1;
  private closed = false;

  constructor(options: HealthMonitorOptions) {
    this.balancer = options.balancer;
    this.prober = options.prober;
    this.random = options.random;
    this.onChange = options.onChange;
  }

  /** Probes that are due; backends back from a passive failure's hold. */
  tick(now: number): void {
    if (this.closed) return;
    if (this.seenVersion !== this.balancer.version) {
      // The configuration changed: which services are checked, which backends are gone.
      this.seenVersion = this.balancer.version;
      this.checked = this.balancer.list().filter((s) => s.health.kind !== 'none');
      for (const b of this.states.keys()) if (!b.configured || b.service.deleted) this.states.delete(b);
    }
    for (const s of this.checked) {
      for (const b of s.backends) {
        let st = this.states.get(b);
        if (st === undefined) {
          st = new BackendHealth();
          st.due = now + randomBelow(this.random, Math.max(1, s.health.intervalMs));
          this.states.set(b, st);
        }
        if (!st.running && now >= st.due) this.probe(s, b, st, now);
      }
    }
    // Passive failures of backends without active checks end after their hold.
    for (const [b, st] of this.states) {
      if (b.service.health.kind !== 'none') continue;
      if (!b.healthy && now >= st.holdUntil) this.set(b, true, 'passive failure hold ended');
      if (b.healthy) this.states.delete(b);
    }
  }

  /** A backend answered a flow with a port unreachable: out of its table now. */
  passiveFailure(b: Backend, now: number): void {
    let st = this.states.get(b);
    if (st === undefined) {
      st = new BackendHealth();
      st.due = now + b.service.health.intervalMs;
      this.states.set(b, st);
    }
    st.okStreak = 0;
    st.holdUntil = now + b.service.health.intervalMs * b.service.health.healthyThreshold;
    this.set(b, false, 'port unreachable from the backend');
  }

  /** Probe counters of a backend, for `ferry service show`. */
  status(b: Backend): { probes: number; failures: number; okStreak: number; failStreak: number; lastError: string } | null {
    const st = this.states.get(b);
    return st === undefined ? null : { probes: st.probes, failures: st.failures, okStreak: st.okStreak, failStreak: st.failStreak, lastError: st.lastError };
  }

  close(): void {
    this.closed = true;
    this.prober.close();
  }

  private probe(s: Service, b: Backend, st: BackendHealth, now: number): void {
    const h = s.health;
    const jitter = ((randomBelow(this.random, 2001) - 1000) / 1000) * HEALTH_JITTER;
    st.due = now + h.intervalMs * (1 + jitter);
    st.running = true;
    st.probes++;
    const timeout = Math.max(100, Math.min(MAX_PROBE_TIMEOUT_MS, h.intervalMs * 0.9));
    const address = b.host;
    const port = h.port !== 0 ? h.port : b.port;
    let result: Promise<boolean>;
    try {
      result = h.kind === 'tcp' ? this.prober.tcp(address, port, timeout) : h.kind === 'http' ? this.prober.http(address, port, h.path, h.status, timeout) : this.prober.icmp(b.family, address, timeout);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (ok) => this.result(b, st, ok, ok ? '' : `${h.kind} check failed`),
      (err: unknown) => this.result(b, st, false, err instanceof Error ? err.message : String(err)),
    );
  }

  private result(b: Backend, st: BackendHealth, ok: boolean, error: string): void {
    st.running = false;
    if (this.closed || !b.configured || b.service.deleted) return;
    const h = b.service.health;
    if (ok) {
      st.okStreak++;
      st.failStreak = 0;
      if (!b.healthy && st.okStreak >= h.healthyThreshold) this.set(b, true, `${st.okStreak} checks passed`);
      return;
    }
    st.failures++;
    st.lastError = error;
    st.failStreak++;
    st.okStreak = 0;
    if (b.healthy && st.failStreak >= h.unhealthyThreshold) this.set(b, false, `${st.failStreak} checks failed (${error})`);
  }

  private set(b: Backend, healthy: boolean, why: string): void {
    if (b.healthy === healthy) return;
    this.balancer.setHealthy(b, healthy);
    this.onChange?.(b, healthy, why);
  }
}
