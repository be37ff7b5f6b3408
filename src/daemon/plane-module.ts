/**
 * How a feature joins an interface daemon. WireGuard is always there (the UAPI socket and
 * `wg` drive it, config file or not); every other plane or stage (VXLAN, the load
 * balancer) is a PlaneModule: when the interface's config file asks for it (its [Ferry…]
 * sections), mount() puts the plane on the datapath (Datapath.addPlane with its own port)
 * or the stage before routing (datapath.translate), registers its control operations, and
 * returns a handle the daemon uses for status, readiness, reloads and shutdown.
 */
import type { BufferPool } from '../buffer/pool.js';
import { ConfigError } from '../config/issues.js';
import type { WgQuickConfig } from '../config/model.js';
import type { ControlServer } from '../control/control-server.js';
import type { Labels, MetricsText } from '../control/prometheus-text.js';
import type { Datapath } from '../datapath/datapath.js';
import type { DeviceKind } from '../datapath/l2-path.js';
import type { UdpOpenOptions } from '../io/udp.js';
import type { UdpPort } from '../io/ports.js';
import type { Logger } from './logger.js';

export interface PlaneHost {
  readonly ifname: string;
  readonly pool: BufferPool;
  readonly datapath: Datapath;
  readonly control: ControlServer;
  readonly logger: Logger;
  /** Opens a UDP socket in the daemon's namespace on the daemon's pool. */
  openUdp(options: Omit<UdpOpenOptions, 'pool'>): UdpPort;
}

export interface HostedPlane {
  readonly name: string;
  /** What `ferry status` shows for it. */
  status(): Record<string, unknown>;
  /** Ready for traffic (the /readyz probe); the reason when not. */
  ready(): { ready: boolean; reason?: string };
  /**
   * Applies a changed config file (SIGHUP, syncconf) without disturbing what did not
   * change. Throws to refuse the file; then nothing of it may have been applied.
   * 'removed': the file no longer asks for the feature, which took itself off the
   * datapath (Datapath.removePlane); the daemon forgets the handle.
   */
  reload(config: WgQuickConfig): void | 'removed';
  /** Its finer drop counters for `ferry drops`: a part ("vteps") → owner → reason → count. */
  drops?(): Record<string, Record<string, Record<string, number>>>;
  /** Adds its own `ferry_*` families to /metrics; `labels` name the interface. */
  metrics?(m: MetricsText, labels: Labels): void;
  close(): void;
}

export interface PlaneModule {
  readonly name: string;
  /** Mounts the feature when `config` asks for it; null when it does not. */
  mount(config: WgQuickConfig, host: PlaneHost): HostedPlane | null;
  /** The device the feature needs when `config` asks for it ('tap': an L2 VTEP); null or absent: a TUN will do. */
  device?(config: WgQuickConfig): DeviceKind | null;
  /**
   * Whether `config` asks for the feature (throws on a bad file). The daemon refuses a
   * reload that asks for a feature it did not mount at start, rather than ignore it.
   */
  wanted?(config: WgQuickConfig): boolean;
  /** The section that asks for it, for messages ("FerryLb"). */
  readonly section?: string;
}

const modules: PlaneModule[] = [];

/** Registers a feature; its module calls this once at load (src/daemon/modules.ts imports them all). */
export function registerPlaneModule(module: PlaneModule): void {
  if (!modules.some((m) => m.name === module.name)) modules.push(module);
}

export function planeModules(): readonly PlaneModule[] {
  return modules;
}

/**
 * Refuses a reload that asks for a feature the daemon did not mount at start (its section
 * added to a running interface's file): mounting it later is not supported, and ignoring
 * it would leave the file and the interface out of step.
 */
export function refuseNewModules(config: WgQuickConfig, hosted: readonly HostedPlane[]): void {
  for (const m of modules) {
    if (hosted.some((h) => h.name === m.name) || m.wanted?.(config) !== true) continue;
    const message = `adding [${m.section ?? m.name}] to a running interface needs a restart (ferry down, ferry up): the reload was refused`;
    throw new ConfigError([{ file: config.source.file, line: 0, message }]);
  }
}
