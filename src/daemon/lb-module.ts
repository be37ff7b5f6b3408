/**
 * The load balancer in the interface daemon: when the config file has [FerryLb], build
 * the LoadBalancer from its [FerryService] sections, mount its translation stage
 * (datapath.translate) and its answer plane (the RSTs and port unreachables it sends),
 * run its health checks on the datapath's tick, and answer `ferry service …` and `ferry
 * conntrack` on the control socket. A reload (SIGHUP, ferry reload) checks the whole file
 * first, then applies only what changed: services added, removed or changed; a service
 * whose section did not change is not touched, and neither are its flows. ConntrackMax
 * and SnatPorts size tables made at start, and a datapath cannot unmount the stage's
 * plane: changing them, or removing [FerryLb], needs ferry down / ferry up, and is refused.
 */
import { ConfigError } from '../config/issues.js';
import { LB_SECTION } from '../config/lb-sections.js';
import { lbSettingsFromConfig } from '../config/lb-settings.js';
import type { WgQuickConfig } from '../config/model.js';
import { NetHealthProber } from '../lb/health-probes.js';
import { type ApplyResult, LoadBalancer } from '../lb/load-balancer.js';
import { MAX_BACKENDS_PER_SERVICE, type LbSettings } from '../lb/settings.js';
import { registerLbOps } from './lb-ops.js';
import { type HostedPlane, type PlaneHost, registerPlaneModule } from './plane-module.js';
import { writeLbMetrics } from './lb-metrics.js';

const NAME = 'lb';

function refuse(config: WgQuickConfig, line: number, message: string): never {
  throw new ConfigError([{ file: config.source.file, line, message }]);
}

/** The line of a [FerryLb] key, else of the section. */
function lbLine(config: WgQuickConfig, key: string): number {
  const section = config.extensions.find((s) => s.name.toLowerCase() === LB_SECTION.toLowerCase());
  return section?.entries.find((e) => e.key.toLowerCase() === key.toLowerCase())?.line ?? section?.line ?? 0;
}

/** What a running LB cannot take without a restart; throws (nothing applied) when `want` asks for it. */
function checkRestartFree(now: LbSettings, want: LbSettings, next: WgQuickConfig): void {
  const restart = 'that needs a restart (ferry down, ferry up): the reload was refused';
  if (want.conntrackMax !== now.conntrackMax) refuse(next, lbLine(next, 'ConntrackMax'), `ConntrackMax changed from ${now.conntrackMax} to ${want.conntrackMax}: ${restart}`);
  if (want.snatPorts[0] !== now.snatPorts[0] || want.snatPorts[1] !== now.snatPorts[1]) {
    refuse(next, lbLine(next, 'SnatPorts'), `SnatPorts changed from ${now.snatPorts.join('-')} to ${want.snatPorts.join('-')}: ${restart}`);
  }
  for (const s of want.services) {
    if (s.backends.length > MAX_BACKENDS_PER_SERVICE) refuse(next, s.line, `service ${s.name} has ${s.backends.length} backends: expected at most ${MAX_BACKENDS_PER_SERVICE}`);
  }
}

function summary(r: ApplyResult): Record<string, unknown> {
  return { added: r.added, removed: r.removed, updated: Object.keys(r.updated), unchanged: r.unchanged.length };
}

function mount(config: WgQuickConfig, host: PlaneHost): HostedPlane | null {
  const settings = lbSettingsFromConfig(config);
  if (settings === null) return null;
  const log = host.logger.child({ ifname: host.ifname, plane: NAME });
  const lb = new LoadBalancer({
    settings,
    prober: new NetHealthProber(),
    onHealthChange: (b, healthy, why) => {
      const fields = { service: b.service.name, backend: b.name };
      if (healthy) log.info(fields, `backend ${b.name} up: ${why}`);
      else log.warn(fields, `backend ${b.name} down: ${why}`);
    },
  });
  lb.mount(host.datapath);
  let current = config;
  registerLbOps(host.control, {
    lb,
    config: () => current,
    changed: (next, what, result) => {
      current = next;
      log.info(summary(result), `control: ${what}`);
    },
    now: () => host.datapath.now,
  });
  log.info({ services: settings.services.length, conntrackMax: settings.conntrackMax }, 'load balancer up');

  return {
    name: NAME,
    status: () => {
      const services = lb.balancer.list();
      const backends = services.flatMap((s) => s.backends);
      return {
        services: services.length,
        backends: backends.length,
        backendsUp: backends.filter((b) => b.eligible).length,
        conntrack: lb.conntrack.count,
        conntrackMax: lb.conntrack.capacity,
        newFlows: lb.stage.stats.newFlows,
      };
    },
    metrics: (m, labels) => writeLbMetrics(m, labels, lb),
    ready: () => (host.datapath.translate === lb.stage ? { ready: true } : { ready: false, reason: 'the load balancer is not mounted' }),
    reload(next: WgQuickConfig): void {
      const want = lbSettingsFromConfig(next);
      if (want === null) refuse(next, 0, `removing [${LB_SECTION}] from a running interface needs a restart (ferry down, ferry up): the reload was refused`);
      checkRestartFree(lb.current, want, next);
      const result = lb.apply(want);
      current = next;
      log.info(summary(result), 'reload: load balancer applied');
    },
    close: () => lb.close(),
  };
}

registerPlaneModule({ name: NAME, mount, wanted: (config) => lbSettingsFromConfig(config) !== null, section: LB_SECTION });
