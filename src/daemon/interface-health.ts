/**
 * What the service side (systemd STATUS=, /readyz, /metrics) reads of a running interface,
 * behind one small interface, so the rest does not depend on the daemon's inner shape.
 *
 * Ready means: the link is up, the device runs, and every plane is ready — for WireGuard,
 * a private key, at least one peer, and at least one completed handshake since start.
 */
import { readFileSync } from 'node:fs';
import { MetricsText } from '../control/prometheus-text.js';
import { interfaceDrops } from './interface-ops.js';
import { writeInterfaceMetrics } from './metrics.js';
import type { WgDaemon } from './wg-daemon.js';

export interface Readiness {
  ready: boolean;
  /** Why not, one short phrase each; empty when ready. */
  reasons: string[];
}

export interface InterfaceHealth {
  readonly ifname: string;
  isReady(): Readiness;
  /** One line for `systemctl status`: planes, peers, handshakes, traffic. */
  summary(): string;
  /** Prometheus text. */
  metrics(): string;
  /** Calls fn when readiness or the summary may have changed (a handshake); returns its removal. */
  onChange(fn: () => void): () => void;
}

/** The part of a WgDaemon read here. */
export type HealthSource = Pick<WgDaemon, 'ifname' | 'device' | 'pool' | 'tun' | 'datapath' | 'hosted'>;

const IFF_UP = 0x1;

/** The link's flags from sysfs (the caller's network namespace), or null when it is gone. */
function linkFlags(ifname: string): number | null {
  try {
    return Number.parseInt(readFileSync(`/sys/class/net/${ifname}/flags`, 'utf8').trim(), 16);
  } catch {
    return null;
  }
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

export function wgInterfaceHealth(daemon: HealthSource, options: { flags?: (ifname: string) => number | null } = {}): InterfaceHealth {
  const flags = options.flags ?? linkFlags;
  const { device, datapath } = daemon;
  const handshaken = () => device.getPeers().filter((p) => p.lastHandshakeWallMs > 0);

  return {
    ifname: daemon.ifname,

    isReady(): Readiness {
      const reasons: string[] = [];
      const f = flags(daemon.ifname);
      if (f === null) reasons.push(`interface ${daemon.ifname} not found`);
      else if ((f & IFF_UP) === 0) reasons.push(`interface ${daemon.ifname} is down`);
      if (!device.up || device.isClosed) reasons.push('the device is stopped');
      if (device.publicKey === null) reasons.push('wireguard: no private key');
      if (device.peerCount === 0) reasons.push('wireguard: no peers');
      else if (handshaken().length === 0) reasons.push('wireguard: no handshake completed yet');
      for (const plane of daemon.hosted) {
        const r = plane.ready();
        if (!r.ready) reasons.push(`${plane.name}: ${r.reason ?? 'not ready'}`);
      }
      return { ready: reasons.length === 0, reasons };
    },

    summary(): string {
      const peers = device.getPeers();
      const done = handshaken();
      let rx = 0;
      let tx = 0;
      for (const p of peers) {
        rx += p.rxBytes;
        tx += p.txBytes;
      }
      const planes = datapath.planes.map((p) => p.name).join('+');
      return `${daemon.ifname}: ${planes}, ${peers.length} peer${peers.length === 1 ? '' : 's'}, ${done.length} with a handshake; rx ${bytes(rx)}, tx ${bytes(tx)}; ${interfaceDrops(datapath).total()} dropped`;
    },

    onChange(fn: () => void): () => void {
      const on = () => fn();
      device.on('handshake', on);
      device.on('keysZeroed', on);
      return () => {
        device.off('handshake', on);
        device.off('keysZeroed', on);
      };
    },

    metrics(): string {
      const m = new MetricsText();
      const iface = { interface: daemon.ifname };
      const ready = this.isReady().ready ? 1 : 0;
      m.family('ferry_ready', 'gauge', 'Whether the interface is up and every plane is ready (what /readyz answers).').sample('ferry_ready', iface, ready);
      writeInterfaceMetrics(m, daemon, interfaceDrops(datapath));
      return m.toString();
    },
  };
}
