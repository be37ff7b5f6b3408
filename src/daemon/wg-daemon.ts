/**
 * One interface as a daemon: the pool, the TUN, the datapath with its planes, the UAPI
 * socket and the ferry control socket, and the decision when to exit — on SIGTERM or
 * SIGINT, when the UAPI socket file is deleted, or when the interface is deleted
 * (wireguard-go's three exit conditions).
 *
 * The WireGuard plane is always mounted (wg and wg-quick configure it over UAPI, with or
 * without a config file); the other planes come from the interface's config file
 * (FERRY_CONFIG_FILE, as ferry up and the systemd unit pass it) through the plane modules.
 */
import { existsSync } from 'node:fs';
import { BufferPool, type PoolOptions } from '../buffer/pool.js';
import { loadConfig } from '../config/config-file.js';
import type { WgQuickConfig } from '../config/model.js';
import { ControlServer, controlSocketPath, CONTROL_DIR } from '../control/control-server.js';
import { UapiServer } from '../control/uapi-server.js';
import { UAPI_DIR, uapiSocketPath } from '../uapi/socket-path.js';
import { Datapath } from '../datapath/datapath.js';
import { isSystemError } from '../errors.js';
import { getLinkMtu, TunDevice } from '../io/tun.js';
import { UdpSocket, type UdpOpenOptions } from '../io/udp.js';
import type { UdpPort } from '../io/ports.js';
import { initCrypto } from '../wireguard/crypto.js';
import { DEFAULT_MTU, WgDevice } from '../wireguard/device.js';
import { type CaptureWiring, mountCapture } from './capture-wiring.js';
import { registerInterfaceOps } from './interface-ops.js';
import type { Logger } from './logger.js';
import { logPeerEvents } from './peer-log.js';
import './modules.js';
import { type HostedPlane, type PlaneHost, planeModules, refuseNewModules } from './plane-module.js';
import { registerPlanesSync } from './planes-sync.js';
import { daemonPoolOptions } from './pool-size.js';
import { DeviceUapiBackend } from './uapi-backend.js';
import { IoErrorLog } from './io-error-log.js';
import { offloadSetting } from './offload-setting.js';

interface WgDaemonOptions {
  ifname: string;
  logger: Logger;
  mtu?: number;
  pool?: PoolOptions;
  uapiDir?: string;
  /** Directory of the ferry control socket (default /run/ferry). */
  controlDir?: string;
  /** How often to check that the UAPI socket file still exists and the MTU is unchanged. */
  socketCheckMs?: number;
  /** The interface's config file: its [Ferry…] sections choose the planes beside WireGuard. */
  configFile?: string;
  /** TUN offloads; default from FERRY_OFFLOAD, then the file's FerryOffload, then on (offload-setting.ts). */
  offload?: boolean;
}

/** Opens an underlay socket: dual-stack IPv6 when the host has IPv6, else IPv4. */
function openUnderlay(pool: BufferPool, port: number, mark: number): UdpSocket {
  const rcvbuf = 4 * 1024 * 1024;
  const sndbuf = 4 * 1024 * 1024;
  try {
    return UdpSocket.open({ pool, family: 6, address: '::', port, mark: mark || undefined, rcvbuf, sndbuf, v6only: false });
  } catch (err) {
    if (isSystemError(err) && (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL')) {
      return UdpSocket.open({ pool, family: 4, address: '0.0.0.0', port, mark: mark || undefined, rcvbuf, sndbuf });
    }
    throw err;
  }
}

export class WgDaemon {
  private stopping = false;
  private socketTimer: NodeJS.Timeout | undefined;
  private exitResolve!: (reason: string) => void;
  /** Resolves with the reason once the daemon has shut down. */
  readonly exited: Promise<string>;
  /** Planes mounted from the config file (WireGuard is `device`); the control ops read this same array. */
  readonly hosted: HostedPlane[];
  /** What plane modules are given, at start and when a reload asks for a feature that was not mounted. */
  private planeHost!: PlaneHost;
  /** The config the planes were last given (start, reload, syncconf); null without a config file. */
  planesConfig: WgQuickConfig | null = null;
  /** `ferry capture`: the datapath's tap while a capture runs, and the key log. */
  capture: CaptureWiring | null = null;

  private constructor(
    readonly ifname: string,
    readonly pool: BufferPool,
    readonly tun: TunDevice,
    readonly datapath: Datapath,
    readonly device: WgDevice,
    readonly uapi: UapiServer,
    readonly control: ControlServer,
    /** Applies UAPI-style changes; shared by the UAPI socket and config reloads. */
    readonly backend: DeviceUapiBackend,
    private readonly logger: Logger,
    hosted: HostedPlane[],
  ) {
    this.hosted = hosted;
    this.exited = new Promise((resolve) => (this.exitResolve = resolve));
  }

  static async start(options: WgDaemonOptions): Promise<WgDaemon> {
    const { ifname, logger } = options;
    const config: WgQuickConfig | null = options.configFile === undefined ? null : loadConfig(options.configFile).config;
    await initCrypto();
    const pool = new BufferPool(daemonPoolOptions(options.pool));
    const mtu = options.mtu ?? DEFAULT_MTU;
    // An L2 VTEP needs a TAP (Ethernet frames); everything else runs on a TUN.
    const deviceKind = config !== null && planeModules().some((m) => m.device?.(config) === 'tap') ? 'tap' : 'tun';
    const offload = options.offload ?? offloadSetting(process.env, config);
    const tun = TunDevice.open(ifname, { pool, mtu, tap: deviceKind === 'tap', offload: offload && deviceKind === 'tun' });
    if (tun.offloadRefused !== null) logger.info({ ifname: tun.name }, `TUN offloads off: ${tun.offloadRefused}`);
    const ioErrors = new IoErrorLog(logger.child({ ifname: tun.name }));
    const datapath = new Datapath({ pool, tun, mtu, onIoError: ioErrors.report, device: deviceKind });
    const hosted: HostedPlane[] = [];
    let control: ControlServer | undefined;
    try {
      const device = new WgDevice({ pool, mtu, logger: logger.child({ ifname }) });
      datapath.addPlane(device, openUnderlay(pool, 0, 0));
      const backend = new DeviceUapiBackend(device, (port, mark) => openUnderlay(pool, port, mark), {
        current: () => datapath.portOf(device),
        replace: (udp) => datapath.setPort(device, udp),
      });
      // The control socket first: the UAPI socket appearing is what wg-quick and scripts
      // wait for, so everything must answer by then.
      control = new ControlServer(controlSocketPath(ifname, options.controlDir ?? CONTROL_DIR));
      const host: PlaneHost = {
        ifname: tun.name,
        pool,
        datapath,
        control,
        logger,
        openUdp: (o: Omit<UdpOpenOptions, 'pool'>): UdpPort => UdpSocket.open({ ...o, pool }),
      };
      const capture = mountCapture(control, datapath, device, tun.name, logger);
      if (config !== null) {
        for (const module of planeModules()) {
          const plane = module.mount(config, host);
          if (plane !== null) hosted.push(plane);
        }
      }
      registerInterfaceOps(control, { ifname: tun.name, datapath, device, pool, tun, hosted, startedAt: performance.now() });
      await control.listen();
      let uapi: UapiServer;
      try {
        uapi = await UapiServer.listen({
          path: uapiSocketPath(ifname, options.uapiDir ?? UAPI_DIR),
          backend,
          onError: (message) => logger.warn({ ifname }, `UAPI: ${message}`),
        });
      } catch (err) {
        await control.close();
        throw err;
      }
      const daemon = new WgDaemon(tun.name, pool, tun, datapath, device, uapi, control, backend, logger, hosted);
      daemon.planeHost = host;
      daemon.planesConfig = config;
      registerPlanesSync(control, daemon, logger.child({ ifname: tun.name }));
      daemon.capture = capture;
      daemon.watch(options.socketCheckMs ?? 1000);
      datapath.start();
      logger.info({ ifname: tun.name, listenPort: device.listenPort, planes: datapath.planes.map((p) => p.name), uapi: uapi.path }, 'interface up');
      return daemon;
    } catch (err) {
      for (const h of hosted) h.close();
      datapath.close();
      throw err;
    }
  }

  /** Stops everything; idempotent. The TUN is closed, so the kernel deletes the interface. */
  async shutdown(reason: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.socketTimer !== undefined) clearInterval(this.socketTimer);
    this.logger.info({ ifname: this.ifname, reason }, 'shutting down');
    await this.uapi.close();
    await this.control.close();
    for (const h of this.hosted) h.close();
    this.datapath.close();
    this.capture?.close();
    this.exitResolve(reason);
  }

  /**
   * Every hosted plane's reload, after WireGuard's (reload.ts); a plane the file no longer
   * asks for takes itself off, and a feature the file now asks for is mounted. Throws to
   * refuse (each plane checks the whole file before it changes anything).
   */
  reloadPlanes(config: WgQuickConfig): void {
    refuseNewModules(config, this.hosted);
    for (const h of [...this.hosted]) {
      if (h.reload(config) === 'removed') this.hosted.splice(this.hosted.indexOf(h), 1);
    }
    for (const module of planeModules()) {
      if (this.hosted.some((h) => h.name === module.name)) continue;
      const plane = module.mount(config, this.planeHost);
      if (plane !== null) this.hosted.push(plane);
    }
    this.planesConfig = config;
  }

  private watch(socketCheckMs: number): void {
    this.tun.onError = (err) => {
      void this.shutdown(`interface ${this.ifname} went away (${err.code})`);
    };
    this.socketTimer = setInterval(() => {
      if (!existsSync(this.uapi.path)) void this.shutdown(`UAPI socket ${this.uapi.path} was deleted`);
      else this.followMtu();
    }, socketCheckMs);
    logPeerEvents(this.device, this.logger.child({ ifname: this.ifname }));
  }

  /** Follows `ip link set mtu` (the link may have moved to another namespace: then keep what we have). */
  private followMtu(): void {
    let mtu: number;
    try {
      mtu = getLinkMtu(this.tun.name);
    } catch {
      return;
    }
    if (mtu !== this.datapath.mtu && mtu >= 68 && mtu <= 65535) {
      this.logger.info({ ifname: this.ifname, from: this.datapath.mtu, to: mtu }, 'interface MTU changed');
      this.datapath.mtu = mtu;
    }
  }
}
