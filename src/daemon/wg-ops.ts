/** The control-socket operations of a WireGuard interface: status, drops, stats. */
import type { ControlServer } from '../control/control-server.js';
import { formatKeyBase64 } from '../wireguard/keys.js';
import type { BufferPool } from '../buffer/pool.js';
import type { TunDevice } from '../io/tun.js';
import type { WgDevice } from '../wireguard/device.js';
import type { UdpSocket } from '../io/udp.js';

/** What the operations read; all of it exists before the daemon's sockets do. */
export interface WgOpsSource {
  ifname: string;
  device: WgDevice;
  pool: BufferPool;
  tun: TunDevice;
  /** Monotonic ms at start, for uptime. */
  startedAt: number;
}

export function registerWgOps(control: ControlServer, daemon: WgOpsSource): void {
  const { device, pool, tun } = daemon;
  control.handle('status', () => {
    const pub = device.publicKey;
    return {
      interface: daemon.ifname,
      kind: 'wireguard',
      publicKey: pub ? formatKeyBase64(pub) : null,
      listenPort: device.listenPort,
      fwmark: device.fwmark,
      mtu: device.mtu,
      up: device.up,
      peers: device.peerCount,
      uptimeSeconds: Math.round((performance.now() - daemon.startedAt) / 1000),
      pid: process.pid,
    };
  });
  control.handle('drops', () => device.drops.snapshot());
  control.handle('stats', () => {
    const udp = device.udp as Partial<UdpSocket>;
    const mem = process.memoryUsage();
    return {
      pool: { slots: pool.slotCount, slotSize: pool.slotSize, inUse: pool.inUse, exhausted: pool.exhausted },
      tun: { read: tun.readPackets, written: tun.writtenPackets, writeErrors: tun.writeErrors, truncated: tun.truncated },
      udp: { received: udp.received ?? 0, sent: udp.sent ?? 0, sendErrors: udp.sendErrors ?? 0, truncated: udp.truncated ?? 0 },
      drops: device.drops.total(),
      memory: { rss: mem.rss, heapUsed: mem.heapUsed, arrayBuffers: mem.arrayBuffers },
    };
  });
}
