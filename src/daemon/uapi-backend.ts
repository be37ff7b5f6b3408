/**
 * Applies UAPI operations to a WgDevice with wireguard-go's semantics, but all or
 * nothing: everything that can fail (a new listen port, limits) is checked or prepared
 * before the first change is made.
 */
import { decodeEndpoint } from '../io/endpoint.js';
import type { UdpPort } from '../io/ports.js';
import { isSystemError } from '../errors.js';
import type { UapiBackend } from '../control/uapi-server.js';
import { formatPrefix } from '../text/prefix.js';
import { UapiErrno, UapiError } from '../uapi/errors.js';
import { handshakeTime } from '../uapi/get-format.js';
import { allowedIpsOf, newDevice, type Device, type Peer } from '../uapi/model.js';
import type { WgDevice } from '../wireguard/device.js';
import { isZeroKey } from '../wireguard/keys.js';

/** Opens the UDP port for a listen port and mark; the daemon supplies the real one. */
type UdpOpener = (port: number, fwmark: number) => UdpPort;

/** The device's port as the datapath holds it (Datapath.portOf / setPort for the plane). */
interface DevicePort {
  current(): UdpPort | null;
  replace(udp: UdpPort): void;
}

interface BackendLimits {
  maxPeers: number;
  maxAllowedIps: number;
}

const DEFAULT_LIMITS: BackendLimits = { maxPeers: 65_536, maxAllowedIps: 1_048_576 };

export class DeviceUapiBackend implements UapiBackend {
  constructor(
    private readonly device: WgDevice,
    private readonly openUdp: UdpOpener,
    private readonly port: DevicePort | null = null,
    private readonly limits: BackendLimits = DEFAULT_LIMITS,
  ) {}

  get(): Device {
    const d = this.device;
    const dev = newDevice();
    const privateKey = d.getPrivateKey();
    if (privateKey !== null) dev.privateKey = privateKey;
    dev.listenPort = d.listenPort;
    dev.fwmark = d.fwmark;
    dev.peers = d.getPeers().map((p) => {
      const { sec, nsec } = handshakeTime(p.lastHandshakeWallMs);
      const peer: Peer = {
        publicKey: p.publicKey,
        remove: false,
        updateOnly: false,
        replaceAllowedIps: false,
        allowedIps: allowedIpsOf(d.allowedIpsOf(p)),
        persistentKeepaliveInterval: p.persistentKeepaliveInterval,
        lastHandshakeSec: sec,
        lastHandshakeNsec: nsec,
        txBytes: BigInt(p.txBytes),
        rxBytes: BigInt(p.rxBytes),
      };
      if (p.presharedKey !== null) peer.presharedKey = p.presharedKey;
      const ep = decodeEndpoint(p.endpoint);
      if (ep !== null) peer.endpoint = ep;
      return peer;
    });
    return dev;
  }

  set(change: Device): void {
    const d = this.device;
    this.checkLimits(change);

    // The steps that can fail for reasons outside the request come first: bind the new
    // port, or set the mark on the current socket.
    let newUdp: UdpPort | null = null;
    const mark = change.fwmark ?? d.fwmark;
    const portChanges = change.listenPort !== undefined && change.listenPort !== d.listenPort;
    const markChanges = change.fwmark !== undefined && change.fwmark !== d.fwmark;
    try {
      if (portChanges) newUdp = this.openUdp(change.listenPort as number, mark);
      else if (markChanges) this.port?.current()?.setMark?.(mark);
    } catch (err) {
      if (isSystemError(err) && err.code === 'EADDRINUSE') throw new UapiError(UapiErrno.AddressInUse, `listen port ${change.listenPort} is in use`);
      if (isSystemError(err)) throw new UapiError(err.errno, `cannot configure the UDP port: ${err.message}`);
      throw err;
    }

    if (change.privateKey !== undefined) d.setPrivateKey(isZeroKey(change.privateKey) ? null : change.privateKey);
    if (portChanges || markChanges) {
      const onHook = d.onPortConfigChange;
      d.onPortConfigChange = undefined;
      try {
        if (change.listenPort !== undefined) d.listenPort = change.listenPort;
        if (change.fwmark !== undefined) d.fwmark = change.fwmark;
      } finally {
        d.onPortConfigChange = onHook;
      }
      if (newUdp !== null) {
        if (this.port === null) newUdp.close();
        else this.port.replace(newUdp);
      }
    }
    if (change.replacePeers) d.removeAllPeers();

    for (const pc of change.peers) {
      // wireguard-go ignores a peer entry carrying the device's own public key.
      if (d.isOwnPublicKey(pc.publicKey)) continue;
      if (pc.remove) {
        d.removePeer(pc.publicKey);
        continue;
      }
      let peer = d.getPeer(pc.publicKey);
      if (peer === undefined) {
        if (pc.updateOnly) continue;
        peer = d.addPeer(pc.publicKey);
      }
      if (pc.presharedKey !== undefined) d.setPresharedKey(peer, isZeroKey(pc.presharedKey) ? null : pc.presharedKey);
      if (pc.endpoint !== undefined) d.setEndpoint(peer, pc.endpoint);
      if (pc.replaceAllowedIps) d.clearAllowedIps(peer);
      for (const a of pc.allowedIps) {
        if (a.remove) d.removeAllowedIp(peer, a.prefix);
        else d.addAllowedIp(peer, a.prefix);
      }
      // Last, as wireguard-go does: turning it on sends a keepalive to the endpoint just set.
      if (pc.persistentKeepaliveInterval !== undefined) d.setPersistentKeepalive(peer, pc.persistentKeepaliveInterval);
    }
  }

  private checkLimits(change: Device): void {
    const d = this.device;
    let peers = change.replacePeers ? 0 : d.peerCount;
    let allowed = change.replacePeers ? 0 : d.allowedIps.size;
    for (const pc of change.peers) {
      if (!pc.remove && !pc.updateOnly && d.getPeer(pc.publicKey) === undefined) peers++;
      allowed += pc.allowedIps.length;
    }
    if (peers > this.limits.maxPeers) throw new UapiError(UapiErrno.Invalid, `more than ${this.limits.maxPeers} peers`);
    if (allowed > this.limits.maxAllowedIps) throw new UapiError(UapiErrno.Invalid, `more than ${this.limits.maxAllowedIps} allowed IPs`);
    // A prefix another plane routes cannot become an allowed IP: refuse the whole change.
    for (const pc of change.peers) {
      for (const a of pc.allowedIps) {
        const other = a.remove ? null : d.allowedIpConflict(a.prefix);
        if (other !== null) throw new UapiError(UapiErrno.Invalid, `allowed IP ${formatPrefix(a.prefix)} is already routed to ${other}`);
      }
    }
  }
}
