/**
 * The configuration half of the WireGuard device, what UAPI sets (wireguard-go's
 * uapi.go and device.go setters): the private key, the listen port and fwmark, the peers
 * and their keys, endpoints, keepalives and allowed IPs. An allowed IP is claimed in the
 * datapath's route table as well as in the device's own trie.
 */
import { ErrorCode, FerryError } from '../errors.js';
import type { Endpoint } from '../io/endpoint.js';
import { type IpPrefix, parsePrefix } from './allowed-ips.js';
import { KEY_SIZE, REKEY_TIMEOUT_MS } from './constants.js';
import { deriveMacKeys } from './cookie.js';
import { newPrivateKey } from './crypto.js';
import { WgDeviceCore, keyHex } from './device-core.js';
import type { PortConfigHook } from './device-options.js';
import { createStaticIdentity, type StaticIdentity } from './handshake.js';
import { removeHandshakeIndex } from './handshake-path.js';
import { Peer } from './peer.js';
import { sendKeepalive } from './send.js';

function checkKey(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_SIZE) throw new FerryError(ErrorCode.InvalidArgument, `${what} must be ${KEY_SIZE} bytes`);
}

function isAllZero(a: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc |= a[i];
  return acc === 0;
}

function toPrefix(p: IpPrefix | string): IpPrefix {
  return typeof p === 'string' ? parsePrefix(p) : p;
}

export class WgDeviceConfig extends WgDeviceCore {
  /** Called when listenPort or fwmark is set: the daemon opens the UDP port and gives it to the datapath. */
  onPortConfigChange: PortConfigHook | undefined;
  /** Peers' handshakes need an identity object; this stands in while the device has no key. */
  private placeholder: StaticIdentity | null = null;
  private listenPortValue = 0;
  private fwmarkValue = 0;

  // ---------------------------------------------------------------- identity

  /** Our private key (clamped, a copy), or null. */
  getPrivateKey(): Uint8Array | null {
    return this.identityValue === null ? null : Uint8Array.from(this.identityValue.privateKey);
  }

  get publicKey(): Uint8Array | null {
    return this.identityValue === null ? null : Uint8Array.from(this.identityValue.publicKey);
  }

  /**
   * Sets the private key (null or all zero: none), as UAPI private_key= does (wireguard-go
   * SetPrivateKey): a peer with our new public key is removed, every handshake restarts
   * under the new identity, and current sessions stop sending (they rekey at once).
   */
  setPrivateKey(key: Uint8Array | null): void {
    if (key !== null) checkKey(key, 'private key');
    const next = key === null || isAllZero(key) ? null : createStaticIdentity(key);
    const cur = this.identityValue;
    if (next === null ? cur === null : cur !== null && Buffer.compare(cur.privateKey, next.privateKey) === 0) return;
    if (next !== null) {
      const self = this.peersByKey.get(keyHex(next.publicKey));
      if (self !== undefined) this.removePeer(self);
    }
    this.identityValue = next;
    this.cookieChecker.setKeys(next !== null ? next : deriveMacKeys(new Uint8Array(KEY_SIZE)));
    const now = this.now();
    for (const peer of this.peersByKey.values()) {
      removeHandshakeIndex(this, peer);
      peer.handshake.setIdentity(next ?? this.placeholderIdentity());
      peer.timers.lastSentHandshake = now - (REKEY_TIMEOUT_MS + 1000);
      peer.keypairs.expireForSending();
    }
  }

  private placeholderIdentity(): StaticIdentity {
    if (this.placeholder === null) {
      const k = new Uint8Array(KEY_SIZE);
      newPrivateKey(k);
      this.placeholder = createStaticIdentity(k);
      k.fill(0);
    }
    return this.placeholder;
  }

  // ---------------------------------------------------------------- port settings

  /** The bound listen port (the datapath's port for this plane), or the one asked for. */
  get listenPort(): number {
    const bound = this.ioValue?.localPort ?? 0;
    return bound !== 0 ? bound : this.listenPortValue;
  }

  set listenPort(port: number) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FerryError(ErrorCode.InvalidArgument, `listen port must be 0..65535, got ${port}`);
    if (port === this.listenPortValue) return;
    this.listenPortValue = port;
    this.onPortConfigChange?.('listenPort', port);
  }

  get fwmark(): number {
    return this.fwmarkValue;
  }

  set fwmark(mark: number) {
    if (!Number.isInteger(mark) || mark < 0 || mark > 0xffff_ffff) throw new FerryError(ErrorCode.InvalidArgument, `fwmark must be a u32, got ${mark}`);
    if (mark === this.fwmarkValue) return;
    this.fwmarkValue = mark;
    this.onPortConfigChange?.('fwmark', mark);
  }

  // ---------------------------------------------------------------- peers

  /** The peer with this public key, created if new (UAPI public_key=). Throws for our own key. */
  addPeer(publicKey: Uint8Array): Peer {
    checkKey(publicKey, 'peer public key');
    const hex = keyHex(publicKey);
    const existing = this.peersByKey.get(hex);
    if (existing !== undefined) return existing;
    if (this.isOwnPublicKey(publicKey)) throw new FerryError(ErrorCode.InvalidArgument, 'a peer cannot have the interface\'s own public key');
    const peer = new Peer(publicKey, this.identityValue ?? this.placeholderIdentity(), this.stagedQueueSize);
    peer.log = this.logger?.child?.({ peer: peer.toString() }) ?? this.logger;
    this.peersByKey.set(hex, peer);
    if (this.up) peer.timers.start(this.now());
    return peer;
  }

  getPeer(publicKey: Uint8Array): Peer | undefined {
    return publicKey.length === KEY_SIZE ? this.peersByKey.get(keyHex(publicKey)) : undefined;
  }

  /** Peers in insertion order (what wg show lists). */
  getPeers(): Peer[] {
    return [...this.peersByKey.values()];
  }

  get peerCount(): number {
    return this.peersByKey.size;
  }

  isOwnPublicKey(publicKey: Uint8Array): boolean {
    return this.identityValue !== null && Buffer.compare(this.identityValue.publicKey, publicKey) === 0;
  }

  /** Removes a peer (UAPI remove=true): its keys, handshake, staged packets, allowed IPs and routes go. */
  removePeer(peerOrKey: Peer | Uint8Array): boolean {
    const peer = peerOrKey instanceof Peer ? peerOrKey : this.getPeer(peerOrKey);
    if (peer === undefined || this.peersByKey.get(peer.publicKeyHex) !== peer) return false;
    peer.timers.stop();
    this.zeroAndFlushAll(peer);
    this.allowedIps.removeByPeer(peer);
    this.ioValue?.releaseRoutes(peer);
    this.peersByKey.delete(peer.publicKeyHex);
    return true;
  }

  /** UAPI replace_peers=true. */
  removeAllPeers(): void {
    for (const peer of [...this.peersByKey.values()]) this.removePeer(peer);
  }

  setPresharedKey(peer: Peer, psk: Uint8Array | null): void {
    if (psk !== null) checkKey(psk, 'preshared key');
    peer.setPresharedKey(psk);
  }

  setEndpoint(peer: Peer, endpoint: Endpoint | null): void {
    peer.setEndpoint(endpoint);
  }

  /**
   * Seconds between keepalives when nothing else is sent; 0 = off. Turning it on while up
   * sends one at once (wireguard-go's UAPI does, so a NATed peer is reachable right away).
   */
  setPersistentKeepalive(peer: Peer, seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 65535) throw new FerryError(ErrorCode.InvalidArgument, `persistent keepalive must be 0..65535 seconds, got ${seconds}`);
    const old = peer.persistentKeepaliveInterval;
    peer.persistentKeepaliveInterval = seconds;
    if (old === 0 && seconds > 0 && this.up && this.ioValue !== null) {
      this.batchNow = this.now();
      sendKeepalive(this, peer, this.batchNow);
      this.ioValue.flush();
    }
  }

  /**
   * Another plane holding exactly this prefix in the route table, or null. A whole UAPI
   * change is checked with it before anything is applied.
   */
  allowedIpConflict(prefix: IpPrefix | string): string | null {
    return this.ioValue?.routeConflict(toPrefix(prefix)) ?? null;
  }

  /** Gives prefix to peer (taking it from another peer), in the trie and the route table. */
  addAllowedIp(peer: Peer, prefix: IpPrefix | string): void {
    const p = toPrefix(prefix);
    const io = this.ioValue;
    const other = io?.routeConflict(p) ?? null;
    if (other !== null) throw new FerryError(ErrorCode.RouteConflict, `allowed IP ${typeof prefix === 'string' ? prefix : `${p.cidr}`} is routed to ${other}`);
    this.allowedIps.insert(p.bytes, p.cidr, peer);
    io?.claimRoute(p, peer);
  }

  removeAllowedIp(peer: Peer, prefix: IpPrefix | string): boolean {
    const p = toPrefix(prefix);
    if (!this.allowedIps.remove(p.bytes, p.cidr, peer)) return false;
    this.ioValue?.releaseRoute(p, peer);
    return true;
  }

  /** UAPI replace_allowed_ips=true; returns how many were removed. */
  clearAllowedIps(peer: Peer): number {
    this.ioValue?.releaseRoutes(peer);
    return this.allowedIps.removeByPeer(peer);
  }

  allowedIpsOf(peer: Peer): IpPrefix[] {
    return this.allowedIps.entriesForPeer(peer);
  }
}
