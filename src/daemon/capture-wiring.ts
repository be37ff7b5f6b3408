/**
 * Puts capture on an interface daemon: the hub that becomes the datapath's tap while a
 * capture runs, the control operations `capture` and `capture-stop`, the names captures
 * give peers (WireGuard public keys) and VTEPs (their addresses), and the WireGuard key
 * log: to every capture started with --keys, and appended to FERRY_KEYLOG_FILE when that
 * is set. Key material goes nowhere else (never to the logs).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { CaptureHub } from '../capture/capture-hub.js';
import { registerCaptureOps } from '../capture/capture-ops.js';
import { vxlanPeerOf, wireguardPeerOf } from '../capture/attribution.js';
import type { ControlServer } from '../control/control-server.js';
import type { Datapath } from '../datapath/datapath.js';
import type { VxlanPlane } from '../vxlan/l3-plane.js';
import { VtepPeer } from '../vxlan/vtep-peer.js';
import type { WgDevice } from '../wireguard/device.js';
import { handshakeKeyLog, staticKeyLog } from '../wireguard/key-log.js';
import { formatKeyBase64 } from '../wireguard/keys.js';
import { Peer } from '../wireguard/peer.js';
import type { Logger } from './logger.js';

export interface CaptureWiring {
  hub: CaptureHub;
  close(): void;
}

export function mountCapture(control: ControlServer, datapath: Datapath, device: WgDevice, ifname: string, logger: Logger, keyLogPath = process.env.FERRY_KEYLOG_FILE): CaptureWiring {
  let vxlan: VxlanPlane | null = null;
  const hub = new CaptureHub({
    target: datapath,
    describe: (ref) => (ref instanceof Peer ? formatKeyBase64(ref.publicKey) : ref instanceof VtepPeer ? ref.remote : null),
    attribute: (plane, slab, off, len) => {
      if (plane === device.name) return wireguardPeerOf(device.indexTable, slab, off, len);
      if (plane !== 'vxlan') return null;
      // Mounted after this wiring (a plane module): found on the first capture that needs it.
      vxlan ??= (datapath.plane('vxlan') as VxlanPlane | undefined) ?? null;
      return vxlan === null ? null : vxlanPeerOf(vxlan.peers, slab, off, len);
    },
  });
  let fd = -1;
  if (keyLogPath !== undefined && keyLogPath !== '') {
    fd = openSync(keyLogPath, 'a', 0o600);
    logger.warn({ ifname, keyLogFile: keyLogPath }, 'FERRY_KEYLOG_FILE is set: the WireGuard secrets of every handshake are appended to it (whoever reads it can decrypt this interface\'s traffic)');
  }
  device.keyLog = (peer) => {
    const toCaptures = hub.wantsSecrets;
    if (!toCaptures && fd < 0) return;
    const lines = handshakeKeyLog(peer.handshake);
    if (toCaptures) hub.secrets(lines);
    if (fd >= 0) {
      try {
        writeSync(fd, lines);
      } catch (err) {
        logger.warn({ ifname, keyLogFile: keyLogPath, err: (err as Error).message }, 'cannot append to FERRY_KEYLOG_FILE');
      }
    }
  };
  registerCaptureOps(control, {
    ifname,
    hub,
    staticSecrets: () => {
      const identity = device.identity;
      return identity === null ? null : staticKeyLog(identity, device.getPeers().map((p) => p.publicKey));
    },
  });
  return {
    hub,
    close() {
      device.keyLog = null;
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
}
