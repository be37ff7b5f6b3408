/**
 * One WireGuard interface as a daemon: the orchestrator that owns the pool, the TUN, the
 * UDP port, the WgDevice and the UAPI socket, and decides when to exit — on SIGTERM or
 * SIGINT, when the UAPI socket file is deleted, or when the interface is deleted
 * (wireguard-go's three exit conditions).
 */
import { existsSync } from 'node:fs';
import { BufferPool, type PoolOptions } from '../buffer/pool.js';
import { TunDevice } from '../io/tun.js';
import { UdpSocket } from '../io/udp.js';
import { isSystemError } from '../errors.js';
import { UapiServer, uapiSocketPath, UAPI_DIR } from '../control/uapi-server.js';
import { ControlServer, controlSocketPath, CONTROL_DIR } from '../control/control-server.js';
import { registerWgOps } from './wg-ops.js';
import { WgDevice, DEFAULT_MTU } from '../wireguard/device.js';
import { initCrypto } from '../wireguard/crypto.js';
import { DeviceUapiBackend } from './uapi-backend.js';
import { keyFingerprint, type Logger } from './logger.js';
import type { Peer } from '../wireguard/peer.js';

export interface WgDaemonOptions {
  ifname: string;
  logger: Logger;
  mtu?: number;
  pool?: PoolOptions;
  uapiDir?: string;
  /** Directory of the ferry control socket (default /run/ferry). */
  controlDir?: string;
  /** How often to check that the UAPI socket file still exists. */
  socketCheckMs?: number;
}

/** Opens the underlay socket: dual-stack IPv6 when the host has IPv6, else IPv4. */
export function openUnderlay(pool: BufferPool, port: number, mark: number): UdpSocket {
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

  private constructor(
    readonly ifname: string,
    readonly pool: BufferPool,
    readonly tun: TunDevice,
    readonly device: WgDevice,
    readonly uapi: UapiServer,
    readonly control: ControlServer,
    /** Applies UAPI-style changes; shared by the UAPI socket and config reloads. */
    readonly backend: DeviceUapiBackend,
    private readonly logger: Logger,
  ) {
    this.exited = new Promise((resolve) => (this.exitResolve = resolve));
  }

  static async start(options: WgDaemonOptions): Promise<WgDaemon> {
    const { ifname, logger } = options;
    await initCrypto();
    const pool = new BufferPool(options.pool);
    const tun = TunDevice.open(ifname, { pool, mtu: options.mtu ?? DEFAULT_MTU });
    let udp: UdpSocket | undefined;
    let device: WgDevice | undefined;
    try {
      udp = openUnderlay(pool, 0, 0);
      device = new WgDevice({ pool, tun, udp, mtu: options.mtu ?? DEFAULT_MTU, logger: logger.child({ ifname }) });
      const dev = device;
      const backend = new DeviceUapiBackend(dev, (port, mark) => openUnderlay(pool, port, mark));
      // The control socket first: the UAPI socket appearing is what wg-quick and scripts
      // wait for, so everything must answer by then.
      const control = new ControlServer(controlSocketPath(ifname, options.controlDir ?? CONTROL_DIR));
      registerWgOps(control, { ifname: tun.name, device: dev, pool, tun, startedAt: performance.now() });
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
      const daemon = new WgDaemon(tun.name, pool, tun, dev, uapi, control, backend, logger);
      daemon.watch(options.socketCheckMs ?? 1000);
      dev.start();
      logger.info({ ifname: tun.name, listenPort: dev.listenPort, uapi: uapi.path }, 'interface up');
      return daemon;
    } catch (err) {
      if (device !== undefined) device.close();
      else {
        udp?.close();
        tun.close();
      }
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
    this.device.close();
    this.exitResolve(reason);
  }

  private watch(socketCheckMs: number): void {
    this.tun.onError = (err) => {
      void this.shutdown(`interface ${this.ifname} went away (${err.code})`);
    };
    this.socketTimer = setInterval(() => {
      if (!existsSync(this.uapi.path)) void this.shutdown(`UAPI socket ${this.uapi.path} was deleted`);
    }, socketCheckMs);
    const peerName = (p: Peer) => keyFingerprint(p.publicKey);
    this.device.on('handshake', (peer, initiator) => this.logger.debug({ peer: peerName(peer), initiator }, 'handshake complete'));
    this.device.on('endpoint', (peer) => this.logger.debug({ peer: peerName(peer) }, 'peer endpoint changed'));
    this.device.on('handshakeGiveUp', (peer) => this.logger.info({ peer: peerName(peer) }, 'handshake did not complete after 90 s; giving up until there is traffic'));
  }
}
