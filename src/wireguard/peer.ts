import { ENDPOINT_STRIDE, decodeEndpoint, encodeEndpoint, type Endpoint } from '../io/endpoint.js';
import { DropCounters } from '../stats/drop-reasons.js';
import { KEY_SIZE } from './constants.js';
import { CookieGenerator } from './cookie.js';
import { isZero } from './crypto.js';
import { IndexEntry, Keypairs } from './keypair.js';
import { Handshake, type StaticIdentity } from './handshake.js';
import { StagedQueue } from './staged-queue.js';
import { PeerTimers } from './timers.js';

/** Optional structured logger (pino-compatible subset). Control path only; never given key material. */
export interface DeviceLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  child?(bindings: Record<string, unknown>): DeviceLogger;
}

/**
 * One remote WireGuard peer (wireguard-go peer.go): its static key, handshake and cookie
 * state, endpoint, keypairs, staged packets, counters and timers. The device owns peers
 * and drives everything; a Peer holds state and does no I/O. Settings that need the device
 * (endpoint, allowed IPs, keepalive) go through WgDevice's config methods.
 */
export class Peer {
  readonly publicKey: Uint8Array;
  /** Lower-case hex of the public key: the device's map key and the UAPI form. */
  readonly publicKeyHex: string;
  readonly handshake: Handshake;
  readonly cookieGenerator: CookieGenerator;
  /** Index-table entry naming this peer's handshake in progress. */
  readonly handshakeEntry: IndexEntry;
  /** Where to send: an endpoint record (src/io/endpoint.ts); family byte 0 = none. */
  readonly endpoint = new Uint8Array(ENDPOINT_STRIDE);
  /** Seconds; 0 = off. Set through WgDevice.setPersistentKeepalive. */
  persistentKeepaliveInterval = 0;
  readonly keypairs = new Keypairs();
  readonly staged: StagedQueue;
  readonly timers = new PeerTimers();
  /** Bytes received and sent on the wire (datagram sizes), as `wg show` reports transfer. */
  rxBytes = 0;
  txBytes = 0;
  /** Wall-clock ms of the last completed handshake (either role); 0 = never. */
  lastHandshakeWallMs = 0;
  /** This peer's drops by reason; made on its first drop, so quiet peers cost nothing. */
  drops: DropCounters | null = null;
  log: DeviceLogger | undefined;

  constructor(publicKey: Uint8Array, identity: StaticIdentity, stagedQueueSize?: number) {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_SIZE) throw new RangeError(`peer public key must be ${KEY_SIZE} bytes`);
    this.publicKey = Uint8Array.from(publicKey);
    this.publicKeyHex = Buffer.from(this.publicKey).toString('hex');
    this.handshake = new Handshake(identity, this.publicKey, null);
    this.cookieGenerator = new CookieGenerator(this.publicKey);
    this.handshakeEntry = new IndexEntry(this, null);
    this.staged = new StagedQueue(stagedQueueSize);
  }

  countDrop(reason: number, n = 1): void {
    (this.drops ??= new DropCounters()).count(reason, n);
  }

  /** The preshared key, or null when none (all zero). A copy. */
  get presharedKey(): Uint8Array | null {
    return isZero(this.handshake.presharedKey) ? null : Uint8Array.from(this.handshake.presharedKey);
  }

  /** Sets (or with null clears) the preshared key; used from the next handshake on. */
  setPresharedKey(psk: Uint8Array | null): void {
    this.handshake.setPresharedKey(psk !== null && isZero(psk) ? null : psk);
  }

  /** The current endpoint, decoded; null when none. Control path. */
  getEndpoint(): Endpoint | null {
    return decodeEndpoint(this.endpoint, 0);
  }

  /** Sets or clears the endpoint. Control path (WgDevice.setEndpoint calls it). */
  setEndpoint(ep: Endpoint | null): void {
    if (ep === null) this.endpoint.fill(0);
    else encodeEndpoint(ep, this.endpoint, 0);
  }

  get hasEndpoint(): boolean {
    return this.endpoint[0] !== 0;
  }

  toString(): string {
    // wireguard-go prints "peer(abcd…wxyz)" from the base64 key; the key is public.
    const b64 = Buffer.from(this.publicKey).toString('base64');
    return `peer(${b64.slice(0, 4)}…${b64.slice(39, 43)})`;
  }
}
