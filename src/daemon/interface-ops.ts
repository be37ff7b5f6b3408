/**
 * The control-socket operations of an interface, over every plane it runs: status, drops
 * (by reason for the interface, per plane, per WireGuard peer and what hosted planes add:
 * per VTEP), peers (what `ferry top`
 * shows of each WireGuard peer) and stats.
 */
import type { BufferPool } from '../buffer/pool.js';
import type { ControlServer } from '../control/control-server.js';
import type { Datapath } from '../datapath/datapath.js';
import type { TunDevice } from '../io/tun.js';
import type { UdpSocket } from '../io/udp.js';
import { decodeEndpoint, formatEndpoint } from '../io/endpoint.js';
import { DropCounters } from '../stats/drop-reasons.js';
import { formatPrefix } from '../table/prefix-trie.js';
import type { WgDevice } from '../wireguard/device.js';
import { formatKeyBase64 } from '../wireguard/keys.js';
import type { HostedPlane } from './plane-module.js';

/** What the operations read; all of it exists before the daemon's sockets do. */
interface InterfaceOpsSource {
  ifname: string;
  datapath: Datapath;
  device: WgDevice;
  pool: BufferPool;
  tun: TunDevice;
  hosted: readonly HostedPlane[];
  /** Monotonic ms at start, for uptime. */
  startedAt: number;
}

/** Drops of the whole interface: the datapath's and every plane's, by reason. */
export function interfaceDrops(datapath: Datapath): DropCounters {
  const total = new DropCounters();
  const add = (c: DropCounters) => {
    for (let i = 1; i < c.counts.length; i++) total.counts[i] += c.counts[i];
  };
  add(datapath.drops);
  for (const plane of datapath.planes) add(plane.drops);
  return total;
}

export function registerInterfaceOps(control: ControlServer, src: InterfaceOpsSource): void {
  const { datapath, device, pool, tun } = src;
  control.handle('status', () => {
    const pub = device.publicKey;
    return {
      interface: src.ifname,
      kind: datapath.planes.map((p) => p.name).join('+'),
      publicKey: pub ? formatKeyBase64(pub) : null,
      listenPort: device.listenPort,
      fwmark: device.fwmark,
      mtu: datapath.mtu,
      up: datapath.isUp,
      peers: device.peerCount,
      routes: datapath.routes.size,
      offload: tun.offloads !== null ? 'on' : 'off',
      ...Object.fromEntries(src.hosted.map((h) => [h.name, h.status()])),
      uptimeSeconds: Math.round((performance.now() - src.startedAt) / 1000),
      pid: process.pid,
    };
  });
  control.handle('drops', () => {
    const peers: Record<string, Record<string, number>> = {};
    for (const peer of device.getPeers()) if (peer.drops !== null && peer.drops.total() > 0) peers[formatKeyBase64(peer.publicKey)] = peer.drops.snapshot();
    return {
      total: interfaceDrops(datapath).snapshot(),
      datapath: datapath.drops.snapshot(),
      planes: Object.fromEntries(datapath.planes.map((p) => [p.name, p.drops.snapshot()])),
      peers,
      ...Object.assign({}, ...src.hosted.map((h) => h.drops?.() ?? {})),
    };
  });
  control.handle('peers', () =>
    device.getPeers().map((p) => {
      const ep = decodeEndpoint(p.endpoint);
      return {
        publicKey: formatKeyBase64(p.publicKey),
        endpoint: ep === null ? null : formatEndpoint(ep),
        allowedIps: device.allowedIpsOf(p).map(formatPrefix),
        rxBytes: p.rxBytes,
        txBytes: p.txBytes,
        latestHandshake: Math.floor(p.lastHandshakeWallMs / 1000),
        persistentKeepalive: p.persistentKeepaliveInterval,
        drops: p.drops === null ? 0 : p.drops.total(),
      };
    }),
  );
  control.handle('stats', () => {
    const udp = (datapath.portOf(device) ?? {}) as Partial<UdpSocket>;
    const mem = process.memoryUsage();
    return {
      pool: {
        slots: pool.slotCount,
        slotSize: pool.slotSize,
        largeSlots: pool.largeSlotCount,
        largeSlotSize: pool.largeSlotSize,
        inUse: pool.inUse,
        exhausted: pool.exhausted,
        largeExhausted: pool.largeExhausted,
      },
      tun: {
        read: tun.readPackets,
        written: tun.writtenPackets,
        writeErrors: tun.writeErrors,
        readErrors: tun.readErrors,
        truncated: tun.truncated,
        offload: tun.offloads === null ? null : tun.offloads.counters(),
      },
      udp: {
        received: udp.received ?? 0,
        sent: udp.sent ?? 0,
        sendErrors: udp.sendErrors ?? 0,
        sendBlocked: udp.sendBlocked ?? 0,
        recvErrors: udp.recvErrors ?? 0,
        sourceResets: udp.sourceResets ?? 0,
        truncated: udp.truncated ?? 0,
      },
      datapath: { ...datapath.stats },
      drops: interfaceDrops(datapath).total(),
      memory: { rss: mem.rss, heapUsed: mem.heapUsed, arrayBuffers: mem.arrayBuffers },
    };
  });
}
